"""`LiveAllocation` against the reference, `CompiledTree.allocate`: after every demand change
its allocation equals a fresh full pass within 1e-9 of the root's rate, and it names every
leaf whose allocation moved (the engine re-splits exactly those). Flat trees go through the
incremental lending state, any other tree through running sums and full passes."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.scenario import load_scenario
from sim.shaping.htb import CompiledTree, LiveAllocation, _FlatLending
from sim.shaping.plan import ClassTree, HtbClass
from sim.shaping.schedule import compile_schedule

M = 1e6
REPEAT = -1.0  # in a drawn sequence: the previous change once more (same leaf, same value)


@st.composite
def trees(draw: st.DrawFn) -> tuple[CompiledTree, list[float]]:
    """A root, zero to two layers of inner classes and 1-12 leaves under any of them, with
    random rates (guarantees may oversubscribe a parent), ceilings (some above the parent's),
    prios, quanta (some derived from the rate) and access links."""
    capacity = draw(st.floats(1e6, 1e9))
    classes = [HtbClass("root", None, capacity, capacity * draw(st.sampled_from([1.0, 1.2])))]
    parents = [("root", capacity, capacity)]
    for layer in range(draw(st.integers(0, 2))):
        for g in range(draw(st.integers(1, 3))):
            pid, prate, pceil = draw(st.sampled_from(parents))
            ceil = pceil * draw(st.floats(0.05, 1.1))
            rate = min(ceil, prate * draw(st.floats(0.01, 0.9)))
            classes.append(HtbClass(f"g{layer}{g}", pid, rate, ceil, draw(st.integers(0, 2))))
            parents.append((f"g{layer}{g}", rate, ceil))
    access = {}
    for i in range(draw(st.integers(1, 12))):
        pid, prate, pceil = draw(st.sampled_from(parents))
        ceil = pceil * draw(st.floats(0.01, 1.2))
        rate = min(ceil, prate * draw(st.floats(0.001, 0.9)))
        quantum = draw(st.one_of(st.none(), st.integers(1_000, 500_000)))
        site = f"s{i}"
        classes.append(HtbClass(site, pid, rate, ceil, draw(st.integers(0, 3)), quantum, site))
        access[site] = capacity * draw(st.floats(0.01, 1.5))
    # an inner class nobody hangs a leaf under would be a leaf without a site: drop it
    used = {c.parent for c in classes}
    while unused := [c for c in classes[1:] if c.site is None and c.id not in used]:
        classes = [c for c in classes if c not in unused]
        used = {c.parent for c in classes}
    compiled = CompiledTree(ClassTree(tuple(classes)), access)
    demand = [draw(values) if c.site else 0.0 for c in classes]
    return compiled, demand


values = st.one_of(
    st.just(0.0),
    st.just(math.inf),
    st.floats(1.0, 1e5),  # small
    st.floats(1e5, 2e9),  # large
)
changes = st.lists(st.tuples(st.integers(0, 99), st.one_of(values, st.just(REPEAT))), max_size=40)


def replay(tree: CompiledTree, demand: list[float], calls: list[tuple[int, float]]) -> None:
    """Apply the calls one by one; after each, check the allocation and the changed list."""
    live = LiveAllocation(tree, demand)
    demand = list(demand)
    tolerance = 1e-9 * tree.rate[0]
    assert _worst(live.alloc, tree.allocate(demand)) <= tolerance
    for leaf, value in calls:
        before = list(live.alloc)
        changed = set(live.set_demand(leaf, value))
        demand[leaf] = value
        assert _worst(live.alloc, tree.allocate(demand)) <= tolerance, (leaf, value)
        moved = {i for i in tree.leaves if live.alloc[i] != before[i]}
        assert moved <= changed, (leaf, value, moved - changed)


@settings(max_examples=600, deadline=None)
@given(trees(), changes)
def test_live_allocation_equals_a_full_pass_after_every_change(case, picks) -> None:
    tree, demand = case
    calls: list[tuple[int, float]] = []
    for pick, value in picks:
        if value == REPEAT:
            if calls:
                calls.append(calls[-1])
        else:
            calls.append((tree.leaves[pick % len(tree.leaves)], value))
    replay(tree, demand, calls)


def test_flat_trees_take_the_incremental_path() -> None:
    """The hypothesis trees above include flat ones, and those are the lending state's."""
    flat = _tree(100, (10, 1, 0), (10, 1, 0))
    assert _FlatLending.covers(flat)
    nested = ClassTree(
        (
            HtbClass("root", None, M, M),
            HtbClass("t", "root", M, M),
            HtbClass("a", "t", M, M, site="a"),
        )
    )
    assert not _FlatLending.covers(CompiledTree(nested, {"a": M}))


def test_a_satisfied_leaf_moves_the_level_of_the_others() -> None:
    """Root 100 Mbit/s; a, b, c with rate 10 and quantum 1:1:2 (100 kB units).
    a and c greedy, b wants 30: spare 70 over rooms 90, 20, 90 at one level L per quantum:
    L + L + 2L = 70, L = 17.5 < 20, so a 27.5, b 27.5, c 45. Then b wants 15 (full at the
    level): 5 + 3L = 70, L = 65/3; b wants 12: L = 68/3; a stops: spare 80 for c and b,
    2 + 2L = 80, L = 39, c 88, and b, full, is not touched."""
    tree = _tree(100, (10, 1, 0), (10, 1, 0), (10, 2, 0))
    a, b, c = tree.leaves
    live = LiveAllocation(tree, [0.0, math.inf, 30 * M, math.inf])
    assert _mbit(live.alloc) == pytest.approx([100, 27.5, 27.5, 45])
    steps = [
        (b, 15, [100, 10 + 65 / 3, 15, 10 + 130 / 3], {a, b, c}),
        (b, 12, [100, 10 + 68 / 3, 12, 10 + 136 / 3], {a, b, c}),
        (a, 0, [100, 0, 12, 88], {a, c}),
    ]
    for leaf, mbit, want, moved in steps:
        changed = set(live.set_demand(leaf, mbit * M))
        assert _mbit(live.alloc) == pytest.approx(want)
        assert changed - {0} == moved


def test_a_lower_prio_gets_the_spare_only_when_the_higher_is_served() -> None:
    """Root 100; a (prio 0) and b (prio 1), rate 10 each. Both greedy: a takes all the spare
    (90 of 100 with b's 10 on its own tokens: a 90, b 10); a wants 50: b gets the other 40;
    a wants 95 again: b back to its rate, and both are named."""
    tree = _tree(100, (10, 1, 0), (10, 1, 1))
    a, b = tree.leaves
    live = LiveAllocation(tree, [0.0, math.inf, math.inf])
    assert _mbit(live.alloc) == pytest.approx([100, 90, 10])
    assert set(live.set_demand(a, 50 * M)) - {0} == {a, b}
    assert _mbit(live.alloc) == pytest.approx([100, 50, 50])
    assert set(live.set_demand(a, 95 * M)) - {0} == {a, b}
    assert _mbit(live.alloc) == pytest.approx([100, 90, 10])


def test_wants_that_fit_the_spare_exactly_are_all_served() -> None:
    """Root 100; a and b with rate 10 want 60 and 40: their rooms 50 + 30 are the spare 80
    exactly, so both get what they want. b wants 41: the rooms 50 + 31 exceed the spare, b
    (room 31) is full below the level and a gets the other 49: 59 and 41; and back."""
    tree = _tree(100, (10, 1, 0), (10, 1, 0))
    a, b = tree.leaves
    live = LiveAllocation(tree, [0.0, 60 * M, 40 * M])
    assert _mbit(live.alloc) == pytest.approx([100, 60, 40])
    assert set(live.set_demand(b, 41 * M)) - {0} == {a, b}
    assert _mbit(live.alloc) == pytest.approx([100, 59, 41])
    assert set(live.set_demand(b, 40 * M)) - {0} == {a, b}
    assert _mbit(live.alloc) == pytest.approx([100, 60, 40])


def test_a_day_like_sequence_on_the_regency_tree() -> None:
    """The regency's default plan (flat, 46 leaves) under the kind of changes the engine makes
    in a day: a leaf turns greedy when an elastic flow starts and falls back to its paced
    demand (calls and video, 1.57 and 2.61 Mbit/s a stream) when it ends, and paced demand
    moves by a stream. 4,000 changes, the root saturated in about a quarter of them and
    entering or leaving saturation hundreds of times, each checked against a full pass."""
    scenario = load_scenario("scenarios/kotim-baseline.toml")
    plan = compile_schedule(scenario).plan_at(scenario.start + dt.timedelta(hours=9))
    access = {site.id: site.access_bps for site in scenario.sites}
    tree = CompiledTree(plan.down, access)
    assert _FlatLending.covers(tree) and len(tree.leaves) == 46
    calls = _day_like(tree, random.Random(14), 4000)
    demand = [0.0] * len(tree)
    saturated = []
    for leaf, value in calls:
        demand[leaf] = value
        saturated.append(sum(min(d, tree.cap[i]) for i, d in enumerate(demand)) > tree.rate[0])
    assert 0.15 < sum(saturated) / len(calls) < 0.8
    assert sum(a != b for a, b in zip(saturated, saturated[1:], strict=False)) > 200
    replay(tree, [0.0] * len(tree), calls)


def _day_like(tree: CompiledTree, rng: random.Random, n: int) -> list[tuple[int, float]]:
    """n demand changes: 30 % an elastic flow starts at a random leaf (demand inf), 40 % one
    of the greedy leaves falls back to its paced demand, the rest a paced stream starts or
    ends at a random leaf (seen only once the leaf is not greedy)."""
    paced = dict.fromkeys(tree.leaves, 0.0)
    greedy: list[int] = []
    calls = []
    for _ in range(n):
        draw = rng.random()
        if draw < 0.3:
            leaf = rng.choice(tree.leaves)
            greedy += [] if leaf in greedy else [leaf]
            value = math.inf
        elif draw < 0.7 and greedy:
            leaf = greedy.pop(rng.randrange(len(greedy)))
            value = paced[leaf]
        else:
            leaf = rng.choice(tree.leaves)
            step = rng.choice([1.57e6, 2.61e6]) * rng.choice([-1, 1])
            paced[leaf] = max(0.0, paced[leaf] + step)
            value = math.inf if leaf in greedy else paced[leaf]
        calls.append((leaf, value))
    return calls


def _tree(root_mbit: float, *leaves: tuple[float, int, int]) -> CompiledTree:
    """A flat tree: a root of `root_mbit` and leaves (rate Mbit/s, quantum in 100 kB, prio),
    each with ceil = the root and an access link of 1 Gbit/s."""
    classes = [HtbClass("root", None, root_mbit * M, root_mbit * M)]
    for n, (rate, quantum, prio) in enumerate(leaves):
        site = f"s{n}"
        classes.append(
            HtbClass(site, "root", rate * M, root_mbit * M, prio, quantum * 100_000, site)
        )
    return CompiledTree(ClassTree(tuple(classes)), {f"s{n}": 1e9 for n in range(len(leaves))})


def _mbit(alloc: list[float]) -> list[float]:
    return [a / M for a in alloc]


def _worst(got: list[float], want: list[float]) -> float:
    return max(abs(g - w) for g, w in zip(got, want, strict=True))


COMPILED = [  # every list a CompiledTree holds
    *("ids", "rate", "cap", "quantum", "prio", "parent", "children", "leaf_of_site"),
    *("internal", "leaves", "leaf_limits", "bottom_up", "inner_bottom_up", "limit", "path"),
    "lenders",
]


@settings(max_examples=150, deadline=None)
@given(
    tree_and_demand=trees(),
    moves=st.lists(st.tuples(st.integers(0, 99), st.floats(0.01, 3.0)), max_size=6),
    other=st.sampled_from(["none", "inner rate", "leaf ceil", "leaf prio"]),
)
def test_a_tree_compiled_like_the_one_in_force_is_the_tree_compiled_afresh(
    tree_and_demand, moves, other
) -> None:
    """Compiled with `like` (the tree in force), a tree whose leaves' guarantees moved shares
    the structure of the tree in force; one that differs in anything else is worked out afresh;
    either way every list equals a fresh compile's and so does the allocation."""
    compiled, demand = tree_and_demand
    access = {c.site: compiled.cap[i] * 1.5 for i, c in enumerate(compiled.tree.classes) if c.site}
    compiled = CompiledTree(compiled.tree, access)
    classes = list(compiled.tree.classes)
    for position, factor in moves:
        i = compiled.leaves[position % len(compiled.leaves)]
        classes[i] = classes[i].with_rate(min(classes[i].rate * factor, classes[i].ceil))
    if other == "inner rate" and compiled.internal[1:]:
        i = compiled.internal[-1]
        classes[i] = classes[i].with_rate(classes[i].rate * 0.5)
    elif other == "leaf ceil":
        i = compiled.leaves[0]
        classes[i] = replace(classes[i], ceil=classes[i].ceil * 2)
    elif other == "leaf prio":
        i = compiled.leaves[0]
        classes[i] = replace(classes[i], prio=classes[i].prio + 1)
    tree = ClassTree(tuple(classes))
    like, fresh = CompiledTree(tree, access, compiled), CompiledTree(tree, access)
    for name in COMPILED:
        assert getattr(like, name) == getattr(fresh, name), name
    pairs = enumerate(zip(tree.classes, compiled.tree.classes, strict=True))
    only_rates = all(
        c is was or (i in compiled.leaves and replace(c, rate=was.rate) == was)
        for i, (c, was) in pairs
    )
    assert (like.path is compiled.path) == only_rates
    assert like.allocate(demand) == fresh.allocate(demand)
