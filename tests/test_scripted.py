"""The scripted load on the fluid backend, against the allocator, and the pairing of changes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.model.scenario import load_scenario
from sim.shaping.control import Change
from sim.shaping.htb import CompiledTree
from sim.studies.scripted import Burst, _pair, run_scripted
from tests.conftest import ROOT


def test_greedy_bursts_get_the_allocators_split_and_stop_at_their_end():
    scenario = load_scenario(ROOT / "scenarios" / "example-small.toml").with_policy("htb-weighted")
    script = [Burst("setda", "down", 0, 20), Burst("disdik", "down", 0, 10)]
    record = run_scripted(scenario, script, 9 * 3600, 30, 5.0)
    tree = record.schedule.plans[record.plan_index[0]].tree("down")
    access = {s.id: s.access_bps for s in scenario.sites}
    busy = {"setda", "disdik"}
    alloc = CompiledTree(tree, access).allocate(
        [math.inf if c.site in busy else 0.0 for c in tree.classes]
    )
    want = {c.site: a for c, a in zip(tree.classes, alloc, strict=True) if c.site}
    rates = record.wire_bytes["down"] * 8 / 5.0
    setda, disdik = record.site_ids.index("setda"), record.site_ids.index("disdik")
    assert rates[0, setda] == pytest.approx(want["setda"], rel=1e-6)
    assert rates[0, disdik] == pytest.approx(want["disdik"], rel=1e-6)
    assert rates[2, setda] == pytest.approx(min(access["setda"], tree.root.rate), rel=1e-6)
    assert rates[2, disdik] == 0.0  # given up at 10 s
    assert np.all(rates[4:] == 0.0) and np.all(record.wire_bytes["up"] == 0.0)


def change(time: float, site: str, new: float = 1.0) -> Change:
    return Change(time, "c", "down", site, "rate", 0.0, new, "")


def test_changes_pair_with_the_nearest_twin_within_the_interval():
    fluid = [change(5, "a"), change(10, "a"), change(10, "b")]
    kernel = [change(10, "a"), change(5.5, "a"), change(25, "b"), change(5, "c")]
    paired, only_fluid, only_kernel = _pair(fluid, kernel, within_s=5.0)
    assert [(f.time, k.time) for f, k in paired] == [(5, 5.5), (10, 10)]
    assert only_fluid == [fluid[2]]  # b's twin is 15 s away
    assert {k.class_id for k in only_kernel} == {"b", "c"}
