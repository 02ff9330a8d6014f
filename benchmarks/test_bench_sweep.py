"""Sweep overhead and scaling with workers, and the optimiser on the regency's scenario.

Run: make bench (or .venv/bin/pytest benchmarks -k "sweep or optimiser" --benchmark-only).
Sweep overhead is wall time x workers against the summed runtimes of the runs, measured in
the same call; the speed-up compares 1 and 2 workers on the same sweep in the same run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from sim.model.scenario import load_scenario
from sim.studies.optimize.recommend import recommend
from sim.studies.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "scenarios" / "sweeps" / "bench-purchase.toml"
WALL: dict[int, float] = {}


def fresh_sweep(workers: int) -> float:
    """Run the whole sweep from scratch; return its wall time and record its overhead."""
    root = Path(tempfile.mkdtemp(prefix="netlab-bench-"))
    try:
        result = run_sweep(load_sweep(SWEEP), workers=workers, out_root=root)
    finally:
        shutil.rmtree(root)
    assert result.failed == 0
    WALL[workers] = result.wall_s
    return result.wall_s * workers / result.run_s - 1.0


@pytest.mark.parametrize("workers", [1, 2])
def test_sweep_overhead(benchmark, workers: int) -> None:
    overhead = benchmark.pedantic(fresh_sweep, args=(workers,), rounds=1, iterations=1)
    benchmark.extra_info.update(overhead=overhead, wall_s=WALL[workers])
    if workers == 1:
        assert overhead <= 0.05  # one worker: the sweep machinery costs at most 5 %
    else:
        speedup = WALL[1] / WALL[2]
        benchmark.extra_info.update(speedup=speedup)
        assert speedup >= 1.8


@pytest.mark.parametrize("sensitivity", [True, False])
def test_optimiser_on_the_regency(benchmark, sensitivity: bool) -> None:
    """The baseline as shipped (sensitivity searches on), and without the six sensitivity
    searches: the optimiser's work when its 30 s target was set."""
    scenario = load_scenario(ROOT / "scenarios" / "kotim-baseline.toml")
    if not sensitivity:
        data = scenario.spec.model_dump()
        data["optimize"]["sensitivity"] = False
        scenario = scenario.edited(data)
    answer = benchmark.pedantic(recommend, args=(scenario,), rounds=1, iterations=1)
    benchmark.extra_info.update(mbps=answer.mbps, policy=answer.policy)
    assert answer.feasible
