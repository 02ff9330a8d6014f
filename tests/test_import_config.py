"""`netlab import-config` through the real command, and the `deployed` policy it writes: the
files load, the plan in force is the file's, bad input writes nothing, values stay inert."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.shaping.planfile import load_plan_file
from sim.shaping.schedule import compile_schedule
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data" / "configs"
CASES = {
    "routeros": (["simple.rsc"], []),
    "tc": (["script.sh"], ["--set", "UPLINK=50mbit"]),
    "libreqos": (["network.json", "ShapedDevices.csv"], []),
}


def _import(netlab, out: Path, fmt: str, files: list[Path], *extra: str):
    return netlab("import-config", *map(str, files), "-f", fmt, "--out", str(out), *extra)


@pytest.mark.parametrize("fmt", CASES)
def test_each_format_imports_and_runs(netlab, tmp_path: Path, fmt: str) -> None:
    names, extra = CASES[fmt]
    out = tmp_path / "imported"
    result = _import(netlab, out, fmt, [DATA / n for n in names], *extra)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["plan.json", "scenario.toml", "topology.toml"]
    scenario = load_scenario(out / "scenario.toml")
    plan = compile_schedule(scenario).otherwise
    written = load_plan_file(out / "plan.json")
    ids = [s.id for s in scenario.sites]
    assert scenario.spec.policy.name == "deployed"
    for direction in ("down", "up"):  # the plan in force is the file's, class for class
        assert plan.tree(direction).classes == written.tree(direction).classes
        assert sorted(c.site for c in plan.tree(direction).leaves) == sorted(ids)
    assert scenario.upstream_bps == max(written.down.root.ceil, written.up.root.ceil)
    assert all("imported from" in s.note for s in scenario.sites)
    for warning in result.stderr.splitlines():  # every warning is also in the scenario
        text = warning.removeprefix("warning: ")
        assert f"#   - {text}" in (out / "scenario.toml").read_text()
    run = netlab("run", str(out / "scenario.toml"), "--duration", "1h", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith(scenario.name + "-")]
    summary = json.loads((folder / "summary.json").read_text())
    assert sorted(s["id"] for s in summary["sites"]) == sorted(ids)


def test_routeros_figures_reach_the_topology_and_plan(netlab, tmp_path: Path) -> None:
    """simple.rsc by hand: 'Kantor "Pusat"' has limit-at 5M/10M, max-limit 20M/50M (upload/
    download from the target's side), two networks; the parent ALL holds 100M/200M."""
    out = tmp_path / "x"
    assert _import(netlab, out, "routeros", [DATA / "simple.rsc"]).returncode == 0
    scenario = load_scenario(out / "scenario.toml")
    site = scenario.topology.site("kantor_pusat")
    assert site.name == 'Kantor "Pusat"' and site.kind == "office" and site.users == 10
    assert [str(n) for n in site.subnets] == ["10.1.0.0/24", "10.1.1.0/24"]
    assert site.access_mbps == 50.0  # its largest ceiling, assumed
    plan = compile_schedule(scenario).otherwise
    leaf = next(c for c in plan.down.leaves if c.site == "kantor_pusat")
    assert (leaf.rate, leaf.ceil) == (10e6, 50e6)
    up = next(c for c in plan.up.leaves if c.site == "kantor_pusat")
    assert (up.rate, up.ceil) == (5e6, 20e6)
    assert scenario.spec.purchase.upstream_mbps == 200.0
    topology = (out / "topology.toml").read_text()
    assert topology.count("# assumed:") == 3 * len(scenario.sites)


def test_kinds_come_only_from_the_users_mapping(netlab, tmp_path: Path) -> None:
    kinds = tmp_path / "kinds.toml"
    kinds.write_text('"sek*" = "hotspot"\n"kantor*" = "subdistrict"\n"nothing*" = "office"\n')
    out = tmp_path / "x"
    result = _import(netlab, out, "routeros", [DATA / "simple.rsc"], "--kinds", str(kinds))
    assert result.returncode == 0, result.stderr
    scenario = load_scenario(out / "scenario.toml")
    assert {s.id: s.kind for s in scenario.sites} == {
        "kantor_pusat": "subdistrict",
        "sekolah": "hotspot",
        "overlap": "office",
    }
    assert "'nothing*' matches no imported site" in result.stderr
    kinds.write_text('"sek*" = "school"\n')
    bad = _import(netlab, tmp_path / "y", "routeros", [DATA / "simple.rsc"], "--kinds", str(kinds))
    assert bad.returncode == 2 and not (tmp_path / "y").exists()
    assert bad.stderr.count("\n") == 1 and "sek*: 'school' is not a site kind" in bad.stderr


def test_bad_input_is_one_line_and_writes_nothing(netlab, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "er" / "x"
    result = _import(netlab, out, "routeros", [DATA / "expression.rsc"])
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"{DATA / 'expression.rsc'}: line " in result.stderr
    assert not (tmp_path / "deep").exists()
    unset = _import(netlab, out, "tc", [DATA / "script.sh"])  # ${UPLINK} without --set
    assert unset.returncode == 2 and "UPLINK" in unset.stderr and not (tmp_path / "deep").exists()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    busy = _import(netlab, taken, "routeros", [DATA / "simple.rsc"])
    assert busy.returncode == 2 and "not empty" in busy.stderr
    assert [p.name for p in taken.iterdir()] == ["mine.txt"]
    for option in (["--set", "1X=2"], ["--name", "Bad Name"], ["-f", "cisco"]):
        args = ["-f", "routeros", *option] if option[0] != "-f" else option
        bad = netlab("import-config", str(DATA / "simple.rsc"), *args, "--out", str(out))
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert not (tmp_path / "deep").exists()


def test_names_from_files_stay_values(netlab, tmp_path: Path) -> None:
    """A queue name that would close the string and open a table stays the site's name."""
    evil = 'x\\"\\n[evil]\\nname = \\"y'  # RouterOS's escapes for a quote and a newline
    rsc = tmp_path / "evil.rsc"
    rsc.write_text(
        "/queue simple\n"
        f'add name="{evil}" target=10.0.0.0/24 max-limit=5M/10M\n'
        'add name="$(touch pwned)" target=10.0.1.0/24 max-limit=5M/10M\n'
    )
    out = tmp_path / "x"
    result = netlab("import-config", str(rsc), "-f", "routeros", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = [s.name for s in load_scenario(out / "scenario.toml").sites]
    assert names == ['x"\n[evil]\nname = "y', "$(touch pwned)"]
    assert "[evil]" not in (out / "topology.toml").read_text().splitlines()
    assert not (tmp_path / "pwned").exists()


def _deployed(tmp_path: Path, netlab) -> Path:
    out = tmp_path / "x"
    assert _import(netlab, out, "routeros", [DATA / "simple.rsc"]).returncode == 0
    return out


def test_deployed_plan_must_fit_the_scenario(netlab, tmp_path: Path) -> None:
    out = _deployed(tmp_path, netlab)
    scenario = load_scenario(out / "scenario.toml")
    with pytest.raises(ConfigError, match="policy.plan: plan.json's down root ceiling \\(200 "):
        compile_schedule(scenario.with_purchase(150))
    assert compile_schedule(scenario.with_purchase(400)).otherwise.down.root.ceil == 200e6
    plan = json.loads((out / "plan.json").read_text())
    plan["up"] = [c for c in plan["up"] if c.get("site") != "sekolah"]
    (out / "plan.json").write_text(json.dumps(plan))
    with pytest.raises(ConfigError, match="plan.json: up: plan's sites differ .* \\(-sekolah\\)"):
        compile_schedule(scenario)
    with pytest.raises(ConfigError, match="optimize.policies: .*'deployed' is the plan in force"):
        data = scenario.spec.model_dump()
        data["optimize"]["policies"] = ["deployed"]
        scenario.edited(data)
    with pytest.raises(ConfigError, match="policy 'deployed' needs plan"):
        load_scenario(ROOT / "scenarios" / "example-small.toml").with_policy("deployed")


def test_compare_and_gate_take_the_deployed_policy(netlab, tmp_path: Path) -> None:
    out = _deployed(tmp_path, netlab)
    sweep = out / "policies.toml"
    sweep.write_text(
        '[sweep]\nname = "imported-policies"\nscenario = "scenario.toml"\nseeds = 2\n'
        '[sweep.set]\n"scenario.start" = 2022-02-02T09:00:00\n"scenario.duration" = "1h"\n'
        '[sweep.grid]\n"policy.name" = ["deployed", "htb-weighted"]\n'
    )
    compared = netlab("compare", str(sweep), "--out", str(tmp_path / "res"), "-q")
    assert compared.returncode == 0, compared.stderr
    folder = tmp_path / "res" / "sweeps" / "imported-policies"
    rows = (folder / "results.csv").read_text().splitlines()[1:]
    assert (
        sum(",deployed," in r for r in rows) == 2 and sum(",htb-weighted," in r for r in rows) == 2
    )
    assert "deployed" in compared.stdout and (folder / "comparison.html").exists()
    shutil.copy(out / "scenario.toml", out / "same.toml")
    gate = netlab(
        "gate", str(out / "scenario.toml"), str(out / "same.toml"), "--seeds", "2",
        "--window", "09:00+30m",
    )  # fmt: skip
    assert gate.returncode == 0, gate.stdout + gate.stderr


def test_a_calibrated_copy_elsewhere_still_finds_the_plan(netlab, tmp_path: Path) -> None:
    from sim.studies.calibrated_file import calibrated_text

    out = _deployed(tmp_path, netlab)
    scenario = load_scenario(out / "scenario.toml")
    target = tmp_path / "elsewhere" / "calibrated.toml"
    target.parent.mkdir()
    target.write_text(calibrated_text(out / "scenario.toml", scenario, target))
    assert 'plan = "../x/plan.json"' in target.read_text()
    moved = compile_schedule(load_scenario(target)).otherwise
    assert moved == compile_schedule(scenario).otherwise
