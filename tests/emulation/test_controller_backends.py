"""A live controller on both backends under one scripted load (sim.studies.scripted).

example-small under htb-weighted, with demand-following every 5 s deciding from bytes alone
(`use_demand = false`: the kernel cannot tell demand). Sites go greedy and idle on a schedule,
downloads on some sites and uploads on others: a site greedy both ways at once slows its own
uploads' ACKs in its download queue, which TCP feels and the fluid model does not. The
controller must make the same changes in the kernel as in the fluid backend (each within one
interval of its twin, the new guarantee within 1 % of the root; a change only where the
guarantee would move by 30 %, so that no decision hangs on the last per cent of a reading),
and every leaf's goodput in every 5 s sample within 3 % of the root. The kernel keeps
delivering what a leaf's FIFO holds after its burst ends (200 ms of its ceiling: 1.25 MB at
50 Mbit/s, about 2 % of the root over 5 s), the largest error expected.
"""

from __future__ import annotations

import pytest

from sim.model.scenario import load_scenario
from sim.shaping.policies import root_bps
from sim.studies.scripted import Burst, compare_scripted, run_scripted
from tests.conftest import ROOT

pytestmark = pytest.mark.emulation

INTERVAL_S = 5.0
TOLERANCE = 0.03  # of the root's rate, per leaf and sample interval
SCRIPT = [
    Burst("setda", "down", 0, 60),
    Burst("disdik", "down", 0, 60),
    Burst("ikon_jelawat", "down", 0, 30),
    Burst("dinsos", "down", 20, 60),
    Burst("kec_baamang", "up", 0, 60),
    Burst("dpupr", "up", 30, 60),
    Burst("taman_kota", "up", 0, 45),
]


def controlled():
    scenario = load_scenario(ROOT / "scenarios" / "example-small.toml").with_policy("htb-weighted")
    data = scenario.spec.model_dump()
    # min_change 0.3: no guarantee the script moves comes within 6.8 points of the threshold in
    # the fluid run (at 0.1 one sat 0.03 points from it, and the kernel's 2 % read tipped it)
    params = {"use_demand": False, "smoothing": 1.0, "hold_s": 10.0, "min_change": 0.3}
    data["controller"] = {"name": "demand-following", "interval": INTERVAL_S, "params": params}
    return scenario.edited(data)


def test_controller_decides_the_same_in_the_kernel_as_in_the_fluid_model():
    scenario = controlled()
    fluid = run_scripted(scenario, SCRIPT, 9 * 3600, 60, INTERVAL_S)
    kernel = run_scripted(scenario, SCRIPT, 9 * 3600, 60, INTERVAL_S, kernel=True)
    result = compare_scripted(fluid, kernel, within_s=INTERVAL_S)
    assert len(fluid.control or []) >= 20  # the script makes the controller work
    assert not result.only_fluid and not result.only_kernel, (result.only_fluid, result.only_kernel)
    root = root_bps(scenario)
    for ours, theirs in result.paired:
        assert abs(ours.time - theirs.time) <= INTERVAL_S
        assert abs(ours.new - theirs.new) <= 0.01 * root, (ours, theirs)
    worst = result.worst()
    print(
        f"worst: {worst.site} {worst.direction} in interval {worst.interval}, kernel "
        f"{worst.kernel_bps / 1e6:.2f} against {worst.fluid_bps / 1e6:.2f} Mbit/s "
        f"({worst.error:+.2%} of the root)"
    )
    assert abs(worst.error) <= TOLERANCE, worst
    assert not kernel.warnings, kernel.warnings
