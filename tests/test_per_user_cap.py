"""Per-user caps (a leaf's `per_user_bps`, RouterOS PCQ's pcq-rate) in the fluid backend,
against hand computation: each user has one flow at a time in a direction, so each flow of a
capped leaf is held to the cap, and the leaf carries min(its HTB allocation, n x cap)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.backends.fluid import FluidBackend, FluidEnvironment
from sim.model.flow import Flow
from sim.shaping.export import export
from sim.shaping.htb import CompiledTree
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan
from sim.shaping.planfile import PlanError, plan_from_dict
from sim.shaping.tc import compile_device

OVERHEAD = 1514 / 1448
MBIT = 1e6
BIG = 1e12  # goodput bytes: no flow finishes within the tests' windows


def _plan(cap: float | None, a_rate: float = 10 * MBIT, a_ceil: float = 10 * MBIT) -> ShapingPlan:
    """Root 100 Mbit/s; leaf a (the capped one) and leaf b (rate 1, borrows up to the root)."""
    root = HtbClass("root", None, 100 * MBIT, 100 * MBIT)
    a = HtbClass("a", "root", a_rate, a_ceil, 0, 100_000, "a", cap)
    b = HtbClass("b", "root", 1 * MBIT, 100 * MBIT, 0, 100_000, "b")
    tree = ClassTree((root, a, b))
    return ShapingPlan("test", tree, tree)


def _backend(plan: ShapingPlan) -> tuple[FluidEnvironment, FluidBackend]:
    env = FluidEnvironment()
    backend = FluidBackend(env, {"a": 1e12, "b": 1e12}, OVERHEAD)
    backend.apply_plan(plan)
    return env, backend


def _greedy(backend: FluidBackend, site: str, n: int, start_id: int = 0) -> list[Flow]:
    flows = [Flow(start_id + i, site, "bulk", "down", 0.0, size=BIG) for i in range(n)]
    for flow in flows:
        backend.transfer(flow)
    return flows


def _l2_mbps(flow: Flow, seconds: float) -> float:
    """A flow's mean L2 rate so far, from its delivered goodput (read after finish())."""
    return flow.delivered * OVERHEAD * 8 / seconds / MBIT


@pytest.mark.parametrize(("n", "each", "total"), [(3, 2.0, 6.0), (8, 1.25, 10.0)])
def test_greedy_flows_are_held_to_the_cap_and_b_takes_the_rest(
    n: int, each: float, total: float
) -> None:
    """Leaf a: rate = ceil = 10, cap 2 Mbit/s. Three users take 2 each (6; b borrows the other
    94 of the root); eight users would want 16, so the leaf's 10 is split 1.25 each."""
    env, backend = _backend(_plan(2 * MBIT))
    flows = _greedy(backend, "a", n)
    _greedy(backend, "b", 1, start_id=100)
    env.run(until=4.0)
    leaf = backend.leaf_bytes("down")
    assert leaf["a"] * 8 / 4.0 / MBIT == pytest.approx(total, rel=1e-9)
    assert leaf["b"] * 8 / 4.0 / MBIT == pytest.approx(100 - total, rel=1e-9)
    backend.finish()
    for flow in flows:
        assert _l2_mbps(flow, 4.0) == pytest.approx(each, rel=1e-9)


def test_without_a_cap_three_flows_share_the_whole_leaf() -> None:
    env, backend = _backend(_plan(None))
    flows = _greedy(backend, "a", 3)
    env.run(until=2.0)
    backend.finish()
    assert [_l2_mbps(f, 2.0) for f in flows] == pytest.approx([10 / 3] * 3, rel=1e-9)


def test_paced_flows_below_the_cap_keep_their_rate_above_it_are_cut() -> None:
    """A 1 Mbit/s call under a 2 Mbit/s cap is untouched (at its rate all along); a 3 Mbit/s
    one gets 2 on the wire and is never at its rate."""
    env, backend = _backend(_plan(2 * MBIT))
    low = Flow(1, "a", "call", "down", 0.0, size=1e6 * 10 / 8, rate=1e6, duration=10.0)
    high = Flow(2, "a", "video", "down", 0.0, size=3e6 * 10 / 8, rate=3e6, duration=10.0)
    backend.transfer(low)
    backend.transfer(high)
    env.run(until=11.0)
    assert (low.status, high.status) == ("done", "done")
    assert low.delivered == pytest.approx(low.size, rel=1e-9)
    assert low.time_at_rate == pytest.approx(10.0)
    assert _l2_mbps(high, 10.0) == pytest.approx(2.0, rel=1e-9)
    assert high.time_at_rate == 0.0


def test_a_plan_switch_regroups_flows_and_keeps_their_bytes() -> None:
    """Cap 2 for 1 s (3 flows at 2), then no cap for 1 s (3 flows at 10/3), then cap 1:
    every flow has 2/8 + (10/3)/8 + 1/8 MB on the wire after 3 s; the leaf counted it all."""
    env, backend = _backend(_plan(2 * MBIT))
    flows = _greedy(backend, "a", 3)
    env.run(until=1.0)
    backend.apply_plan(_plan(None))
    env.run(until=2.0)
    backend.apply_plan(_plan(1 * MBIT))
    env.run(until=3.0)
    backend.finish()
    want = (2 + 10 / 3 + 1) / 3.0
    for flow in flows:
        assert _l2_mbps(flow, 3.0) == pytest.approx(want, rel=1e-9)
    assert backend.leaf_bytes("down")["a"] * 8 / MBIT == pytest.approx(3 * want * 3.0)


