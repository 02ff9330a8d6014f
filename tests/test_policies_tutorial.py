"""docs/policies.md as a user follows it: its files written, its commands run, outside netlab.

Every ```LANG PATH block is written to PATH in a fresh folder, every line of a ```console block
is run there (all but `netlab emulate`, which needs root and Mininet), and what the commands
leave behind is checked against the tutorial's own rules, computed by hand."""

from __future__ import annotations

import csv
import json
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from sim.analysis.classfile import read_classes
from tests.conftest import NETLAB, ROOT

DOC = ROOT / "docs" / "policies.md"
BLOCK = re.compile(r"^```(\w+)(?: (\S+))?\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks() -> list[tuple[str, str | None, str]]:
    return [(m.group(1), m.group(2), m.group(3)) for m in BLOCK.finditer(DOC.read_text())]


def test_the_tutorials_policy_and_controller_are_under_40_lines_each() -> None:
    python = {path: text for lang, path, text in blocks() if lang == "python"}
    assert set(python) == {"mylab/essential_first.py", "mylab/busiest_boost.py"}
    assert all(len(text.splitlines()) < 40 for text in python.values())


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Path:
    """The tutorial followed from top to bottom in an empty folder."""
    home = tmp_path_factory.mktemp("tutorial")
    (home / "topologies").symlink_to(ROOT / "topologies")
    for lang, path, text in blocks():
        if path is not None:
            (home / path).parent.mkdir(parents=True, exist_ok=True)
            (home / path).write_text(text)
        elif lang == "console":
            for line in text.splitlines():
                argv = shlex.split(line)
                if argv[0] == "netlab":
                    argv[0] = str(NETLAB)
                result = subprocess.run(argv, cwd=home, capture_output=True, text=True, timeout=300)
                assert result.returncode == 0, f"{line}\n{result.stderr}"
    return home


def run_folder(lab: Path, name: str) -> Path:
    (folder,) = (lab / "mylab" / "runs").glob(f"{name}-*")
    return folder


def test_the_policy_builds_what_it_says(lab: Path) -> None:
    """essential_share 0.25 of the root to the one essential office; the rest of 90 % of the
    root to the others by users; the tc script deploys the same rates."""
    manifest = json.loads((run_folder(lab, "morning") / "manifest.json").read_text())
    leaves = {c["site"]: c for c in manifest["plans"][0]["down"] if c.get("site")}
    root = next(c for c in manifest["plans"][0]["down"] if c["parent"] is None)["rate_bps"]
    sites = tomllib.loads((ROOT / "topologies" / "small.toml").read_text())["sites"]
    users = {s["id"]: s["users"] for s in sites if s["id"] in leaves}
    assert leaves["setda"]["rate_bps"] == pytest.approx(0.25 * root)
    others = {s: u for s, u in users.items() if s != "setda"}
    for site, n in others.items():
        want = min((0.9 - 0.25) * root * n / sum(others.values()), leaves[site]["ceil_bps"])
        assert leaves[site]["rate_bps"] == pytest.approx(want), site
    script = (lab / "mylab" / "morning.sh").read_text()
    assert f"rate {round(leaves['setda']['rate_bps'])}bit" in script


def test_the_controller_boosts_the_site_that_carried_most(lab: Path) -> None:
    """At every change the site the why names carried the most downstream bytes over the last
    5 minutes (the classes file's 1 min rows) and got 3 times its starting guarantee."""
    folder = run_folder(lab, "boosted")
    carried: dict[float, dict[str, float]] = {}
    classes = read_classes(folder, ("time_s", "direction", "site", "allocated_bps"))
    for t, direction, site, allocated in zip(*classes.values(), strict=True):
        if direction == "down" and site:
            carried.setdefault(float(t), {})[str(site)] = float(allocated) * 60 / 8
    with (folder / "controller.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {(r["direction"], r["field"]) for r in rows} == {("down", "rate")}
    manifest = json.loads((folder / "manifest.json").read_text())
    first = {c["site"]: c["rate_bps"] for c in manifest["plans"][0]["down"] if c.get("site")}
    for row in rows:
        t = float(row["time_s"])
        busiest = row["why"].split()[0]
        window = [carried[s] for s in carried if t - 300 <= s < t]
        totals = {site: sum(w[site] for w in window) for site in first}
        assert busiest == max(totals, key=totals.__getitem__), t
        if row["class"] == busiest:
            assert float(row["new"]) == pytest.approx(min(3 * first[busiest], float(row["new"])))
        else:
            assert float(row["new"]) == pytest.approx(first[row["class"]])


def test_the_sweep_ran_every_point_on_two_workers_and_the_comparison_is_drawn(lab: Path) -> None:
    (sweep,) = (lab / "mylab" / "runs").rglob("versus/results.csv")
    with sweep.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 9 and {r["status"] for r in rows} == {"done"}
    by = {(r["policy.name"], r["controller.enabled"], r["seed"]): r for r in rows}
    for seed in ("1", "2", "3"):  # the controller changes what the plug-in policy delivers
        assert by[("plugin", "false", seed)]["jain"] != by[("plugin", "true", seed)]["jain"]
    assert (sweep.parent / "comparison.html").stat().st_size > 10_000


@pytest.mark.emulation
def test_the_plug_ins_run_in_the_kernel(lab: Path) -> None:
    """The tutorial's emulate line, on a 20 s window: the kernel ran the plan the file-defined
    policy built for the fluid run of the same scenario (the essential office at 30 % of the
    root, the policy's default), and the file-defined controller was loaded and started (a
    controller whose file failed would end the run)."""
    result = subprocess.run(
        [str(NETLAB), "emulate", "mylab/boosted.toml", "--window", "08:00+20s"]
        + ["--out", "mylab/emulated"],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (folder,) = (lab / "mylab" / "emulated").glob("boosted-*")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["backend"] == "mininet"
    fluid = json.loads((run_folder(lab, "boosted") / "manifest.json").read_text())
    assert manifest["plans"][0] == fluid["plans"][0]
    down = manifest["plans"][0]["down"]
    root = next(c for c in down if c["parent"] is None)["rate_bps"]
    setda = next(c for c in down if c.get("site") == "setda")
    assert setda["rate_bps"] == pytest.approx(0.3 * root)
