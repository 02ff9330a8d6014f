"""The whole regency on the fluid backend, against a bare SimPy loop of as many events.

Run: make bench (or .venv/bin/pytest benchmarks -k engine --benchmark-only). The engine's
cost is reported as a ratio to the bare loop, measured in the same run, for two event counts:
the steps the day takes now (SimPy events, and the instants at which the backend's deadlines
are served), and ISSUE_EVENTS, the SimPy events the same day took when its speed target was
set (4x that loop). The day now takes fewer steps, so only the second is a fixed yardstick.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from calibration import bare_loop

from sim.backends.fluid import FluidEnvironment
from sim.model.scenario import load_scenario
from sim.run import run_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "kotim-baseline.toml"
TRIAL = ROOT / "scenarios" / "kotim-trial-10d.toml"
EVENTS: dict[str, int] = {}
ISSUE_EVENTS = 619_390  # the day's SimPy events when the target was set: a timeout per
# deadline, a process resumed per transfer


class CountingEnvironment(FluidEnvironment):
    """An Environment that counts its steps (used once, outside the timing): the SimPy events
    and the instants at which the fluid backend's deadlines are served."""

    steps = 0

    def step(self) -> None:
        self.steps += 1
        super().step()


def test_regency_day(benchmark) -> None:
    scenario = load_scenario(BASELINE)
    counting = CountingEnvironment()
    run_scenario(scenario, env=counting)
    EVENTS["day"] = counting.steps
    record = benchmark.pedantic(run_scenario, args=(scenario,), rounds=3, iterations=1)
    benchmark.extra_info.update(events=counting.steps, flows=len(record.flows))


@pytest.mark.parametrize("count", ["day", "issue"])
def test_bare_simpy_same_events(benchmark, count: str) -> None:
    events = EVENTS.get("day") if count == "day" else ISSUE_EVENTS
    if events is None:
        pytest.skip("run together with test_regency_day, which counts the events")
    benchmark.pedantic(bare_loop, args=(events, 2000), rounds=3, iterations=1)  # SimPy's floor
    benchmark.extra_info.update(events=events)


def test_regency_trial_10_days(benchmark) -> None:
    scenario = load_scenario(TRIAL)
    record = benchmark.pedantic(run_scenario, args=(scenario,), rounds=1, iterations=1)
    benchmark.extra_info.update(flows=len(record.flows))


def test_peak_memory_of_the_trial(benchmark) -> None:
    """Peak resident memory (MiB) of a fresh process running the 10-day trial."""
    code = (
        "import resource; from sim.model.scenario import load_scenario; "
        "from sim.run import run_scenario; from sim.analysis.metrics import summarize; "
        f"summarize(run_scenario(load_scenario({str(TRIAL)!r}))); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )

    def measure() -> float:
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        return int(out.stdout.split()[-1]) / 1024

    peak_mib = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(peak_mib=peak_mib)
    assert peak_mib < 1024