def test_a_finite_flow_under_the_cap_finishes_when_the_cap_says() -> None:
    """2.5 MB of goodput at 2 Mbit/s on the wire: 10 x OVERHEAD seconds, alone in the leaf."""
    env, backend = _backend(_plan(2 * MBIT))
    flow = Flow(1, "a", "bulk", "down", 0.0, size=2.5e6)
    backend.transfer(flow)
    env.run()
    assert flow.status == "done"
    assert flow.end == pytest.approx(2.5e6 * 8 * OVERHEAD / 2e6, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    cap=st.floats(0.2, 30.0),
    a_rate=st.floats(0.5, 40.0),
    a_ceil_extra=st.floats(0.0, 60.0),
    b_busy=st.booleans(),
)
def test_no_flow_exceeds_the_cap_and_the_leaf_is_work_conserving(
    n: int, cap: float, a_rate: float, a_ceil_extra: float, b_busy: bool
) -> None:
    """Whatever the tree gives leaf a: no flow above the cap, and a carries exactly
    min(its allocation with unbounded demand, n x cap), by the allocator (sim.shaping.htb)."""
    a_ceil = min(a_rate + a_ceil_extra, 100.0)
    plan = _plan(cap * MBIT, a_rate * MBIT, a_ceil * MBIT)
    env, backend = _backend(plan)
    flows = _greedy(backend, "a", n)
    if b_busy:
        _greedy(backend, "b", 1, start_id=100)
    env.run(until=1.0)
    tree = CompiledTree(plan.down, {"a": 1e12, "b": 1e12})
    demand = [0.0] * len(tree)
    demand[tree.leaf_of_site["a"]] = math.inf
    demand[tree.leaf_of_site["b"]] = math.inf if b_busy else 0.0
    unbounded = tree.allocate(demand)[tree.leaf_of_site["a"]] / MBIT
    carried = backend.leaf_bytes("down")["a"] * 8 / MBIT
    assert carried == pytest.approx(min(unbounded, n * cap), rel=1e-9)
    backend.finish()
    for flow in flows:
        assert _l2_mbps(flow, 1.0) <= cap * (1 + 1e-9)


def test_plan_files_carry_the_cap_and_refuse_it_off_a_leaf() -> None:
    data = _plan(2 * MBIT).to_dict()
    assert data["down"][1]["per_user_bps"] == 2 * MBIT  # type: ignore[index]
    assert "per_user_bps" not in data["down"][2]  # type: ignore[index]
    assert plan_from_dict(data) == _plan(2 * MBIT)
    data["down"][0]["per_user_bps"] = 1e6  # type: ignore[index]
    with pytest.raises(PlanError) as caught:
        plan_from_dict(data)
    assert caught.value.key == "down[0].per_user_bps"
    data["down"][0].pop("per_user_bps")  # type: ignore[index]
    data["up"][1]["per_user_bps"] = 0.0  # type: ignore[index]
    with pytest.raises(PlanError) as caught:
        plan_from_dict(data)
    assert caught.value.key == "up[1].per_user_bps"


def test_exports_say_what_they_do_with_the_cap() -> None:
    """RouterOS: a PCQ type per direction and rate on leaf a; tc: a loud header warning (plain
    HTB has no per-address rate), which the emulator's shaper records too."""
    plan = _plan(2 * MBIT)
    rsc = export(plan, "mikrotik")
    assert "add name=netlab-pcq-down-2000000 kind=pcq pcq-rate=2000000 " in rsc
    assert "pcq-classifier=dst-address" in rsc and "pcq-classifier=src-address" in rsc
    leaf_a = next(line for line in rsc.splitlines() if "name=netlab-down-a " in line)
    assert "queue=netlab-pcq-down-2000000" in leaf_a
    leaf_b = next(line for line in rsc.splitlines() if "name=netlab-down-b " in line)
    assert "queue=netlab-fifo-" in leaf_b
    script = export(plan, "tc")
    assert "# plan warning: test down: per-user caps NOT APPLIED by tc (a 2 Mbit/s)" in script
    networks = {"a": ("10.0.1.0/24",), "b": ("10.0.2.0/24",)}
    program = compile_device(plan.down, "eth1", "dst", networks, "x")
    assert any("NOT APPLIED" in w for w in program.warnings)
    assert not any("NOT APPLIED" in w for w in export(_plan(None), "tc").splitlines())


def test_a_cap_that_cannot_bind_is_a_plan_warning() -> None:
    """A per-user cap at or above the leaf's ceil never holds anyone back: said, not refused."""
    plan = plan_from_dict(_plan(10 * MBIT).to_dict())
    assert any("per-user cap of a (10.0 Mbit/s) is not below its ceil" in w for w in plan.warnings)
    assert not any("per-user cap" in w for w in plan_from_dict(_plan(2 * MBIT).to_dict()).warnings)
