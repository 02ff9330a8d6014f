"""The runner leaves Python's cycle collector as it found it (sim/run.py pauses it while a run
simulates, because it finds nothing there and only rescans the live flows)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from sim.model.scenario import load_scenario
from sim.run import run_scenario
from sim.shaping.schedule import compile_schedule

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


def test_a_plan_override_stays_in_force_whatever_the_schedule_says() -> None:
    """`plan` (the gate's plan files) is the only plan of the run, across the schedule's
    07:30 switch; the scenario's own plan as the override runs exactly as the policy does."""
    scenario = load_scenario(SCENARIO).with_run(duration="2h")  # 06:00 to 08:00
    assert len(run_scenario(scenario).plans) == 2
    fixed = compile_schedule(scenario).otherwise
    record = run_scenario(scenario, plan=fixed)
    assert record.plans == [fixed] and not record.plan_index.any()
    static = scenario.with_policy("htb-weighted")
    own = compile_schedule(static).otherwise
    policy, override = run_scenario(static), run_scenario(static, plan=own)
    assert [f.delivered for f in override.flows] == [f.delivered for f in policy.flows]
