"""Fluid backend: flow-level simulation with exact HTB semantics, event-driven inside SimPy.

The class tree is reallocated only when a leaf's demand changes. A leaf's demand is unbounded
while it has an elastic flow, else the sum of its paced flows' rates; so most arrivals and
departures at a busy site only re-split that site's allocation among its flows. Inside a leaf,
flows share max-min fairly (paced flows capped at their needed rate) and all elastic flows get
the same rate, so their progress is one virtual clock per leaf (bytes served per elastic flow)
and each flow's finish is a fixed point on that clock, kept in a heap: processor sharing in
O(log n) per event. All rates inside are L2 bits/s; flows report goodput (wire / overhead).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from typing import Any

import simpy

from sim.backends.base import Flow
from sim.shaping.htb import CompiledTree, LiveAllocation
from sim.shaping.plan import DIRECTIONS, Direction, ShapingPlan

FINISH_SLACK = (
    1.0  # wire bytes of virtual clock within which a flow counts as finished (float time)
)


class _Leaf:
    """One site's leaf class in one direction, with the flows it carries."""

    __slots__ = (
        "site",
        "direction",
        "alloc",
        "elastic",
        "n_elastic",
        "clock",
        "elastic_rate",
        "since",
        "paced",
        "paced_demand",
        "paced_max",
        "starved",
        "bytes",
        "version",
        "progress",
    )

    def __init__(self, site: str, direction: Direction) -> None:
        self.site = site
        self.direction = direction
        self.alloc = 0.0  # bits/s granted by the tree
        self.elastic: list[tuple[float, int, Flow]] = []  # (finish on clock, id, flow)
        self.n_elastic = 0
        self.clock = 0.0  # wire bytes served to each elastic flow since the start
        self.elastic_rate = 0.0  # bits/s each elastic flow gets now
        self.since = 0.0  # time clock, bytes and paced progress were last brought up to date
        self.paced: dict[Flow, list[float]] = {}  # paced flow -> [wire bits/s now, since]
        self.paced_demand = 0.0  # wire bits/s all paced flows need
        self.paced_max = 0.0  # the largest single need
        self.starved = False  # True when some paced flow may be below its need
        self.bytes = 0.0  # cumulative L2 bytes through the leaf
        self.version = 0  # bumps on every reschedule; stale timer entries check it
        self.progress: dict[Flow, float] = {}  # elastic flow -> clock at its start

    def demand(self) -> float:
        return math.inf if self.n_elastic else self.paced_demand


