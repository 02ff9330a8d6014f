"""Sweeps: resume after a kill, failures recorded, executors agree, bad sweep files rejected."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.studies.sweep import load_sweep, run_sweep
from tests.conftest import ROOT

BASE = f"""
[scenario]
name = "sweep-base"
topology = "{ROOT / "topologies" / "tiny.toml"}"
start = 2022-02-01T08:30:00
duration = "30m"

[purchase]
upstream_mbps = 40

[policy]
name = "htb-weighted"
"""
GRID = """
"purchase.upstream_mbps" = [20, 40, 60]
"policy.name" = ["equal-static"]
"""


def write_sweep(
    folder: Path, grid: str = GRID, sweep: str = "seeds = 2", scenario: str = "base.toml"
) -> Path:
    """A sweep over the tiny topology (30 minutes a run) beside its base scenario."""
    (folder / "base.toml").write_text(BASE)
    path = folder / "sweep.toml"
    path.write_text(f'[sweep]\nname = "t"\nscenario = "{scenario}"\n{sweep}\n[sweep.grid]{grid}')
    return path


def index_rows(out_root: Path) -> list[tuple[str, int, str]]:
    path = out_root / "sweeps" / "t" / "index.sqlite"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return db.execute("SELECT point_hash, seed, status FROM runs").fetchall()


def committed(out_root: Path) -> bool:
    """Whether the sweep's index exists and holds a result yet."""
    try:
        return bool(index_rows(out_root))
    except sqlite3.OperationalError:  # no file or no table yet
        return False


def test_killed_sweep_resumes_to_the_same_table(tmp_path: Path) -> None:
    path = write_sweep(tmp_path)
    whole = run_sweep(path, workers=2, out_root=tmp_path / "whole")
    assert (whole.ran, whole.failed, len(whole.rows)) == (6, 0, 6)

    # The first result is committed, then the parent stalls in its progress callback while
    # the workers carry on: SIGKILL to the whole process group, as a terminal would.
    root = tmp_path / "killed"
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from sim.studies.sweep import run_sweep
        stall = lambda done, total: time.sleep(60) if done else None
        run_sweep({str(path)!r}, workers=2, out_root=Path({str(root)!r}), progress=stall)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not committed(root):
            assert child.poll() is None and time.monotonic() < deadline, "sweep never started"
            time.sleep(0.02)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    before = index_rows(root)
    assert 1 <= len(before) < 6

    resumed = run_sweep(path, workers=2, out_root=root)
    assert (resumed.skipped, resumed.ran) == (len(before), 6 - len(before))
    assert resumed.csv_path.read_bytes() == whole.csv_path.read_bytes()
    assert resumed.parquet_path is not None
    after = index_rows(root)
    assert len(after) == len({(h, s) for h, s, _ in after}) == 6
    assert all(status == "done" for _, _, status in after)

    again = run_sweep(path, workers=2, out_root=root)
    assert again.ran == 0 and again.csv_path.read_bytes() == whole.csv_path.read_bytes()


def test_failed_run_is_recorded_and_the_rest_finish(tmp_path: Path) -> None:
    # Input errors are caught before anything runs, so break one point after validation:
    # a negative purchase makes its runs fail inside the workers.
    sweep = load_sweep(write_sweep(tmp_path))
    bad = sweep.points[1]
    purchase = bad.scenario.spec.purchase.model_copy(update={"upstream_mbps": -1.0})
    spec = bad.scenario.spec.model_copy(update={"purchase": purchase})
    points = list(sweep.points)
    points[1] = replace(bad, scenario=replace(bad.scenario, spec=spec))
    result = run_sweep(replace(sweep, points=points), workers=2, out_root=tmp_path)
    assert [(row["point"], row["status"]) for row in result.rows] == [
        (0, "done"),
        (0, "done"),
        (1, "failed"),
        (1, "failed"),
        (2, "done"),
        (2, "done"),
    ]
    assert result.failed == 2
    for row in result.rows[2:4]:
        assert row["error"] and "\n" not in row["error"] and row["satisfaction"] is None
    lines = result.csv_path.read_text().splitlines()
    assert len(lines) == 7 and sum(",failed," in line for line in lines) == 2
    # the next start tries the failed runs again and skips the done ones
    assert run_sweep(replace(sweep, points=points), workers=1, out_root=tmp_path).ran == 2


