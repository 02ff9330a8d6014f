"""Live controllers on the fluid backend: what they observe, what they may install, failures."""

from __future__ import annotations

import csv
import math
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis.classfile import read_classes
from sim.model.scenario import load_scenario
from sim.run import ControllerFailed, run_scenario
from sim.shaping.control import LeafStates, Observation, Reading, Readings
from sim.shaping.controllers import ControlLoop
from sim.shaping.demand_following import MIN_RATE_BPS, DemandFollowing, DemandFollowingParams
from sim.shaping.plan import DIRECTIONS, ClassTree, HtbClass, ShapingPlan, finalize
from sim.shaping.policies import root_bps
from sim.shaping.schedule import compile_schedule
from tests.conftest import ROOT

CONTROLLERS = '''
from sim.shaping.control import Controller, Decision, with_leaf_rates

SEEN = []


class Recorder(Controller):
    """Keeps every observation; at 30 min gives setda 3 Mbit/s of guarantee downstream."""

    name = "recorder"

    def decide(self, seen):
        SEEN.append(seen)
        if seen.time == 1800:
            plan = with_leaf_rates(seen.plan, {"down": {"setda": 3e6}}, seen.plan.policy)
            return Decision(plan, "half past")
        return None


class Invalid(Controller):
    name = "invalid"

    def decide(self, seen):
        if seen.time >= 1200:
            return with_leaf_rates(seen.plan, {"up": {"setda": -1.0}}, "bad")
        return None


class Boom(Controller):
    name = "boom"

    def decide(self, seen):
        if seen.time >= 900:
            raise ValueError("out of ideas")
'''


def scenario_file(folder: Path, controller: str, interval: str = "5m") -> Path:
    (folder / "ctl.py").write_text(CONTROLLERS)
    text = (ROOT / "scenarios" / "small-workday.toml").read_text()
    text = text.replace('"../topologies/', f'"{ROOT}/topologies/')
    path = folder / "c.toml"
    path.write_text(f'{text}\n[controller]\n{controller}\ninterval = "{interval}"\n')
    return path