class FluidBackend:
    """Flow-level HTB simulation (see the module docstring)."""

    name = "fluid"

    def __init__(
        self, env: simpy.Environment, access_bps: dict[str, float], overhead: float
    ) -> None:
        self.env = env
        self.access_bps = access_bps
        self.overhead = overhead  # wire bytes per goodput byte
        self.flows: list[Flow] = []
        self._leaves = {d: {s: _Leaf(s, d) for s in access_bps} for d in DIRECTIONS}
        self._live: dict[Direction, LiveAllocation] = {}
        self._leaf_at: dict[Direction, list[_Leaf | None]] = {}
        # every pending deadline (next finish of each leaf, patience, end of a paced flow) as
        # (due time, sequence, action, leaf, argument), served by one armed SimPy timeout
        self._timers: list[tuple[float, int, Callable[[_Leaf, Any], None], _Leaf, Any]] = []
        self._sequence = itertools.count()
        self._armed_at = math.inf

    # -- the Backend interface -------------------------------------------------------------

    def apply_plan(self, plan: ShapingPlan) -> None:
        now = self.env.now
        for direction in DIRECTIONS:
            tree = CompiledTree(plan.tree(direction), self.access_bps)
            leaves = self._leaves[direction]
            at: list[_Leaf | None] = [None] * len(tree)
            for site, index in tree.leaf_of_site.items():
                at[index] = leaves[site]
            live = LiveAllocation(tree, [lf.demand() if lf else 0.0 for lf in at])
            self._live[direction], self._leaf_at[direction] = live, at
            for leaf in leaves.values():
                index = tree.leaf_of_site.get(leaf.site)
                self._advance(leaf, now)
                leaf.alloc = live.alloc[index] if index is not None else 0.0
                self._refill(leaf)

    def transfer(self, flow: Flow) -> simpy.Event:
        flow.done = self.env.event()
        self.flows.append(flow)
        leaf = self._leaves[flow.direction][flow.site]
        now = self.env.now
        self._advance(leaf, now)
        if flow.paced:
            leaf.paced[flow] = [0.0, now]
            leaf.paced_demand += flow.rate * self.overhead
            leaf.paced_max = max(leaf.paced_max, flow.rate * self.overhead)
            leaf.starved = True
            self._at(now + flow.duration, self._end_paced, leaf, flow)
        else:
            finish = leaf.clock + flow.size * self.overhead
            heapq.heappush(leaf.elastic, (finish, flow.id, flow))
            leaf.progress[flow] = leaf.clock
            leaf.n_elastic += 1
            if math.isfinite(flow.patience):
                self._at(now + flow.patience, self._abandon, leaf, flow)
        self._demand_changed(leaf)
        return flow.done

    def leaf_bytes(self, direction: Direction) -> dict[str, float]:
        now = self.env.now
        return {
            s: lf.bytes + lf.alloc * (now - lf.since) / 8.0
            for s, lf in self._leaves[direction].items()
        }

    def leaf_drops(self, direction: Direction) -> dict[str, int]:
        return {s: 0 for s in self._leaves[direction]}

    def finish(self) -> None:
        now = self.env.now
        for direction in DIRECTIONS:
            for leaf in self._leaves[direction].values():
                self._advance(leaf, now)
                for flow in list(leaf.progress):
                    self._close_elastic(leaf, flow, "cut")
                for flow, share in leaf.paced.items():
                    self._settle(flow, share, now)
                    flow.delivered = min(flow.delivered, flow.size)
                    flow.status, flow.end = "cut", now
                leaf.paced.clear()

    # -- inside a leaf -----------------------------------------------------------------------

    def _advance(self, leaf: _Leaf, now: float) -> None:
        """Bring the leaf's virtual clock and byte counter up to `now`."""
        elapsed = now - leaf.since
        if elapsed > 0:
            leaf.clock += leaf.elastic_rate * elapsed / 8.0
            leaf.bytes += leaf.alloc * elapsed / 8.0
            leaf.since = now

    def _settle(self, flow: Flow, share: list[float], now: float) -> None:
        """Credit a paced flow with what it received at its current rate since it last changed."""
        rate, since = share
        elapsed = now - since
        flow.delivered += rate * elapsed / 8.0 / self.overhead
        if rate >= flow.rate * self.overhead * (1 - 1e-9):
            flow.time_at_rate += elapsed
        share[1] = now

    def _refill(self, leaf: _Leaf) -> None:
        """Split the leaf's allocation max-min fairly: paced flows capped at their rate."""
        if leaf.paced:
            level = self._fill_paced(leaf)
        else:
            level = leaf.alloc / leaf.n_elastic if leaf.n_elastic else 0.0
        leaf.elastic_rate = level if leaf.n_elastic else 0.0
        self._schedule(leaf)

    def _fill_paced(self, leaf: _Leaf) -> float:
        """Water-fill with paced flows capped at their needs; return the elastic flows' level."""
        spare = leaf.alloc - leaf.paced_demand
        if spare >= 0 and (not leaf.n_elastic or spare >= leaf.paced_max * leaf.n_elastic):
            if leaf.starved:  # all needs fit: give every paced flow its need
                now = self.env.now
                for flow, share in leaf.paced.items():
                    if share[0] != flow.rate * self.overhead:
                        self._settle(flow, share, now)
                        share[0] = flow.rate * self.overhead
                leaf.starved = False
            return spare / leaf.n_elastic if leaf.n_elastic else math.inf
        leaf.starved = True
        remaining = leaf.alloc
        sharers = leaf.n_elastic + len(leaf.paced)
        level = math.inf
        overhead = self.overhead
        for flow in sorted(leaf.paced, key=lambda f: f.rate):
            need = flow.rate * overhead
            if need * sharers <= remaining:
                remaining -= need
                sharers -= 1
            else:
                level = remaining / sharers
                break
        else:
            if leaf.n_elastic:
                level = remaining / leaf.n_elastic
        now = self.env.now
        for flow, share in leaf.paced.items():
            need = flow.rate * overhead
            rate = need if need <= level else level
            if rate != share[0]:
                self._settle(flow, share, now)
                share[0] = rate
        return level

    def _schedule(self, leaf: _Leaf) -> None:
        """(Re)arm the leaf's next elastic finish; older entries for the leaf become stale."""
        leaf.version += 1
        heap = leaf.elastic
        while heap and heap[0][2].status != "active":
            heapq.heappop(heap)
        if not heap or leaf.elastic_rate <= 0:
            return
        delay = max(0.0, (heap[0][0] - leaf.clock) * 8.0 / leaf.elastic_rate)
        self._at(self.env.now + delay, self._on_finish, leaf, leaf.version)

    def _at(
        self, due: float, action: Callable[[_Leaf, Any], None], leaf: _Leaf, argument: Any
    ) -> None:
        """Call action(leaf, argument) at `due`; arm a SimPy timeout if it is the earliest."""
        heapq.heappush(self._timers, (due, next(self._sequence), action, leaf, argument))
        if due < self._armed_at:
            self._armed_at = due
            self.env.timeout(due - self.env.now).callbacks.append(self._on_timer)

    def _on_timer(self, _event: simpy.Event) -> None:
        """One SimPy timeout serves every deadline: run all that are due, then re-arm."""
        now = self.env.now
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, action, leaf, argument = heapq.heappop(timers)
            action(leaf, argument)
        if timers and (self._armed_at <= now or timers[0][0] < self._armed_at):
            self._armed_at = timers[0][0]
            self.env.timeout(self._armed_at - now).callbacks.append(self._on_timer)
        elif not timers:
            self._armed_at = math.inf

    def _on_finish(self, leaf: _Leaf, version: int) -> None:
        if version != leaf.version:  # rescheduled since: a stale entry
            return
        self._advance(leaf, self.env.now)
        heap = leaf.elastic
        while heap and (heap[0][2].status != "active" or heap[0][0] <= leaf.clock + FINISH_SLACK):
            _, _, flow = heapq.heappop(heap)
            if flow.status == "active":
                self._close_elastic(leaf, flow, "done")
        self._demand_changed(leaf)

    def _close_elastic(self, leaf: _Leaf, flow: Flow, status: str) -> None:
        served = (leaf.clock - leaf.progress.pop(flow)) / self.overhead
        flow.delivered = flow.size if status == "done" else min(served, flow.size)
        flow.status = status  # type: ignore[assignment]
        flow.end = self.env.now
        leaf.n_elastic -= 1
        assert flow.done is not None
        flow.done.succeed(flow)

    def _abandon(self, leaf: _Leaf, flow: Flow) -> None:
        if flow.status != "active":
            return
        self._advance(leaf, self.env.now)
        self._close_elastic(leaf, flow, "abandoned")
        self._demand_changed(leaf)

    def _end_paced(self, leaf: _Leaf, flow: Flow) -> None:
        if flow.status != "active":
            return
        now = self.env.now
        self._advance(leaf, now)
        self._settle(flow, leaf.paced.pop(flow), now)
        leaf.paced_demand = sum(f.rate for f in leaf.paced) * self.overhead
        leaf.paced_max = max((f.rate for f in leaf.paced), default=0.0) * self.overhead
        flow.delivered = min(flow.delivered, flow.size)
        flow.status, flow.end = "done", now
        assert flow.done is not None
        flow.done.succeed(flow)
        self._demand_changed(leaf)

    # -- across the tree ---------------------------------------------------------------------

    def _demand_changed(self, leaf: _Leaf) -> None:
        """Update the tree if the leaf's demand moved, then re-split every leaf that changed."""
        live = self._live[leaf.direction]
        index = live.tree.leaf_of_site.get(leaf.site)
        new = leaf.demand()
        if index is None or live.demand[index] == new:
            self._refill(leaf)
            return
        touched_refilled = False
        now = self.env.now
        at = self._leaf_at[leaf.direction]
        for i in live.set_demand(index, new):
            other = at[i]
            if other is None:
                continue
            self._advance(other, now)
            other.alloc = live.alloc[i]
            self._refill(other)
            touched_refilled |= other is leaf
        if not touched_refilled:
            self._refill(leaf)

    @property
    def full_passes(self) -> int:
        """How many times a whole tree was reallocated (a measure of the fast path's use)."""
        return sum(live.full_passes for live in self._live.values())
