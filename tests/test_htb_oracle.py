"""The packet-level HTB oracle (tests/htb_oracle.py) against kernel figures, then the fluid
allocator against the oracle on random trees.

First the oracle itself: each case below was measured on this machine's kernel (greedy TCP per
leaf, burst/cburst 50 ms, L2 counters) or is a flat-tree behaviour the kernel showed, and one (a
nested ceiling beside a steady leaf) is worked out by hand; the oracle must reproduce each
within 2 % of the root. The expected figures follow from the kernel's mechanics: a leaf sends
its rate on its own tokens (level 0), an inner class lends what its subtree left of its rate,
the root lends last to every borrowing leaf of the tree by the leaves' own prio and quantum.

Then the property: `CompiledTree.allocate` agrees with the oracle within 1 % of the root for
every class of random trees of depth <= 3, except in two families where the kernel's round
robin departs from any fluid split (an inner class that lends and borrows at once; a borrower
whose cburst is smaller than its quantum): each has a strict xfail case that says why.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.shaping.htb import CompiledTree
from sim.shaping.plan import ClassTree, HtbClass
from tests.htb_oracle import simulate

M = 1e6
INF = math.inf
KERNEL_TOLERANCE = 0.02  # of the root: the oracle against kernel figures
FLUID_TOLERANCE = 0.01  # of the root: the fluid allocator against the oracle


def tree(root: float, *classes: tuple) -> ClassTree:
    """A root of `root` Mbit/s (rate = ceil) and classes (id, parent, rate, ceil[, prio,
    quantum]) in Mbit/s and bytes; a class nobody names as parent is a leaf carrying site id."""
    parents = {c[1] for c in classes}
    built = [HtbClass("root", None, root * M, root * M)]
    for cid, parent, rate, ceil, *rest in classes:
        prio, quantum = (rest + [0, 100_000])[:2]
        site = None if cid in parents else cid
        built.append(HtbClass(cid, parent, rate * M, ceil * M, prio, quantum, site))
    return ClassTree(tuple(built))


def assert_rates(got: dict[str, float], want: dict[str, float], root_bps: float) -> None:
    report = {k: f"{got[k] / M:.2f} vs {v:.2f}" for k, v in want.items()}
    for cid, mbit in want.items():
        assert abs(got[cid] - mbit * M) <= KERNEL_TOLERANCE * root_bps, report


# -- the oracle against the kernel ---------------------------------------------------------------

TWO_TIERS = (("A", "root", 10, 100), ("B", "root", 10, 100))


def test_inner_prio_is_ignored() -> None:
    """Tier A prio 0, tier B prio 1, leaves both prio 1 (kernel 50 / 50): leaves send 10 each
    on their own rate, the tiers' rates are used up by that, and the root's 80 goes to two
    leaves of equal prio and quantum: 40 each."""
    plan = tree(
        100,
        ("A", "root", 10, 100, 0),
        ("B", "root", 10, 100, 1),
        ("a", "A", 10, 100, 1),
        ("b", "B", 10, 100, 1),
    )
    got = simulate(plan, {"a": INF, "b": INF})
    assert_rates(got, {"a": 50, "b": 50}, 100 * M)


def test_inner_quantum_is_ignored() -> None:
    """Tiers with quanta 300k : 100k, one leaf each with equal quanta (kernel 50 / 50)."""
    plan = tree(
        100,
        ("A", "root", 10, 100, 0, 300_000),
        ("B", "root", 10, 100, 0, 100_000),
        ("a", "A", 10, 100),
        ("b", "B", 10, 100),
    )
    got = simulate(plan, {"a": INF, "b": INF})
    assert_rates(got, {"a": 50, "b": 50}, 100 * M)


def test_leaf_quanta_split_the_roots_spare() -> None:
    """Leaves with quanta 300k : 100k under two equal tiers (kernel 70 / 30): 10 each on their
    own rate, the root's 80 split 3 : 1, so 10 + 60 and 10 + 20."""
    plan = tree(100, *TWO_TIERS, ("a", "A", 10, 100, 0, 300_000), ("b", "B", 10, 100, 0, 100_000))
    got = simulate(plan, {"a": INF, "b": INF})
    assert_rates(got, {"a": 70, "b": 30}, 100 * M)