def test_local_pool_and_dask_give_the_same_table(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    path = write_sweep(tmp_path)
    local = run_sweep(path, workers=2, out_root=tmp_path / "local")
    dask = run_sweep(path, workers=2, dask="local", out_root=tmp_path / "dask")
    assert dask.ran == local.ran == 6
    assert dask.csv_path.read_bytes() == local.csv_path.read_bytes()


def test_zip_mode_and_seed_list(tmp_path: Path) -> None:
    grid = '\n"purchase.upstream_mbps" = [20, 60]\n"policy.name" = ["equal-static", "max-min"]\n'
    sweep = load_sweep(write_sweep(tmp_path, grid=grid, sweep='mode = "zip"\nseeds = [7, 3]'))
    assert [p.values for p in sweep.points] == [
        {"purchase.upstream_mbps": 20, "policy.name": "equal-static"},
        {"purchase.upstream_mbps": 60, "policy.name": "max-min"},
    ]
    assert sweep.seeds == [7, 3]
    assert len({p.hash for p in sweep.points}) == 2


@pytest.mark.parametrize("name", ["tiny-policies", "kotim-purchase"])
def test_example_sweeps_load(name: str) -> None:
    sweep = load_sweep(ROOT / "scenarios" / "sweeps" / f"{name}.toml")
    assert sweep.name == name and sweep.points and sweep.seeds


@pytest.mark.parametrize(
    ("sweep", "grid", "key", "problem"),
    [
        ("seeds = 2\nseed = 3", GRID, "sweep.seed", "unknown key"),
        ("seeds = 0", GRID, "sweep.seeds", "at least 1"),
        ("seeds = 2", "\n", "sweep.grid", "at least one key"),
        ("seeds = 2", '\n"policy.name" = []\n', 'sweep.grid."policy.name"', "at least one"),
        ("seeds = 2", '\n"policy.name" = "max-min"\n', 'sweep.grid."policy.name"', "a list"),
        (
            "seeds = 2",
            '\n"purchase.upstrem_mbps" = [10]\n',
            'sweep.grid."purchase.upstrem_mbps"',
            "unknown key",
        ),
        ("seeds = 2", '\n"policy.name" = ["nope"]\n', 'sweep.grid."policy.name"', "'nope'"),
        ("seeds = 2", '\n"connect.nowhere" = ["lte"]\n', 'sweep.grid."connect.nowhere"', "site"),
        (
            "seeds = 2",
            '\n"policy.sites.hotspot.rate_mbps" = [5, 500]\n',
            'sweep.grid."policy.sites.hotspot.rate_mbps"',
            "500",
        ),
        ("seeds = 2", '\n"scenario.seed" = [1, 2]\n', 'sweep.grid."scenario.seed"', "seeds"),
        (
            'mode = "zip"',
            '\n"purchase.upstream_mbps" = [1, 2]\n"policy.name" = ["max-min"]\n',
            'sweep.grid."policy.name"',
            "zip",
        ),
    ],
)
def test_bad_sweep_file_names_file_and_key(
    tmp_path: Path, sweep: str, grid: str, key: str, problem: str
) -> None:
    path = write_sweep(tmp_path, grid=grid, sweep=sweep)
    with pytest.raises(ConfigError) as caught:
        run_sweep(path, out_root=tmp_path / "out")
    error = caught.value
    assert (error.path, error.key) == (str(path), key)
    assert problem in error.problem and "\n" not in str(error)
    assert not (tmp_path / "out").exists()


def test_missing_scenario_is_blamed_on_the_sweep_key(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, scenario="other.toml")
    with pytest.raises(ConfigError) as caught:
        load_sweep(path)
    assert caught.value.key == "sweep.scenario"
    assert "other.toml: file not found" in caught.value.problem


def test_grid_keys_become_the_scenarios_typed_changes(tmp_path: Path) -> None:
    grid = (
        '\n"policy.name" = ["htb-weighted", "htb-equal"]\n"purchase.upstream_mbps" = [20]\n'
        '"demand.growth" = [1.5]\n"scenario.sample_interval" = ["5m"]\n'
    )
    path = write_sweep(tmp_path, grid=grid)
    base_path = tmp_path / "base.toml"
    base_path.write_text(
        BASE.replace('name = "htb-weighted"', 'name = "htb-weighted"\nguaranteed_share = 0.5')
    )
    sweep = load_sweep(path)
    base = load_scenario(base_path)
    for point, policy in zip(sweep.points, ["htb-weighted", "htb-equal"], strict=True):
        expected = (
            base.with_policy(policy)
            .with_purchase(20)
            .with_growth(1.5)
            .with_run(sample_interval=300.0)
        )
        assert point.scenario.spec == expected.spec
    # the file's own policy keeps its parameters; another starts from its defaults
    shares = [p.scenario.spec.policy.guaranteed_share for p in sweep.points]
    assert shares == [0.5, 0.9]
