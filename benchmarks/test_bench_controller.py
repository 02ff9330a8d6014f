"""What a live controller costs the regency's day: demand-following called every 10 s.

Run: .venv/bin/pytest benchmarks/test_bench_controller.py --benchmark-only. The same day is
timed without a controller and with one (8,640 calls, each reading every leaf, deciding and,
when it moves a guarantee, applying the plan), alternating round by round in the same run;
the figure is the ratio of the medians, which the issue's target holds to at most 1.10.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from sim.model.scenario import load_scenario
from sim.run import run_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "kotim-baseline.toml"
ROUNDS = 3


def test_controller_every_10s_against_none(benchmark) -> None:
    plain = load_scenario(BASELINE)
    data = plain.spec.model_dump()
    data["controller"] = {"name": "demand-following", "interval": 10.0}
    controlled = plain.edited(data)
    times: dict[str, list[float]] = {"none": [], "controller": []}

    def both() -> None:
        for label, scenario in (("none", plain), ("controller", controlled)):
            began = time.perf_counter()
            record = run_scenario(scenario)
            times[label].append(time.perf_counter() - began)
            if label == "controller":
                benchmark.extra_info["changes"] = len(record.control or [])

    benchmark.pedantic(both, rounds=ROUNDS, iterations=1)
    ratio = statistics.median(times["controller"]) / statistics.median(times["none"])
    benchmark.extra_info.update(none_s=times["none"], controller_s=times["controller"], ratio=ratio)
    print(f"\ncontroller every 10 s / none, same run, median of {ROUNDS}: {ratio:.3f}")
    assert ratio <= 1.10