def test_roots_spare_is_shared_per_leaf_not_per_tier() -> None:
    """Tier A (5) with one leaf of 5, tier B (10) with four of 2.5, all equal (kernel 22.9 /
    19.4 / 19.2 / 19.1 / 19.5; 22 / 19.5 with several flows a leaf): the leaves' own 15, then
    the root's 85 in five equal parts of 17. Shared per tier, a would get 50."""
    bs = [(f"b{i}", "B", 2.5, 100) for i in range(4)]
    plan = tree(100, ("A", "root", 5, 100), ("B", "root", 10, 100), ("a", "A", 5, 100), *bs)
    got = simulate(plan, dict.fromkeys(["a", "b0", "b1", "b2", "b3"], INF))
    want = {"a": 22, "b0": 19.5, "b1": 19.5, "b2": 19.5, "b3": 19.5, "A": 22, "B": 78}
    assert_rates(got, want, 100 * M)


def test_oversubscribed_guarantees_are_all_delivered() -> None:
    """Root 50, guarantees 40 / 20 / 20 all busy (kernel 40 / 20 / 20): a leaf under its rate
    sends whatever its ancestors' state, so the root carries 80 on a link faster than that."""
    plan = tree(50, ("a", "root", 40, 50), ("b", "root", 20, 50), ("c", "root", 20, 50))
    got = simulate(plan, {"a": INF, "b": INF, "c": INF}, link_bps=100 * M)
    assert_rates(got, {"a": 40, "b": 20, "c": 20, "root": 80}, 50 * M)


@pytest.mark.parametrize(
    ("root", "leaves", "demand", "want"),
    [
        # quantum 1 : 3 splits the spare 35 1 : 3: 5 + 8.75, 5 + 26.25
        (45, [("a", 5, 45, 0, 100_000), ("b", 5, 45, 0, 300_000)], "ab", [13.75, 31.25]),
        # prio 0 takes all the spare it can use: 10 + 40, the prio 1 leaves keep their rate
        (60, [("a", 10, 60, 0), ("b", 10, 60, 1), ("c", 10, 60, 1)], "abc", [40, 10, 10]),
        # a's ceiling 20 stops it; b takes the rest
        (60, [("a", 10, 20), ("b", 10, 60)], "ab", [20, 40]),
        # an idle guarantee is lent to the busy: 30 / 30 / 0
        (60, [("a", 15, 60), ("b", 15, 60), ("c", 15, 60)], "ab", [30, 30, 0]),
    ],
    ids=["quantum-1-3", "priority", "ceiling", "idle-lends"],
)
def test_flat_trees(root: float, leaves: list[tuple], demand: str, want: list[float]) -> None:
    plan = tree(root, *[(cid, "root", *rest) for cid, *rest in leaves])
    got = simulate(plan, dict.fromkeys(demand, INF))
    assert_rates(got, dict(zip([c[0] for c in leaves], want, strict=True)), root * M)


def test_nested_ceiling_and_finite_demand() -> None:
    """Tier A (10, ceil 30) with a1, a2 (5 each), tier B (20) with b (10) and c (10 wanting 4):
    own rates 5 / 5 / 10 / 4, B lends its 6 left to b (16), then the root's 70 goes equally to
    a1, a2 and b until A's ceiling holds a1 + a2 at 30: 15 / 15 / 16 + 70 - 20 = 66 / 4."""
    plan = tree(
        100,
        ("A", "root", 10, 30),
        ("B", "root", 20, 100),
        ("a1", "A", 5, 100),
        ("a2", "A", 5, 100),
        ("b", "B", 10, 100),
        ("c", "B", 10, 100),
    )
    got = simulate(plan, {"a1": INF, "a2": INF, "b": INF, "c": 4 * M})
    assert_rates(got, {"a1": 15, "a2": 15, "b": 66, "c": 4, "A": 30}, 100 * M)