def test_observations_are_the_counters_of_each_interval_and_changes_are_kept(
    tmp_path: Path,
) -> None:
    """Each reading is the leaf's bytes over the controller's interval: with a 5 min interval
    over 1 min samples, the sum of five sampled rows (exact up to float rounding)."""
    scenario = load_scenario(scenario_file(tmp_path, 'plugin = "ctl.py:Recorder"'))
    record = run_scenario(scenario)
    seen = plugin_module(tmp_path / "ctl.py").SEEN
    assert [o.time for o in seen] == [300.0 * k for k in range(1, 24)]
    sites = record.site_ids
    for o in seen:
        assert o.interval == 300.0
        rows = slice(int(o.time // 60) - 5, int(o.time // 60))
        for d in DIRECTIONS:
            want = record.wire_bytes[d][rows].sum(axis=0)
            got = np.array([o.classes[d][s].bytes for s in sites])
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-3)
            assert all(
                o.classes[d][s].drops == 0 and o.classes[d][s].backlog is None for s in sites
            )
            demand = [o.classes[d][s].demand_bps for s in sites]
            assert all(
                x is not None and 0 <= x <= a.access_bps
                for x, a in zip(demand, record.scenario.sites, strict=True)
            )
    before = seen[5].plan.down.by_id("setda").rate  # the call at 30 min saw the old plan
    assert seen[6].plan.down.by_id("setda").rate == 3e6 != before
    assert [(c.time, c.direction, c.class_id, c.field, c.new, c.why) for c in record.control] == [
        (1800.0, "down", "setda", "rate", 3e6, "half past")
    ]
    assert record.control[0].old == before


def plugin_module(path: Path):
    return next(
        m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == str(path.resolve())
    )


def test_an_invalid_plan_ends_the_run_keeping_what_was_measured(tmp_path: Path) -> None:
    scenario = load_scenario(scenario_file(tmp_path, 'plugin = "ctl.py:Invalid"'))
    with pytest.raises(ControllerFailed) as caught:
        run_scenario(scenario)
    line = str(caught.value)
    assert "controller: controller ctl.py:Invalid answered an invalid plan" in line
    assert "need 0 < rate <= ceil" in line and "at simulated 1200 s, 2022-02-01 08:20:00" in line
    assert len(caught.value.record.times) == 20  # the 1 min samples up to 20 min
    assert caught.value.record.control == []


def test_a_raising_controller_is_one_line_and_the_folder_keeps_the_measurements(
    tmp_path: Path, netlab
) -> None:
    path = scenario_file(tmp_path, 'plugin = "ctl.py:Boom"')
    result = netlab("run", str(path), "-q", "--out", str(tmp_path / "runs"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ValueError: out of ideas (at simulated 900 s" in lines[0], lines
    (folder,) = (tmp_path / "runs").iterdir()
    assert str(folder) in lines[0]
    assert (
        read_classes(folder, ["time_s"])["time_s"].max() == 840.0
    )  # the interval that began at 14 min is the last
    assert (folder / "controller.csv").read_text().count("\n") == 1  # its header alone


def test_the_shipped_controller_writes_controller_csv_and_the_report_draws_it(
    tmp_path: Path, netlab
) -> None:
    path = scenario_file(tmp_path, 'name = "demand-following"')
    result = netlab("run", str(path), "-q", "--out", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    with (folder / "controller.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {r["field"] for r in rows} == {"rate"}
    assert {float(r["time_s"]) % 300 for r in rows} == {0.0}
    html = (folder / "report.html").read_text()
    assert "<h2>Controller</h2>" in html and "Guarantees set by the controller (downloads)" in html


def _observation(plan, rates: dict[str, float], seconds: float = 60.0) -> Observation:
    readings = {
        d: {s: Reading(r * seconds / 8, 0, None, None) for s, r in rates.items()}
        for d in DIRECTIONS
    }
    return Observation(seconds, None, seconds, plan, readings)  # type: ignore[arg-type]


SCENARIO = load_scenario(ROOT / "scenarios" / "small-workday.toml").with_policy("htb-priority")
PLAN = compile_schedule(SCENARIO).otherwise


@settings(max_examples=60, deadline=None)
@given(
    uses=st.lists(
        st.lists(st.floats(0, 200e6), min_size=len(SCENARIO.sites), max_size=len(SCENARIO.sites)),
        min_size=1,
        max_size=6,
    ),
    max_step=st.floats(0.05, 2.0),
)
def test_demand_following_keeps_budgets_floors_and_step_limits(uses, max_step) -> None:
    """Whatever the use: siblings never share more than they started with (beyond what the
    floors force), essential offices keep their starting guarantee, nobody moves by more than
    the factor 1 + max_step in a call, and every guarantee stays positive and within its ceil."""
    params = DemandFollowingParams(max_step=max_step)
    controller = DemandFollowing()
    controller.start(params, SCENARIO.sites, root_bps(SCENARIO), PLAN)
    plan = PLAN
    essential = {s.id for s in SCENARIO.sites if s.essential}
    for use in uses:
        answer = controller.decide(
            _observation(plan, dict(zip([s.id for s in SCENARIO.sites], use, strict=True)))
        )
        if answer is None:
            continue
        for d in DIRECTIONS:
            old, new = plan.tree(d), answer.plan.tree(d)
            for c in new.leaves:
                before = old.by_id(c.id).rate
                assert MIN_RATE_BPS <= c.rate <= c.ceil
                assert (
                    before / (1 + max_step) * (1 - 1e-9)
                    <= c.rate
                    <= before * (1 + max_step) * (1 + 1e-9)
                )
                if c.site in essential:
                    assert c.rate >= min(PLAN.tree(d).by_id(c.id).rate, before) * (1 - 1e-9)
            for parent in {c.parent for c in new.leaves}:
                start = sum(c.rate for c in PLAN.tree(d).leaves if c.parent == parent)
                floors = sum(
                    PLAN.tree(d).by_id(c.id).rate * (1.0 if c.site in essential else 0.25)
                    for c in new.leaves
                    if c.parent == parent
                )
                now = sum(c.rate for c in new.leaves if c.parent == parent)
                prev = sum(c.rate for c in old.leaves if c.parent == parent)
                assert now <= max(start, floors, prev) * (1 + max_step) * (1 + 1e-9)
        plan = answer.plan


def test_readings_are_columns_read_by_site_as_a_dict_of_readings() -> None:
    """The loop hands a controller columns; by site they are the Readings a dict would hold,
    and a dict of Readings (as a hand-made Observation has) turns into the same columns."""
    readings = Readings(("a", "b"), [10.0, 0.0], [1, 0], [None, 5.0], [2e6, None])
    expected = {"a": Reading(10.0, 1, None, 2e6), "b": Reading(0.0, 0, 5.0, None)}
    assert list(readings) == ["a", "b"] and len(readings) == 2
    assert dict(readings.items()) == expected and readings == expected
    assert readings["b"].backlog == 5.0 and "c" not in readings
    again = Readings.of(expected)
    assert (again.sites, again.bytes, again.drops, again.backlog, again.demand_bps) == (
        ("a", "b"),
        [10.0, 0.0],
        [1, 0],
        [None, 5.0],
        [2e6, None],
    )
    assert Readings.of(readings) is readings


def test_with_rate_is_replace_of_the_rate_whatever_the_fields() -> None:
    """Every field of HtbClass set away from its default: with_rate keeps all but the rate."""
    c = HtbClass("x", "root", 1e6, 2e6, 3, 4_000, "x", 5e5)
    assert {f.name for f in fields(HtbClass)} == {
        "id",
        "parent",
        "rate",
        "ceil",
        "prio",
        "quantum",
        "site",
        "per_user_bps",
    }  # a new field must be carried by with_rate too
    assert c.with_rate(1.5e6) == replace(c, rate=1.5e6) != c


def _verdict_in_full(loop: ControlLoop, plan: ShapingPlan) -> str:
    """The check as it was before it looked only at changed classes: every class, every time."""
    access = {site.id: site.access_bps for site in loop.scenario.sites}
    for direction in DIRECTIONS:
        old, new = loop.plan.tree(direction), plan.tree(direction)
        shape = [(c.id, c.parent, c.site) for c in new.classes]
        if shape != [(c.id, c.parent, c.site) for c in old.classes]:
            return f"{direction}: its classes differ from the plan in force"
        if new.root.ceil > root_bps(loop.scenario) * (1 + 1e-9):
            return f"{direction}: root ceil above the purchase"
        if any(not math.isfinite(c.rate) or not math.isfinite(c.ceil) for c in new.classes):
            return f"{direction}: a rate is not finite"
        caps = [c.per_user_bps for c in new.classes if c.per_user_bps is not None]
        if any(not 0 < cap < math.inf for cap in caps):
            return f"{direction}: a per-user cap is not a positive finite rate"
        try:
            finalize(list(new.classes), access, f"{loop.label} {direction}")
        except ValueError as exc:
            return str(exc)
    return ""


FIGURES = st.one_of(
    st.floats(-1e6, 1e9), st.sampled_from([0.0, math.inf, -math.inf, math.nan, 1e12])
)


@settings(max_examples=200, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(DIRECTIONS),
            st.integers(0, 999),
            st.sampled_from(["rate", "ceil", "per_user_bps"]),
            FIGURES,
        ),
        max_size=4,
    ),
    drop=st.booleans(),
)
def test_a_plan_checked_in_its_changed_classes_gets_the_verdict_of_a_full_check(
    edits, drop
) -> None:
    """Against the plan in force that passed the check, a plan is checked only in the classes
    that are not the very same; its verdict, word for word, is that of checking every class
    (and with nothing checked yet, every class is checked)."""
    data = SCENARIO.spec.model_dump()
    data["controller"] = {"name": "demand-following", "interval": 60.0}
    trees = {d: list(PLAN.tree(d).classes) for d in DIRECTIONS}
    for direction, index, name, value in edits:
        classes = trees[direction]
        i = index % len(classes)
        classes[i] = replace(classes[i], **{name: value})
    if drop:
        trees["up"].pop()
    plan = ShapingPlan("x", ClassTree(tuple(trees["down"])), ClassTree(tuple(trees["up"])))
    for checked in (True, False):
        loop = ControlLoop(SCENARIO.edited(data), PLAN)
        loop.checked = {d: PLAN.tree(d) for d in DIRECTIONS} if checked else {}
        assert loop._invalid(plan) == _verdict_in_full(loop, plan)


def test_the_kernel_backends_reading_is_its_counters_as_columns_scaled_without_demand() -> None:
    """MininetBackend.leaf_states (no root needed: its shaper stood in for) puts every site in
    the spec's order, a site the tree does not shape at zero, the backlog where tc shows one."""
    from types import SimpleNamespace

    from sim.backends.mininet.backend import MininetBackend
    from sim.backends.mininet.shaper import Counters

    counters = {"a": Counters(8000, 10, 2), "c": Counters(400, 1, 0)}
    shaper = SimpleNamespace(leaf_readings=lambda: (counters, {"a": 1500.0, "c": None}))
    sites = [SimpleNamespace(id=s) for s in ("a", "b", "c")]
    stub = SimpleNamespace(shapers={"down": shaper}, spec=SimpleNamespace(sites=sites), scale=4.0)
    got = MininetBackend.leaf_states(stub, "down")  # type: ignore[arg-type]
    assert (got.sites, list(got.bytes), list(got.drops)) == (
        ("a", "b", "c"),
        [2000.0, 0.0, 100.0],
        [2, 0, 0],
    )
    assert list(got.backlog) == [1500.0, None, None] and list(got.demand_bps) == [None] * 3


def test_demand_following_decides_alike_from_columns_and_from_a_dict_of_readings() -> None:
    """The kernel test hands decide() a dict of Readings, the loop hands it columns: the same
    figures give the same plans, call after call."""
    sites = [s.id for s in SCENARIO.sites]
    rng = np.random.default_rng(7)
    controllers = [DemandFollowing(), DemandFollowing()]
    for c in controllers:
        c.start(DemandFollowingParams(hold_s=0.0), SCENARIO.sites, root_bps(SCENARIO), PLAN)
    plans, decided = [PLAN, PLAN], 0
    for call in range(1, 6):
        rows = {
            d: {
                s: Reading(float(b), 0, None, float(w))
                for s, b, w in zip(sites, *rng.random((2, len(sites))) * 1e7, strict=True)
            }
            for d in DIRECTIONS
        }
        columns = {d: Readings.of(rows[d]) for d in DIRECTIONS}
        answers = [
            controller.decide(Observation(60.0 * call, SCENARIO.start, 60.0, plan, seen))
            for controller, plan, seen in zip(controllers, plans, (rows, columns), strict=True)
        ]
        assert answers[0] == answers[1]
        decided += answers[0] is not None
        plans = [a.plan if a is not None else p for a, p in zip(answers, plans, strict=True)]
    assert decided >= 3  # the uses move: most calls change guarantees


def test_readings_between_two_reads_are_their_differences() -> None:
    """Bytes and drops are differenced when read; a backend that hands the same drops column
    every time (the fluid one drops nothing) reads as zeros."""
    fixed = (0, 0)
    before = LeafStates(("a", "b"), [100.0, 50.0], fixed, (None, None), [1e6, None])
    after = LeafStates(("a", "b"), [160.0, 50.0], fixed, (None, 3.0), [2e6, None])
    readings = Readings.between(before, after)
    assert list(readings.bytes) == [60.0, 0.0] and list(readings.drops) == [0, 0]
    assert readings["b"] == Reading(0.0, 0, 3.0, None)
    counted = LeafStates(("a", "b"), [160.0, 50.0], [4, 1], (None, None), [None, None])
    dropped = Readings.between(
        LeafStates(("a", "b"), [0.0, 0.0], [1, 1], (None, None), [None, None]), counted
    )
    assert list(dropped.drops) == [3, 0]
