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
import math

import simpy

from sim.backends.base import Flow
from sim.shaping.htb import CompiledTree
from sim.shaping.plan import DIRECTIONS, Direction, ShapingPlan

FINISH_SLACK = 1.0  # wire bytes of virtual clock within which a flow counts as finished (float time)


class _Leaf:
    """One site's leaf class in one direction, with the flows it carries."""

    __slots__ = (
        "site", "direction", "alloc", "elastic", "n_elastic", "clock", "elastic_rate", "since", "paced",
        "paced_demand", "bytes", "version", "progress",
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
        self.paced: dict[Flow, float] = {}  # paced flow -> wire bits/s it gets now
        self.paced_demand = 0.0
        self.bytes = 0.0  # cumulative L2 bytes through the leaf
        self.version = 0  # bumps on every reschedule; stale completion timers check it
        self.progress: dict[Flow, float] = {}  # elastic flow -> clock at its start

    def demand(self) -> float:
        return math.inf if self.n_elastic else self.paced_demand


class FluidBackend:
    """Flow-level HTB simulation (see the module docstring)."""

    name = "fluid"

    def __init__(self, env: simpy.Environment, access_bps: dict[str, float],
                 overhead: float) -> None:
        self.env = env
        self.access_bps = access_bps
        self.overhead = overhead  # wire bytes per goodput byte
        self.flows: list[Flow] = []
        self._leaves = {d: {s: _Leaf(s, d) for s in access_bps} for d in DIRECTIONS}
        self._trees: dict[Direction, CompiledTree] = {}
        self._demand: dict[Direction, list[float]] = {}
        self.reallocations = 0

    # -- the Backend interface -------------------------------------------------------------

    def apply_plan(self, plan: ShapingPlan) -> None:
        for direction in DIRECTIONS:
            tree = CompiledTree(plan.tree(direction), self.access_bps)
            self._trees[direction] = tree
            demand = [0.0] * len(tree)
            for site, leaf in self._leaves[direction].items():
                if site in tree.leaf_of_site:
                    demand[tree.leaf_of_site[site]] = leaf.demand()
            self._demand[direction] = demand
            for leaf in self._leaves[direction].values():
                self._advance(leaf, self.env.now)
            self._reallocate(direction)

    def transfer(self, flow: Flow) -> simpy.Event:
        flow.done = self.env.event()
        self.flows.append(flow)
        leaf = self._leaves[flow.direction][flow.site]
        now = self.env.now
        self._advance(leaf, now)
        if flow.paced:
            leaf.paced[flow] = 0.0
            leaf.paced_demand += flow.rate * self.overhead
            self.env.timeout(flow.duration).callbacks.append(
                lambda _e, f=flow, lf=leaf: self._end_paced(lf, f))
        else:
            finish = leaf.clock + flow.size * self.overhead
            heapq.heappush(leaf.elastic, (finish, flow.id, flow))
            leaf.progress[flow] = leaf.clock
            leaf.n_elastic += 1
            if math.isfinite(flow.patience):
                self.env.timeout(flow.patience).callbacks.append(
                    lambda _e, f=flow, lf=leaf: self._abandon(lf, f))
        self._demand_changed(leaf)
        return flow.done

    def leaf_bytes(self, direction: Direction) -> dict[str, float]:
        now = self.env.now
        return {s: lf.bytes + lf.alloc * (now - lf.since) / 8.0
                for s, lf in self._leaves[direction].items()}

    def leaf_drops(self, direction: Direction) -> dict[str, int]:
        return {s: 0 for s in self._leaves[direction]}

    def finish(self) -> None:
        now = self.env.now
        for direction in DIRECTIONS:
            for leaf in self._leaves[direction].values():
                self._advance(leaf, now)
                for flow in list(leaf.progress):
                    self._close_elastic(leaf, flow, "cut")
                for flow in list(leaf.paced):
                    flow.delivered = min(flow.delivered, flow.size)
                    flow.status, flow.end = "cut", now
                leaf.paced.clear()

    # -- inside a leaf -----------------------------------------------------------------------

    def _advance(self, leaf: _Leaf, now: float) -> None:
        """Bring the leaf's clock, byte counter and paced flows' progress up to `now`."""
        elapsed = now - leaf.since
        if elapsed <= 0:
            return
        leaf.clock += leaf.elastic_rate * elapsed / 8.0
        leaf.bytes += leaf.alloc * elapsed / 8.0
        overhead = self.overhead
        for flow, wire_rate in leaf.paced.items():
            flow.delivered += wire_rate * elapsed / 8.0 / overhead
            if wire_rate >= flow.rate * overhead * (1 - 1e-9):
                flow.time_at_rate += elapsed
        leaf.since = now

    def _refill(self, leaf: _Leaf) -> None:
        """Split the leaf's allocation max-min fairly: paced flows capped at their rate."""
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
        for flow in leaf.paced:
            need = flow.rate * overhead
            leaf.paced[flow] = need if need <= level else level
        leaf.elastic_rate = level if leaf.n_elastic else 0.0
        self._schedule(leaf)

    def _schedule(self, leaf: _Leaf) -> None:
        """(Re)arm the timer for the next elastic finish in this leaf."""
        leaf.version += 1
        heap = leaf.elastic
        while heap and heap[0][2].status != "active":
            heapq.heappop(heap)
        if not heap or leaf.elastic_rate <= 0:
            return
        delay = max(0.0, (heap[0][0] - leaf.clock) * 8.0 / leaf.elastic_rate)
        version = leaf.version
        self.env.timeout(delay).callbacks.append(
            lambda _e, lf=leaf, v=version: self._on_finish(lf, v))

    def _on_finish(self, leaf: _Leaf, version: int) -> None:
        if version != leaf.version:
            return
        self._advance(leaf, self.env.now)
        heap = leaf.elastic
        while heap and (heap[0][2].status != "active"
                        or heap[0][0] <= leaf.clock + FINISH_SLACK):
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
        self._advance(leaf, self.env.now)
        del leaf.paced[flow]
        leaf.paced_demand = sum(f.rate for f in leaf.paced) * self.overhead
        flow.delivered = min(flow.delivered, flow.size)
        flow.status, flow.end = "done", self.env.now
        assert flow.done is not None
        flow.done.succeed(flow)
        self._demand_changed(leaf)

    # -- across the tree ---------------------------------------------------------------------

    def _demand_changed(self, leaf: _Leaf) -> None:
        """Reallocate the tree if the leaf's demand moved, else re-split the leaf alone."""
        direction = leaf.direction
        index = self._trees[direction].leaf_of_site.get(leaf.site)
        new = leaf.demand()
        demand = self._demand[direction]
        if index is not None and demand[index] != new:
            demand[index] = new
            self._reallocate(direction, leaf)
        else:
            self._refill(leaf)

    def _reallocate(self, direction: Direction, touched: _Leaf | None = None) -> None:
        """Recompute the tree; re-split leaves whose allocation moved (and the touched one)."""
        self.reallocations += 1
        tree = self._trees[direction]
        alloc = tree.allocate(self._demand[direction])
        now = self.env.now
        for site, leaf in self._leaves[direction].items():
            index = tree.leaf_of_site.get(site)
            granted = alloc[index] if index is not None else 0.0
            if granted != leaf.alloc or leaf is touched:
                self._advance(leaf, now)
                leaf.alloc = granted
                self._refill(leaf)
