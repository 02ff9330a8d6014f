"""The packet-level HTB oracle (tests/htb_oracle.py) against kernel figures, then the fluid
allocator against the oracle on random trees.

First the oracle itself: each case below was measured on this machine's kernel (greedy TCP per
leaf, burst/cburst 50 ms, L2 counters) or is a flat-tree behaviour the kernel showed; the oracle
must reproduce it within 2 % of the root. The expected figures are worked out beside each case
from the kernel's mechanics: a leaf sends its rate on its own tokens (level 0), an inner class
lends what its subtree left of its rate, the root lends last to every borrowing leaf of the tree
by the leaves' own prio and quantum. Then the property: `CompiledTree.allocate` agrees with the
oracle within 1 % of the root for every class of random trees of depth <= 3.
"""

from __future__ import annotations

import math

import pytest

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


def test_tier_lends_before_the_root() -> None:
    """As above with tiers of rate 20: each tier lends its other 10 to its own leaf (20 each),
    then the root's 60 goes 3 : 1, so 20 + 45 = 65 and 20 + 15 = 35."""
    plan = tree(
        100,
        ("A", "root", 20, 100),
        ("B", "root", 20, 100),
        ("a", "A", 10, 100, 0, 300_000),
        ("b", "B", 10, 100, 0, 100_000),
    )
    got = simulate(plan, {"a": INF, "b": INF})
    assert_rates(got, {"a": 65, "b": 35, "A": 65, "B": 35}, 100 * M)


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