# -- the fluid allocator against the oracle --------------------------------------------------------

ROOT_BPS = 100 * M


@st.composite
def random_trees(draw: st.DrawFn) -> tuple[ClassTree, dict[str, float]]:
    """A root of 100 Mbit/s, up to three inner classes (depth <= 3), up to eight leaves; the
    guarantees under a class fit in its rate, a ceil lies between the rate and the parent's
    ceil; inner prio and quantum are drawn too (both must be ignored). Each leaf is greedy,
    idle or wants a steady share of its rate."""
    parent_of: dict[str, str] = {}
    for k in range(draw(st.integers(0, 3))):  # under the root or under a first-level class
        firsts = [c for c, p in parent_of.items() if p == "root"]
        parent_of[f"t{k}"] = draw(st.sampled_from(["root", *firsts]))
    inner = list(parent_of)
    for k in range(draw(st.integers(max(1, len(inner)), 8))):  # every inner class gets a leaf
        parent_of[f"s{k}"] = inner[k] if k < len(inner) else draw(st.sampled_from(["root", *inner]))
    rate, ceil = {"root": ROOT_BPS}, {"root": ROOT_BPS}
    classes = [HtbClass("root", None, ROOT_BPS, ROOT_BPS)]
    for parent in ["root", *inner]:
        kids = [c for c, p in parent_of.items() if p == parent]
        used = draw(st.just(1.0) | st.floats(0.3, 1.0))  # of the parent's rate, guaranteed
        weights = [draw(st.floats(0.05, 1.0)) for _ in kids]
        for kid, weight in zip(kids, weights, strict=True):
            rate[kid] = rate[parent] * used * weight / sum(weights)
            reach = draw(st.one_of(st.just(1.0), st.floats(0.0, 1.0)))
            ceil[kid] = rate[kid] + reach * (ceil[parent] - rate[kid])
    for cid, parent in parent_of.items():
        leaf = cid not in inner
        prio = draw(st.integers(0, 2 if leaf else 3))
        quantum = draw(
            st.integers(100_000, 400_000) if leaf else st.none() | st.integers(1, 900_000)
        )
        classes.append(
            HtbClass(cid, parent, rate[cid], ceil[cid], prio, quantum, cid if leaf else None)
        )
    demand: dict[str, float] = {}
    for cid in parent_of:
        kind = "inner" if cid in inner else draw(st.sampled_from(["greedy", "idle", "steady"]))
        if kind == "greedy":
            demand[cid] = INF
        elif kind == "steady":
            demand[cid] = rate[cid] * draw(st.floats(0.1, 0.9))
    return ClassTree(tuple(classes)), demand


def fluid(plan: ClassTree, demand: dict[str, float]) -> dict[str, float]:
    """CompiledTree.allocate per class id, no access link in the way."""
    compiled = CompiledTree(plan, {c.site: 10 * ROOT_BPS for c in plan.leaves})
    alloc = compiled.allocate([demand.get(c.id, 0.0) for c in plan.classes])
    return dict(zip(compiled.ids, alloc, strict=True))


def lends_and_borrows(plan: ClassTree, demand: dict[str, float], alloc: dict[str, float]) -> bool:
    """Whether an inner class below the root both lends (its leaves' own sends leave part of
    its rate unused) and borrows (its subtree gets more than its rate from above)."""
    margin = 0.005 * ROOT_BPS
    parent = {c.id: c.parent for c in plan.classes}
    own = dict.fromkeys(parent, 0.0)
    for leaf in plan.leaves:
        sent, node = min(demand.get(leaf.id, 0.0), leaf.rate), leaf.parent
        while node is not None:
            own[node] += sent
            node = parent[node]
    inner = [c for c in plan.classes[1:] if c.site is None]
    return any(c.rate - own[c.id] > margin and alloc[c.id] > c.rate + margin for c in inner)


