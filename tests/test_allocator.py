"""Invariants of the fluid HTB allocator (docs/architecture.md, "HTB semantics"), by property
tests and hand cases; tests/test_htb_oracle.py checks it against a packet-level HTB."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.shaping.htb import CompiledTree, LiveAllocation
from sim.shaping.plan import ClassTree, HtbClass, finalize

TOL = 1e-6  # bits/s: allocations are sums of a few hundred floats of ~1e8

demands = st.one_of(st.just(0.0), st.just(math.inf), st.floats(1e3, 2e8))


@st.composite
def trees(draw: st.DrawFn, depth: int = 1) -> tuple[CompiledTree, list[float]]:
    """A root, optionally a layer of groups, and leaves; guarantees never oversubscribe their
    parent (netlab's policies never do; the oversubscribed case has its own test)."""
    capacity = draw(st.floats(1e6, 1e9))
    classes = [HtbClass("root", None, capacity, capacity)]
    groups = draw(st.integers(0, 3)) if depth else 0
    parents = ["root"] if groups == 0 else [f"g{i}" for i in range(groups)]
    rate_left = {"root": capacity}
    ceil_of = {"root": capacity}
    for g in parents if groups else []:
        ceil = capacity * draw(st.floats(0.05, 1.0))
        rate = min(capacity * draw(st.floats(0.01, 1.0)) / groups, ceil)
        classes.append(HtbClass(g, "root", rate, ceil))
        rate_left[g], ceil_of[g] = rate, ceil
    access = {}
    for i in range(draw(st.integers(1, 12))):
        parent = draw(st.sampled_from(parents))
        site = f"s{i}"
        ceil = ceil_of[parent] * draw(st.floats(0.01, 1.0))
        rate = min(ceil, rate_left[parent]) * draw(st.floats(0.001, 0.6))
        rate_left[parent] -= rate
        prio = draw(st.integers(0, 3))
        quantum = draw(st.integers(100_000, 500_000))
        classes.append(HtbClass(site, parent, rate, ceil, prio, quantum, site))
        access[site] = capacity * draw(st.floats(0.01, 1.5))
    tree, warnings = finalize(classes, access, "test")
    assert not [w for w in warnings if "OVERSUBSCRIBED" in w]
    compiled = CompiledTree(tree, access)
    demand = [draw(demands) if c.site else 0.0 for c in tree.classes]
    return compiled, demand


def capped_demand(tree: CompiledTree, demand: list[float]) -> list[float]:
    out = list(demand)
    for i in tree.bottom_up:
        kids = tree.children[i]
        value = sum(out[k] for k in kids) if kids else demand[i]
        out[i] = min(value, tree.cap[i])
    return out


@settings(max_examples=400, deadline=None)
@given(trees())
def test_capacity_never_exceeded_and_work_conserving(case) -> None:
    tree, demand = case
    alloc = tree.allocate(demand)
    want = capped_demand(tree, demand)
    assert alloc[0] == _approx(min(want[0], tree.cap[0]))
    for i, kids in enumerate(tree.children):
        if kids:  # children share exactly what the parent got: nothing lost, nothing invented
            assert sum(alloc[k] for k in kids) == _approx(alloc[i])
    for i in range(len(tree)):
        assert -TOL <= alloc[i] <= want[i] + TOL  # never above demand, ceil or access link


@settings(max_examples=400, deadline=None)
@given(trees())
def test_every_class_gets_its_guarantee(case) -> None:
    tree, demand = case
    alloc = tree.allocate(demand)
    want = capped_demand(tree, demand)
    for i in range(1, len(tree)):
        assert alloc[i] >= min(want[i], tree.rate[i]) - TOL


@settings(max_examples=400, deadline=None)
@given(trees(depth=0))
def test_priority_order_and_quantum_proportionality_in_flat_trees(case) -> None:
    tree, demand = case
    alloc = tree.allocate(demand)
    want = capped_demand(tree, demand)
    for kids in tree.children:
        borrowed = {k: alloc[k] - min(want[k], tree.rate[k]) for k in kids}
        unsatisfied = {k for k in kids if alloc[k] < want[k] - TOL}
        prio = {k: _prio(tree, k) for k in kids}
        for k in kids:
            if borrowed[k] > TOL:  # a class borrows only when higher priorities are satisfied
                assert not [j for j in unsatisfied if prio[j] < prio[k]]
        for level in set(prio.values()):
            hungry = [k for k in unsatisfied if prio[k] == level and borrowed[k] > TOL]
            ratios = [borrowed[k] / tree.quantum[k] for k in hungry]
            if ratios:  # unsatisfied borrowers of one level share spare in proportion to quantum
                assert max(ratios) - min(ratios) <= 1e-6 * max(ratios) + TOL
                for k in kids:  # and nobody at that level got more per quantum than they did
                    if prio[k] == level:
                        assert borrowed[k] / tree.quantum[k] <= max(ratios) * (1 + 1e-6) + TOL


@settings(max_examples=200, deadline=None)
@given(trees(), st.lists(st.tuples(st.integers(0, 40), demands), max_size=30))
def test_live_allocation_matches_a_full_pass(case, updates) -> None:
    tree, demand = case
    live = LiveAllocation(tree, demand)
    leaves = list(tree.leaf_of_site.values())
    for pick, value in updates:
        leaf = leaves[pick % len(leaves)]
        demand[leaf] = value
        live.set_demand(leaf, value)
        expected = tree.allocate(demand)
        assert live.alloc == [_approx(a) for a in expected]


def test_flat_tree_examples() -> None:
    """Guarantees beyond the parent delivered, borrowing to ceil, priority first, quantum."""
    mbit = 1e6
    root = HtbClass("root", None, 50 * mbit, 50 * mbit)
    leaves = [
        HtbClass(s, "root", r * mbit, 50 * mbit, 0, 100_000, s)
        for s, r in (("a", 40), ("b", 20), ("c", 20))
    ]
    tree, warnings = finalize([root, *leaves], dict.fromkeys("abc", 1e9), "t")
    assert len(warnings) == 1 and "OVERSUBSCRIBED" in warnings[0]
    alloc = CompiledTree(tree, dict.fromkeys("abc", 1e9)).allocate([0.0] + [math.inf] * 3)
    assert [a / mbit for a in alloc] == [_approx(x) for x in (80, 40, 20, 20)]  # as the kernel

    # rate 10 ceil 30 borrows up to its ceil while the sibling is idle
    a = HtbClass("a", "root", 10 * mbit, 30 * mbit, 0, 100_000, "a")
    b = HtbClass("b", "root", 10 * mbit, 50 * mbit, 0, 100_000, "b")
    compiled = CompiledTree(ClassTree((root, a, b)), {"a": 1e9, "b": 1e9})
    assert compiled.allocate([0.0, math.inf, 0.0])[1] == _approx(30 * mbit)
    # both busy: guarantees 10/10, spare 30 split by quantum 1:1, a capped at its ceil 30
    assert compiled.allocate([0.0, math.inf, math.inf])[1:] == [_approx(25 * mbit)] * 2

    # priority: prio 0 takes all spare it wants before prio 1 gets any
    hi = HtbClass("hi", "root", 5 * mbit, 50 * mbit, 0, 100_000, "hi")
    lo = HtbClass("lo", "root", 5 * mbit, 50 * mbit, 1, 100_000, "lo")
    compiled = CompiledTree(ClassTree((root, hi, lo)), {"hi": 1e9, "lo": 1e9})
    assert compiled.allocate([0.0, math.inf, math.inf])[1:] == [
        _approx(45 * mbit),
        _approx(5 * mbit),
    ]
    assert compiled.allocate([0.0, 20 * mbit, math.inf])[1:] == [
        _approx(20 * mbit),
        _approx(30 * mbit),
    ]

    # quantum 1:3 splits the spare 1:3; an access link caps its leaf
    q1 = HtbClass("q1", "root", 1 * mbit, 50 * mbit, 0, 100_000, "q1")
    q3 = HtbClass("q3", "root", 1 * mbit, 50 * mbit, 0, 300_000, "q3")
    compiled = CompiledTree(ClassTree((root, q1, q3)), {"q1": 1e9, "q3": 1e9})
    assert compiled.allocate([0.0, math.inf, math.inf])[1:] == [
        _approx(13 * mbit),
        _approx(37 * mbit),
    ]
    capped = CompiledTree(ClassTree((root, q1, q3)), {"q1": 1e9, "q3": 8 * mbit})
    assert capped.allocate([0.0, math.inf, math.inf])[1:] == [_approx(42 * mbit), _approx(8 * mbit)]


MBIT = 1e6
R = 100 * MBIT


def _two_tiers(tier_a: dict, tier_b: dict, leaf_a: dict, leaf_b: dict) -> list[float]:
    """Root 100 Mbit/s, tiers A and B (rate 10), one leaf each (rate 5), both leaves greedy;
    returns the leaves' Mbit/s. Keyword dicts set prio and quantum."""
    classes = (
        HtbClass("root", None, R, R),
        HtbClass("A", "root", 10 * MBIT, R, **tier_a),
        HtbClass("B", "root", 10 * MBIT, R, **tier_b),
        HtbClass("a", "A", 5 * MBIT, R, site="a", **leaf_a),
        HtbClass("b", "B", 5 * MBIT, R, site="b", **leaf_b),
    )
    alloc = CompiledTree(ClassTree(classes), {"a": 1e12, "b": 1e12}).allocate([math.inf] * 5)
    return [alloc[3] / MBIT, alloc[4] / MBIT]


def test_hierarchical_trees_as_the_kernel_splits_them() -> None:
    """Cases measured on the kernel (one greedy download per leaf, burst 50 ms, quanta 100 kB
    unless stated): inner prio and quantum are ignored, leaf prio and quantum count."""
    q = 100_000
    # tiers of prio 0 and 1 over leaves of equal prio: 50 / 50 (the old model said 90 / 10)
    assert _two_tiers(
        {"prio": 0}, {"prio": 1}, {"prio": 1, "quantum": q}, {"prio": 1, "quantum": q}
    ) == [
        _approx(50),
        _approx(50),
    ]
    # tier quanta 3:1 over leaves with equal quanta: 50 / 50
    assert _two_tiers({"quantum": 3 * q}, {"quantum": q}, {"quantum": q}, {"quantum": q}) == [
        _approx(50),
        _approx(50),
    ]
    # leaf quanta 3:1 under equal tiers: each leaf 10 from its own rate and its tier's, the
    # root's 80 split 3:1 -> 70 / 30
    assert _two_tiers({}, {}, {"quantum": 3 * q}, {"quantum": q}) == [_approx(70), _approx(30)]
    # a leaf of prio 0 under a tier takes all the root's spare before a prio 1 leaf
    assert _two_tiers({}, {}, {"prio": 0, "quantum": q}, {"prio": 1, "quantum": q}) == [
        _approx(90),
        _approx(10),
    ]


def test_root_spare_is_shared_per_leaf_not_per_tier() -> None:
    """Tier A one leaf (rate 5), tier B four leaves (rate 2.5): kernel 22.9 / 19.4 / 19.2 /
    19.1 / 19.5 Mbit/s with one flow per leaf; the model 22 / 19.5 x 4."""
    classes = [
        HtbClass("root", None, R, R),
        HtbClass("A", "root", 5 * MBIT, R),
        HtbClass("B", "root", 10 * MBIT, R),
        HtbClass("a", "A", 5 * MBIT, R, 0, 100_000, "a"),
    ]
    classes += [HtbClass(f"b{i}", "B", 2.5 * MBIT, R, 0, 100_000, f"b{i}") for i in range(4)]
    access = {c.site: 1e12 for c in classes if c.site}
    alloc = CompiledTree(ClassTree(tuple(classes)), access).allocate([math.inf] * 8)
    assert [a / MBIT for a in alloc[3:]] == [_approx(22)] + [_approx(19.5)] * 4


def test_a_nested_ceiling_caps_what_passes_through() -> None:
    """A tier with ceil 30 lets its two leaves borrow only up to 30 together; the rest of the
    root's spare goes to the other tier's leaf."""
    classes = (
        HtbClass("root", None, R, R),
        HtbClass("A", "root", 10 * MBIT, 30 * MBIT),
        HtbClass("B", "root", 10 * MBIT, R),
        HtbClass("a1", "A", 5 * MBIT, R, 0, 100_000, "a1"),
        HtbClass("a2", "A", 5 * MBIT, R, 0, 300_000, "a2"),
        HtbClass("b", "B", 5 * MBIT, R, 0, 100_000, "b"),
    )
    access = {c.site: 1e12 for c in classes if c.site}
    alloc = CompiledTree(ClassTree(classes), access).allocate([math.inf] * 6)
    # level 0: 5 each; tier A lends 0 more (its rate 10 is used), B lends 5 to b; the root's
    # 80 spare goes 1:3:1 by quantum until A reaches its ceil 30 (a1 + a2 = 30: 10 + 20
    # split 1:3 from 10 + 10 at level 0... a1 = 5 + 5, a2 = 5 + 15), then all to b
    assert [x / MBIT for x in alloc[3:]] == [_approx(10), _approx(20), _approx(70)]


def _prio(tree: CompiledTree, index: int) -> int:
    return tree.tree.classes[index].prio


def _approx(value: float):
    import pytest

    return pytest.approx(value, rel=1e-9, abs=TOL)
