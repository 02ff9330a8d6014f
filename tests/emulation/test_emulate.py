"""End to end: a short window of example-small on Mininet, against the fluid model.

The window 15:59:45+30s crosses the schedule's 16:00 switch from htb-priority to htb-weighted,
so the plan is rebuilt live on the hub halfway through.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.backends.mininet.cleanup import check_environment
from sim.backends.mininet.info import EmulationInfo
from sim.model.scenario import load_scenario
from sim.studies.emulate import parse_window, validate

pytestmark = pytest.mark.emulation

REPO = Path(__file__).resolve().parents[2]


def test_parse_window():
    assert parse_window("09:00+5m") == (32400.0, 300.0)
    assert parse_window("15:59:45+30s") == (57585.0, 30.0)
    with pytest.raises(ValueError):
        parse_window("9am+5m")


def test_example_small_window_against_fluid():
    scenario = load_scenario(REPO / "scenarios" / "example-small.toml")
    start, length = parse_window("15:59:45+30s")
    result = validate(scenario, start, length, interval_s=5)
    kernel, fluid = result.kernel, result.fluid
    assert kernel.backend == "mininet"
    assert kernel.wire_bytes["down"].shape == fluid.wire_bytes["down"].shape == (6, 8)
    info = kernel.emulation
    assert info is not None and kernel.window is not None
    emulated = info.emulated
    netem = check_environment()["netem"]
    assert emulated.delay is netem  # link delay exactly where the kernel has netem
    assert ("latency emulated with netem" in emulated.note) is netem
    assert emulated.htb_shaping and emulated.access_links and not emulated.loss
    assert not emulated.upstream_link and "upstream link is the hub's root" in emulated.note
    assert info.tcp_congestion_control == "cubic"
    assert info.bring_up_s < 30 and info.tear_down_s is not None and info.tear_down_s < 30
    assert info.tc_rebuilds is not None and info.tc_rebuilds["down"] == 2  # the 16:00 switch
    assert EmulationInfo.from_json(info.to_json()) == info
    assert set(kernel.plan_index) == {0, 1}
    assert kernel.flows and all(f.status != "active" for f in kernel.flows)
    assert all(math.isfinite(f.end) and f.end >= f.start for f in kernel.flows)
    fluid_total = sum(r.fluid_bps for r in result.rows)
    kernel_total = sum(r.kernel_bps for r in result.rows)
    print(
        {
            r.site + "/" + r.direction: (round(r.fluid_bps / 1e6, 2), round(r.kernel_bps / 1e6, 2))
            for r in result.rows
            if r.fluid_bps or r.kernel_bps
        }
    )
    assert fluid_total > 0
    assert kernel_total == pytest.approx(fluid_total, rel=0.25)
