"""The runner leaves Python's cycle collector as it found it (sim/run.py pauses it while a run
simulates, because it finds nothing there and only rescans the live flows)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from sim.model.scenario import load_scenario
from sim.run import run_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "example-small.toml"


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cycle_collector_is_restored(enabled: bool) -> None:
    scenario = load_scenario(SCENARIO).with_run(duration="10m")
    seen: list[bool] = []
    (gc.enable if enabled else gc.disable)()
    try:
        record = run_scenario(scenario, progress=lambda *_: seen.append(gc.isenabled()))
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert record.flows and seen and not any(seen)  # paused while it simulated


def test_the_cycle_collector_is_restored_after_an_error() -> None:
    scenario = load_scenario(SCENARIO).with_run(duration="10m")

    def fail(*_: float) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        run_scenario(scenario, progress=fail)
    assert gc.isenabled()