@settings(max_examples=25, deadline=None)
@given(random_trees())
def test_fluid_allocator_agrees_with_the_oracle(case: tuple[ClassTree, dict[str, float]]) -> None:
    """Every class within 1 % of the root, on trees outside the two known divergences."""
    plan, demand = case
    want = fluid(plan, demand)
    assume(not lends_and_borrows(plan, demand, want))
    got = simulate(plan, demand)
    report = {c: f"oracle {got[c] / M:.2f} fluid {want[c] / M:.2f}" for c in want}
    for cid in want:
        assert abs(got[cid] - want[cid]) <= FLUID_TOLERANCE * ROOT_BPS, report


@pytest.mark.xfail(strict=True, reason="kernel: one feed pointer per inner class for all levels")
def test_a_class_that_lends_and_borrows() -> None:
    """Known divergence. Root 100; tier A (20) over leaf a (10), tier B (30) over leaf b (10),
    equal quanta, both greedy. Fluid: each tier lends its rest (10, 20), the root's 50 splits
    evenly: 45 / 55. The oracle gives about 50 / 50: b is served at level 6 (lent by B) and at
    level 7 (lent by the root) through B's one round-robin pointer, with a deficit per level;
    each time b's level-6 deficit runs out it moves that pointer on, and the root's next visit
    to B finds it past the end and passes on to A, so b loses turns at the root in proportion
    to what B lends it. How many it loses depends on timing (packet size, burst, link speed)."""
    plan = tree(
        100,
        ("A", "root", 20, 100),
        ("B", "root", 30, 100),
        ("a", "A", 10, 100),
        ("b", "B", 10, 100),
    )
    demand = {"a": INF, "b": INF}
    want, got = fluid(plan, demand), simulate(plan, demand)
    for cid in ("a", "b"):
        assert abs(got[cid] - want[cid]) <= FLUID_TOLERANCE * ROOT_BPS


@pytest.mark.xfail(strict=True, reason="kernel: a DRR turn ends when the ceil bucket runs dry")
def test_a_small_cburst_cuts_a_drr_turn() -> None:
    """Why netlab's compiler sizes cburst to hold a quantum. Root 100; leaf a (rate 1, ceil 5,
    quantum 100k) beside seven leaves
    (rate 1, ceil 100, quantum 400k), all greedy. Fluid: the root's 92 by quantum gives a
    3.17 more, 4.17 in all, under its ceil. The oracle gives about 2.1: a's cburst (50 ms of
    5 Mbit/s, 31 kB) runs dry long before its 100 kB turn is used, a leaves the feed, the
    pointer goes on to the others' 2.8 MB, and a's turn resumes only a round later."""
    bs = [(f"b{i}", "root", 1, 100, 0, 400_000) for i in range(7)]
    plan = tree(100, ("a", "root", 1, 5, 0, 100_000), *bs)
    demand = dict.fromkeys(["a", *[b[0] for b in bs]], INF)
    want, got = fluid(plan, demand), simulate(plan, demand, quantum_in_cburst=False)
    assert abs(got["a"] - want["a"]) <= FLUID_TOLERANCE * ROOT_BPS


def test_a_cburst_of_a_quantum_restores_the_fluid_split() -> None:
    """The tree above with buckets as netlab's compiler sizes them (a's cburst holds its
    100 kB quantum): a's turn is no longer cut and the oracle meets the fluid 4.17 again.
    Longer buckets (160 ms, so that 50 ms of a's ceil is not the limit) agree as well."""
    bs = [(f"b{i}", "root", 1, 100, 0, 400_000) for i in range(7)]
    plan = tree(100, ("a", "root", 1, 5, 0, 100_000), *bs)
    demand = dict.fromkeys(["a", *[b[0] for b in bs]], INF)
    want = fluid(plan, demand)
    for got in (simulate(plan, demand), simulate(plan, demand, burst_s=0.16)):
        assert abs(got["a"] - want["a"]) <= FLUID_TOLERANCE * ROOT_BPS
