"""Invariants of the fluid HTB allocator (DESIGN.md §4), by property tests and hand cases."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.shaping.htb import CompiledTree, LiveAllocation
from sim.shaping.plan import ClassTree, HtbClass, finalize

TOL = 1e-6  # bits/s: allocations are sums of a few hundred floats of ~1e8

demands = st.one_of(st.just(0.0), st.just(math.inf), st.floats(1e3, 2e8))


@st.composite
def trees(draw: st.DrawFn) -> tuple[CompiledTree, list[float]]:
    """A root, optionally a layer of groups, and leaves; guarantees fit (as finalize ensures)."""
    capacity = draw(st.floats(1e6, 1e9))
    classes = [HtbClass("root", None, capacity, capacity)]
    groups = draw(st.integers(0, 3))
    parents = ["root"] if groups == 0 else [f"g{i}" for i in range(groups)]
    for g in parents if groups else []:
        rate = capacity * draw(st.floats(0.01, 1.0)) / groups
        ceil = capacity * draw(st.floats(0.05, 1.0))
        classes.append(
            HtbClass(
                g,
                "root",
                min(rate, ceil),
                ceil,
                draw(st.integers(0, 3)),
                draw(st.integers(100_000, 500_000)),
            )
        )
    access = {}
    for i in range(draw(st.integers(1, 12))):
        parent = draw(st.sampled_from(parents))
        site = f"s{i}"
        ceil = capacity * draw(st.floats(0.01, 1.0))
        rate = ceil * draw(st.floats(0.001, 1.0))
        classes.append(
            HtbClass(
                site,
                parent,
                rate,
                ceil,
                draw(st.integers(0, 3)),
                draw(st.integers(100_000, 500_000)),
                site,
            )
        )
        access[site] = capacity * draw(st.floats(0.01, 1.5))
    tree, _ = finalize(classes, access, "test")  # scales oversubscribed guarantees
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
    assert alloc[0] == min(want[0], tree.cap[0])
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
@given(trees())
def test_priority_order_and_quantum_proportionality(case) -> None:
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


def test_design_examples() -> None:
    """DESIGN.md §4: borrowing to ceil, oversubscribed guarantees scaled, priority first."""
    mbit = 1e6
    root = HtbClass("root", None, 50 * mbit, 50 * mbit)
    leaves = [
        HtbClass(s, "root", r * mbit, 50 * mbit, 0, 100_000, s)
        for s, r in (("a", 40), ("b", 20), ("c", 20))
    ]
    tree, warnings = finalize([root, *leaves], dict.fromkeys("abc", 1e9), "t")
    assert len(warnings) == 1 and "scaled" in warnings[0]
    alloc = CompiledTree(tree, dict.fromkeys("abc", 1e9)).allocate([0.0] + [math.inf] * 3)
    assert [a / mbit for a in alloc] == [_approx(x) for x in (50, 25, 12.5, 12.5)]

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


def _prio(tree: CompiledTree, index: int) -> int:
    return tree.tree.classes[index].prio


def _approx(value: float):
    import pytest

    return pytest.approx(value, rel=1e-9, abs=TOL)
