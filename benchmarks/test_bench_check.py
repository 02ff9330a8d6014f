"""The benchmark gate's subset (`make bench-check`): the allocator, the engine on the small
and on the regency workload, the optimiser on a small scenario. Each test interleaves the
calibration workload with its rounds (the `calibrated` fixture); the gate compares benchmark /
calibration with the committed baseline (benchmarks/check.py). 15-45 s here.
"""

from __future__ import annotations

import math
from pathlib import Path

from slowdown import slowed
from test_bench_allocator import sixty_classes

from sim.model.scenario import load_scenario
from sim.run import run_scenario
from sim.shaping.htb import CompiledTree
from sim.studies.optimize.recommend import recommend

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "scenarios" / "small-workday.toml"
REGENCY = ROOT / "scenarios" / "kotim-baseline.toml"
PASSES = 200  # allocator passes per round: a round of ~5 ms, well above the timer's grain


def test_check_allocator(calibrated) -> None:
    """Full passes over 60 classes, half the leaves greedy (the figure is 200 passes)."""
    tree, access = sixty_classes()
    compiled = CompiledTree(tree, access)
    demand = [0.0] * len(compiled)
    for site, index in compiled.leaf_of_site.items():
        demand[index] = math.inf if int(site[1:]) % 2 else 20e6

    allocate = slowed(compiled.allocate)  # as it is, unless NETLAB_BENCH_SLOWDOWN is set

    def passes() -> None:
        for _ in range(PASSES):
            allocate(demand)

    calibrated(passes, (), rounds=100)


def test_check_engine_small(calibrated) -> None:
    """The small inventory's working morning (eight sites, 2 h, about 1,600 flows)."""
    record = calibrated(run_scenario, (load_scenario(SMALL),), rounds=40)
    calibrated.extra_info["flows"] = len(record.flows)


def test_check_engine_regency(calibrated) -> None:
    """The regency's busy morning (08:00-08:30 of its first working day, 46 sites, about
    6,000 flows): short rounds, each paired with the calibration just before it."""
    scenario = load_scenario(REGENCY).with_window().with_run(duration=1800, sample_interval=60)
    record = calibrated(run_scenario, (scenario,), rounds=20)
    calibrated.extra_info["flows"] = len(record.flows)


def test_check_optimiser_small(calibrated) -> None:
    """`recommend` on the small workday, one policy, in one worker process (20 rounds: each
    starts its worker, the noisiest of the four, so its median needs more of them)."""
    data = load_scenario(SMALL).spec.model_dump()
    data["optimize"].update(
        policies=["htb-weighted"], seeds=1, confirm_seeds=1, growth=[], growth_seeds=1
    )
    scenario = load_scenario(SMALL).edited(data)
    answer = calibrated(recommend, (scenario, 1), rounds=20)
    calibrated.extra_info["mbps"] = answer.mbps
