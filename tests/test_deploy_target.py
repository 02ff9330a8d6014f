"""A recommendation deploys as simulated: `optimize --target routeros` searches plans RouterOS
can express (one quantum per leaf), and a RouterOS export of a plan that splits spare capacity
by quantum is refused unless forced, the difference then written in the script's header."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.shaping.plan import MIN_QUANTUM
from tests.conftest import ROOT

WORKDAY = ROOT / "scenarios" / "small-workday.toml"
# small-workday with a narrow search: one policy, one seed, purchases 10-150 Mbit/s, no growth
OPTIMIZE = """
[optimize]
policies = ["htb-weighted"]
seeds = 1
confirm_seeds = 1
growth_seeds = 1
min_mbps = 10
max_mbps = 150
step_mbps = 20
growth = []
sensitivity = false
"""


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def _htb_weighted_recommendation(folder: Path) -> Path:
    """A recommendation.json carrying small-workday's htb-weighted plan, simulated for tc."""
    plan_json = folder / "plan.json"
    assert _invoke("export", str(WORKDAY), "-f", "json", "-o", str(plan_json)).exit_code == 0
    path = folder / "recommendation.json"
    plan = json.loads(plan_json.read_text())
    path.write_text(json.dumps({"feasible": True, "policy": plan["policy"], "plan": plan}))
    return path


def test_a_tc_plan_weighted_by_quantum_is_refused_for_routeros(tmp_path: Path) -> None:
    recommendation = _htb_weighted_recommendation(tmp_path)
    script = tmp_path / "plan.rsc"
    refused = _invoke("export", str(recommendation), "-f", "mikrotik", "-o", str(script))
    assert refused.exit_code == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0].startswith("netlab: error: --format mikrotik: the plan was simulated for")
    assert "quantum" in lines[0] and "--target routeros" in lines[0] and "--force" in lines[0]
    assert not script.exists()
    # the refusal is RouterOS's alone: the same plan exports to tc
    assert _invoke("export", str(recommendation), "-f", "tc").exit_code == 0


def test_force_writes_the_difference_into_the_header(tmp_path: Path) -> None:
    recommendation = _htb_weighted_recommendation(tmp_path)
    script = tmp_path / "plan.rsc"
    forced = _invoke("export", str(recommendation), "-f", "mikrotik", "-o", str(script), "--force")
    assert forced.exit_code == 0, forced.output
    header = [line for line in script.read_text().splitlines() if line.startswith("#")]
    warnings = [line for line in header if line.startswith("# WARNING:") and "quantum" in line]
    # htb-weighted weights both directions' leaves (one priority) by users through quanta: the
    # header names the plan's own smallest and largest leaf quantum
    plan = json.loads(recommendation.read_text())["plan"]
    quanta = [c["quantum"] for c in plan["down"] if c.get("site")]
    assert len(warnings) == 2
    assert (
        f"downloads at priority 1 are weighted by quantum ({min(quanta)}..{max(quanta)} bytes)"
        in warnings[0]
    )
    assert "uploads at priority 1 are weighted by quantum" in warnings[1]


@pytest.fixture(scope="module")
def routeros_run(tmp_path_factory) -> Path:
    """`netlab optimize --target routeros` on small-workday with a narrow grid: its run folder."""
    folder = tmp_path_factory.mktemp("target")
    scenario = folder / "small-workday.toml"
    text = WORKDAY.read_text().replace('"../topologies/', f'"{(ROOT / "topologies").as_posix()}/')
    scenario.write_text(text + OPTIMIZE)
    runs = folder / "runs"
    done = _invoke(
        "optimize", str(scenario), "--target", "routeros", "-w", "1", "-q", "-o", str(runs)
    )
    assert done.exit_code == 0, done.output
    assert "simulated for" in done.stdout and "RouterOS (MikroTik)" in done.stdout
    (run,) = runs.iterdir()
    return run


def test_optimize_for_routeros_answers_with_a_plan_routeros_deploys(routeros_run: Path) -> None:
    data = json.loads((routeros_run / "recommendation.json").read_text())
    assert data["target"] == "routeros" and data["policy"] == "htb-weighted"
    # RouterOS picks the quantum itself: every site leaf gets the same one
    for direction in ("down", "up"):
        leaves = [c for c in data["plan"][direction] if c.get("site")]
        assert len(leaves) == 8
        assert {c["quantum"] for c in leaves} == {MIN_QUANTUM}
    topology = str(ROOT / "topologies" / "small.toml")  # its addresses: no placeholders
    exported = _invoke("export", str(routeros_run), "-f", "mikrotik", "-t", topology)
    assert exported.exit_code == 0, exported.output
    header = [line for line in exported.stdout.splitlines() if line.startswith("#")]
    # the one warning left is the topology's: Seranau (reached by LTE) has no subnet in it
    caveats = [line for line in header if "WARNING" in line and "PLACEHOLDERS" not in line]
    assert caveats == [] and "quantum (" not in exported.stdout
    assert "Simulated for RouterOS" in (routeros_run / "recommendation.html").read_text()


def test_the_target_is_an_option_with_did_you_mean(tmp_path: Path) -> None:
    bad = _invoke("optimize", str(WORKDAY), "--target", "routerso", "-o", str(tmp_path))
    assert bad.exit_code == 2
    assert "--target routerso" in bad.stderr and "did you mean routeros?" in bad.stderr
