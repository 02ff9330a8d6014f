"""The allocator's hot path: 60 classes, 1,000 active flows, and the live allocation of a
saturated flat tree."""

from __future__ import annotations

import math

from sim.backends.fluid import FluidBackend, FluidEnvironment
from sim.model.flow import Flow
from sim.shaping.htb import CompiledTree, LiveAllocation
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan, finalize

SITES = 55  # + root + 4 tiers = 60 classes
FLOWS = 1000
CAPACITY = 500e6


def sixty_classes() -> tuple[ClassTree, dict[str, float]]:
    """Root, four priority tiers, 55 leaves with weighted guarantees (like htb-priority)."""
    classes = [HtbClass("root", None, CAPACITY, CAPACITY)]
    for tier in range(4):
        classes.append(HtbClass(f"t{tier}", "root", CAPACITY * 0.2, CAPACITY))
    access = {}
    for i in range(SITES):
        site = f"s{i}"
        classes.append(
            HtbClass(
                site,
                f"t{i % 4}",
                CAPACITY * 0.18 / 14 * (1 + i % 3) / 2,  # 0.9 of the tier: never oversubscribed
                CAPACITY,
                i % 4,
                100_000 * (1 + i % 3),
                site,
            )
        )
        access[site] = 100e6
    tree, _ = finalize(classes, access, "bench")
    return tree, access


def test_allocate_60_classes(benchmark) -> None:
    tree, access = sixty_classes()
    compiled = CompiledTree(tree, access)
    demand = [0.0] * len(compiled)
    for site, index in compiled.leaf_of_site.items():
        demand[index] = math.inf if int(site[1:]) % 2 else 20e6
    alloc = benchmark(compiled.allocate, demand)
    assert sum(alloc[k] for k in compiled.children[0]) <= CAPACITY * (1 + 1e-9)


def test_live_change_on_a_saturated_flat_tree(benchmark) -> None:
    """A satisfied leaf's paced demand moving and back on a flat tree of 46 leaves (weighted
    guarantees and quanta, like htb-weighted) whose root six greedy leaves saturate: the
    engine's most frequent call under saturation, which moves the level of the greedy six."""
    weights = [1 + i % 5 for i in range(46)]
    classes = [HtbClass("root", None, 485e6, 485e6)]
    for i, w in enumerate(weights):
        rate = 485e6 * 0.9 * w / sum(weights)
        classes.append(HtbClass(f"s{i}", "root", rate, 100e6, 0, 100_000 * w, f"s{i}"))
    access = {f"s{i}": 100e6 for i in range(46)}
    tree = CompiledTree(ClassTree(tuple(classes)), access)
    demand = [0.0] + [math.inf] * 6 + [4e6] * 40
    live = LiveAllocation(tree, demand)

    def move_and_back() -> None:
        live.set_demand(7, 9e6)
        live.set_demand(7, 4e6)

    benchmark(move_and_back)
    assert live.alloc[7] == 4e6 and live.alloc[1] < 100e6  # satisfied, the greedy held
    assert max(abs(a - b) for a, b in zip(live.alloc, tree.allocate(demand), strict=True)) < 1e-6


def test_event_with_1000_active_flows(benchmark) -> None:
    """One arrival at an idle site and its abandonment, with 1,000 flows active elsewhere.

    Each call changes a leaf's demand twice, so the tree is reallocated and every busy leaf
    re-split twice: the engine's most expensive event.
    """
    tree, access = sixty_classes()
    env = FluidEnvironment()
    backend = FluidBackend(env, access, 1514 / 1448)
    backend.apply_plan(ShapingPlan("bench", tree, tree))
    busy = [f"s{i}" for i in range(SITES - 1)]
    for i in range(FLOWS):
        if i % 5 == 0:
            flow = Flow(
                i, busy[i % len(busy)], "call", "down", 0.0, size=1e9, rate=1.5e6, duration=1e9
            )
        else:
            flow = Flow(i, busy[i % len(busy)], "bulk", "down", 0.0, size=1e15)
        backend.transfer(flow)
    ids = iter(range(FLOWS, 10**9))

    def arrive_and_leave() -> None:
        flow = Flow(next(ids), f"s{SITES - 1}", "web", "down", env.now, size=1e6, patience=0.0)
        backend.transfer(flow)
        backend._abandon(backend._leaves["down"][flow.site], flow)

    benchmark(arrive_and_leave)
