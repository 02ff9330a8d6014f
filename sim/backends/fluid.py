"""Fluid backend: flow-level simulation with exact HTB semantics, event-driven inside SimPy.

The class tree is reallocated only when a leaf's demand changes (a leaf's flows and clocks:
sim/backends/fluid_leaf.py). A leaf's demand is unbounded while it has an elastic flow, else
the sum of its paced flows' needs; so most arrivals and departures at a busy site only re-split
that site's allocation among its flows.

Inside a leaf, flows share max-min fairly: a paced flow gets its need if the fair level allows,
else the level, like every elastic flow. So all flows at the level progress on one virtual
clock per leaf (wire bytes served to each such flow): an elastic flow's finish is a fixed point
on that clock, kept in a heap (processor sharing in O(log n) per event), and a paced flow below
its need reads its bytes off the clock. Paced flows are grouped by need (applications have a
few fixed rates), so a change of level costs O(groups), not O(flows). All rates inside are L2
bits/s; flows report goodput (wire / overhead).

Latency (given `paths`, sim/model/tcp.py): every elastic flow's rate is also capped by its
application's window/RTT and Mathis bound at its site, and it first waits out its handshakes
and slow start (Cardwell et al. 2000) before its bytes flow. Elastic flows of one leaf are
grouped by cap, each group on its own clock at min(cap, fair level); in the water-fill a
capped group is filled like a paced group. A leaf's demand is then the sum of its flows' caps
and needs (unbounded once that reaches its access rate, as the tree caps it there anyway).

Per-user caps (a plan leaf's `per_user_bps`, RouterOS PCQ's pcq-rate): a user issues one
transfer at a time in each direction (sim/demand/users.py), so capping each user is capping
each flow of the leaf. An elastic flow's cap is the lower of its own and the leaf's; a paced
flow's need is cut to the leaf's cap (it then never counts as at its rate). A plan switch that
changes a leaf's cap regroups its flows, each keeping what it has received.

`make core` compiles this module with mypyc (docs/architecture.md, "The compiled core"): its
annotations must hold at run time, and an edit takes effect once it is compiled again.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from types import MethodType
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr
from simpy.core import BoundClass, Environment  # from its own module, which mypyc needs to see

from sim.backends.fluid_deadlines import ABANDON, END_PACED, START, Deadline, Deadlines
from sim.backends.fluid_leaf import ElasticGroup, Leaf, PacedGroup, Readout, user_caps
from sim.model.compiled import refuse_stale
from sim.model.flow import Direction, Flow, FlowStatus
from sim.model.tcp import TcpPath
from sim.shaping.control import LeafStates
from sim.shaping.htb import CompiledTree, LiveAllocation
from sim.shaping.plan import DIRECTIONS, ShapingPlan

refuse_stale(__file__)

FINISH_SLACK = 1.0  # wire bytes of clock within which a flow counts as finished (float time)
RATE_TOLERANCE = 1e-9  # relative: a paced flow this close to its need counts as at its need
PACED_MARGIN = 1e-6  # relative: a share this far from every need and cap needs no water-fill


@mypyc_attr(native_class=False)  # a subclass of SimPy's (interpreted) Environment
class FluidEnvironment(Environment):
    """SimPy's environment, also serving the fluid backend's deadlines in time order.

    The backend keeps about three deadlines per flow (handshakes over, bytes delivered,
    patience out), and most finish deadlines are superseded before they are due. As SimPy
    timeouts each would be an event to make, queue and step; here they stay in the backend's
    own heap, and each step serves the earlier of the two: the next SimPy event, or every
    deadline due at the next deadline's time (SimPy first at equal times). It reads SimPy's
    private `_queue` and sets `_now` (simpy is pinned to major 4: tests/test_simpy_internals.py).
    """

    def __init__(self, initial_time: float = 0.0) -> None:
        Environment.__init__(self, initial_time)  # named: compiled, super() would miss it
        self.deadlines: list[Deadline] = []  # a heap by due time
        self.backend: FluidBackend | None = None  # whose deadlines these are
        # SimPy binds its event factories (env.timeout, ...) to a plain Environment once, but
        # only those of the instance's own class: bound here, a timeout costs no descriptor call
        for name, factory in vars(Environment).items():
            if type(factory) is BoundClass:
                setattr(self, name, MethodType(factory.cls, self))

    @property
    def now(self) -> float:
        """The current simulation time (SimPy's, read without an interpreted call)."""
        return self._now

    def peek(self) -> float:
        return min(self.deadlines[0][0] if self.deadlines else math.inf, Environment.peek(self))

    def step(self) -> None:
        deadlines = self.deadlines
        if deadlines:
            queue = self._queue
            due = deadlines[0][0]
            if not queue or due < queue[0][0]:
                self._now = due
                backend = self.backend
                assert backend is not None  # it put the deadlines there
                backend._serve_due(due)
                return
        Environment.step(self)


class FluidBackend:
    """Flow-level HTB simulation (see the module docstring)."""

    name = "fluid"

    def __init__(
        self,
        env: FluidEnvironment,
        access_bps: dict[str, float],
        overhead: float,
        paths: Mapping[tuple[str, str], TcpPath] | None = None,
    ) -> None:
        if not isinstance(env, FluidEnvironment):
            raise TypeError(
                "the fluid backend runs in a FluidEnvironment, which serves its deadlines"
            )
        self.env = env
        self.access_bps = access_bps
        self.overhead = overhead  # wire bytes per goodput byte
        self.paths = paths or {}  # (site, elastic app) -> its TCP path; none: no latency
        self.flows: list[Flow] = []
        self._leaves = {d: {s: Leaf(s, d, a) for s, a in access_bps.items()} for d in DIRECTIONS}
        self._readouts = {d: Readout(self._leaves[d]) for d in DIRECTIONS}  # for controllers
        self._live: dict[Direction, LiveAllocation] = {}
        self._trees: dict[Direction, CompiledTree] = {}  # the trees in force, compiled
        self._leaf_at: dict[Direction, list[Leaf | None]] = {}
        # every pending deadline (next finish of each leaf, patience, end of a paced flow),
        # served by the environment
        self._deadlines = Deadlines(env.deadlines)
        env.backend = self
        self._ended: list[Flow] = []  # flows ended by the deadlines being served, to call back

    # -- the Backend interface -------------------------------------------------------------

    def apply_plan(self, plan: ShapingPlan) -> None:
        now = self.env.now
        for direction in DIRECTIONS:
            was = self._trees.get(direction)  # its structure kept if only guarantees moved
            tree = self._trees[direction] = CompiledTree(plan.tree(direction), self.access_bps, was)
            leaves = self._leaves[direction]
            at: list[Leaf | None] = [None] * len(tree)
            for site, index in tree.leaf_of_site.items():
                at[index] = leaves[site]
            caps = user_caps(plan, direction)
            for leaf in leaves.values():
                cap = caps.get(leaf.site, math.inf)
                if cap != leaf.user_cap:
                    self._advance(leaf, now)
                    self._recap(leaf, cap)
            live = LiveAllocation(tree, [lf.demand() if lf else 0.0 for lf in at])
            self._live[direction], self._leaf_at[direction] = live, at
            for leaf in leaves.values():
                leaf.index = shaped = tree.leaf_of_site.get(leaf.site)
                self._advance(leaf, now)
                leaf.alloc = live.alloc[shaped] if shaped is not None else 0.0
                self._refill(leaf, now)

    def transfer(self, flow: Flow, on_end: Callable[[Flow], None] | None = None) -> None:
        flow.on_end = on_end
        self.flows.append(flow)
        leaf = self._leaves[flow.direction][flow.site]
        now = self.env.now
        if flow.rate > 0:  # paced
            self._advance(leaf, now)
            need = self._need(leaf, flow)
            group = leaf.groups.get(need)
            if group is None:
                group = leaf.groups[need] = PacedGroup(need)
            group.marks[flow] = now if group.at_need else leaf.clock
            leaf.n_paced += 1
            leaf.n_starved += 0 if group.at_need else 1
            leaf.paced_demand += need
            self._deadlines.at(now + flow.duration, END_PACED, leaf, flow)
        else:
            if math.isfinite(flow.patience):
                self._deadlines.at(now + flow.patience, ABANDON, leaf, flow)
            path = self.paths.get((flow.site, flow.app))
            if path is not None:
                leaf.setup[flow] = path.cap_bps * self.overhead
                self._deadlines.at(now + path.setup_s(flow.size), START, leaf, flow)
                return
            self._advance(leaf, now)
            self._add_elastic(leaf, flow, leaf.user_cap, now)
        self._demand_changed(leaf, now)

    def leaf_bytes(self, direction: Direction) -> dict[str, float]:
        now = self.env.now
        return {
            s: lf.bytes + lf.alloc * (now - lf.since) / 8.0
            for s, lf in self._leaves[direction].items()
        }

    def leaf_drops(self, direction: Direction) -> dict[str, int]:
        return dict.fromkeys(self._leaves[direction], 0)

    def leaf_states(self, direction: Direction) -> LeafStates:
        return self._readouts[direction].read(self.env.now)

    def finish(self) -> None:
        now = self.env.now
        for direction in DIRECTIONS:
            for leaf in self._leaves[direction].values():
                self._advance(leaf, now)
                for flow in list(leaf.group_of):
                    self._close_elastic(leaf, flow, "cut", now)
                for flow in list(leaf.setup):
                    self._close_in_setup(leaf, flow, "cut")
                for group in leaf.groups.values():
                    for flow in group.marks:
                        self._credit(leaf, group, flow, now)
                        flow.delivered = min(flow.delivered, flow.size)
                        flow.status, flow.end = "cut", now
                leaf.groups.clear()
                leaf.n_paced = leaf.n_starved = 0
        self._ended.clear()  # the run is over: nobody is called back

    # -- inside a leaf -----------------------------------------------------------------------

    def _advance(self, leaf: Leaf, now: float) -> None:
        """Bring the leaf's clock and byte counter up to `now`."""
        elapsed = now - leaf.since
        if elapsed > 0:
            leaf.clock += leaf.level * elapsed / 8.0
            for group in leaf.egroups.values():
                group.clock += group.rate * elapsed / 8.0
            leaf.bytes += leaf.alloc * elapsed / 8.0
            leaf.since = now

    def _credit(self, leaf: Leaf, group: PacedGroup, flow: Flow, now: float) -> None:
        """Credit a paced flow with what it received since its mark; mark it now."""
        mark = group.marks[flow]
        if group.at_need:
            flow.delivered += group.need * (now - mark) / 8.0 / self.overhead
            if flow.rate * self.overhead <= group.need:  # not cut by a per-user cap
                flow.time_at_rate += now - mark
            group.marks[flow] = now
        else:
            flow.delivered += (leaf.clock - mark) / self.overhead
            group.marks[flow] = leaf.clock

    def _refill(self, leaf: Leaf, now: float) -> None:
        """Split the leaf's allocation max-min fairly; re-arm its next finish if a rate or the
        flows moved (else its live finish entry still holds)."""
        egroups = leaf.egroups
        if not leaf.groups and len(egroups) <= 1:  # one group: all at min(cap, fair share)
            level = leaf.alloc / leaf.n_elastic if leaf.n_elastic else 0.0
        elif (
            not leaf.n_starved
            and math.inf not in egroups
            and leaf.paced_demand + leaf.elastic_demand <= leaf.alloc * (1 + RATE_TOLERANCE)
        ):  # every flow fits at its cap or need, and no paced group has to move
            level = math.inf
        elif not leaf.n_starved and len(egroups) == 1:
            # the common busy leaf: paced flows at their needs, elastic flows under one cap
            # share the rest; if a need or the cap comes near that share, the water-fill decides
            level = (leaf.alloc - leaf.paced_demand) / leaf.n_elastic
            near = level / (1 + PACED_MARGIN)
            if next(iter(egroups)) <= level * (1 + PACED_MARGIN) or max(leaf.groups) >= near:
                level = self._water_fill(leaf, now)
        else:
            level = self._water_fill(leaf, now)
        moved = leaf.heads_moved
        for group in egroups.values():
            cap = group.cap
            rate = cap if cap < level else level
            if rate != group.rate:
                group.rate = rate
                moved = True
        leaf.level = level if leaf.n_starved else 0.0
        if moved:
            self._schedule(leaf, now)

    def _water_fill(self, leaf: Leaf, now: float) -> float:
        """The fair level with paced groups capped at their needs and elastic groups at their
        caps; move paced groups across it."""
        remaining = leaf.alloc
        sharers = leaf.n_elastic + leaf.n_paced
        free = leaf.egroups.get(math.inf)
        caps = [(need, len(group.marks)) for need, group in leaf.groups.items()]
        if len(leaf.egroups) > (free is not None):
            caps += [(cap, len(g.start_clock)) for cap, g in leaf.egroups.items() if g is not free]
        caps.sort()
        level = math.inf
        for need, count in caps:
            if need * sharers <= remaining * (1 + RATE_TOLERANCE):
                remaining -= need * count
                sharers -= count
            else:
                level = remaining / sharers
                break
        else:
            if free is not None:
                level = remaining / len(free.start_clock)
        for need, group in leaf.groups.items():
            at_need = need <= level * (1 + RATE_TOLERANCE)
            if at_need != group.at_need:
                for flow in group.marks:
                    self._credit(leaf, group, flow, now)
                group.at_need = at_need
                for flow in group.marks:
                    group.marks[flow] = now if at_need else leaf.clock
                leaf.n_starved += -len(group.marks) if at_need else len(group.marks)
        return level

    def _schedule(self, leaf: Leaf, now: float) -> None:
        """(Re)arm the leaf's next elastic finish; older entries for the leaf become stale."""
        leaf.version = -1  # none live, until one is armed below
        leaf.heads_moved = False
        leaf.due = math.inf
        delay = math.inf
        for group in leaf.egroups.values():
            heap = group.heap
            while heap and heap[0][2].status != "active":
                heapq.heappop(heap)
            if heap and group.rate > 0:
                due = (heap[0][0] - group.clock) * 8.0 / group.rate
                if due < delay:
                    delay = due
        if delay < math.inf:
            self._deadlines.finish_at(leaf, now + max(0.0, delay))

    def _serve_due(self, now: float) -> None:
        """Run every deadline due now, then call the users back."""
        deadlines = self._deadlines
        while (entry := deadlines.pop(now)) is not None:
            _, _, what, leaf, flow = entry
            if flow is None:
                self._on_finish(leaf, now)
            elif what == START:
                self._start_elastic(leaf, flow, now)
            elif what == ABANDON:
                self._abandon(leaf, flow)
            else:
                self._end_paced(leaf, flow, now)
        ended = self._ended
        if ended:
            for flow in ended:  # the users' next steps, now that the bookkeeping is done
                if flow.on_end is not None:
                    flow.on_end(flow)
            ended.clear()
        deadlines.drop_lapsed()

    def _on_finish(self, leaf: Leaf, now: float) -> None:
        leaf.heads_moved = True  # its live entry is spent, even if no flow is quite done
        self._advance(leaf, now)
        for group in list(leaf.egroups.values()):
            heap = group.heap
            while heap and (
                heap[0][2].status != "active" or heap[0][0] <= group.clock + FINISH_SLACK
            ):
                _, _, flow = heapq.heappop(heap)
                if flow.status == "active":
                    self._close_elastic(leaf, flow, "done", now)
        self._demand_changed(leaf, now)

    def _add_elastic(
        self, leaf: Leaf, flow: Flow, cap: float, now: float, served: float = 0.0
    ) -> None:
        """Put an elastic flow into its leaf's group of that cap (wire bits/s); served: the wire
        bytes it already has (when regrouped)."""
        group = leaf.egroups.get(cap)
        if group is None:
            group = leaf.egroups[cap] = ElasticGroup(cap)
        wire = flow.size * self.overhead - served
        heapq.heappush(group.heap, (group.clock + wire, flow.id, flow))
        group.start_clock[flow] = group.clock - served
        rate = group.rate
        if not rate or now + wire * 8.0 / rate < leaf.due:
            leaf.heads_moved = True
        leaf.group_of[flow] = group
        leaf.n_elastic += 1
        if cap != math.inf:
            leaf.elastic_demand += cap

    def _start_elastic(self, leaf: Leaf, flow: Flow, now: float) -> None:
        """Handshakes and slow start are over: the flow's bytes start to flow."""
        cap = leaf.setup.pop(flow, None)
        if cap is None:  # abandoned meanwhile
            return
        self._advance(leaf, now)
        self._add_elastic(leaf, flow, cap if cap < leaf.user_cap else leaf.user_cap, now)
        self._demand_changed(leaf, now)

    def _close_elastic(self, leaf: Leaf, flow: Flow, status: FlowStatus, now: float) -> None:
        group = leaf.group_of.pop(flow)
        leaf.heads_moved = True
        served = (group.clock - group.start_clock.pop(flow)) / self.overhead
        flow.delivered = flow.size if status == "done" else min(served, flow.size)
        flow.status = status
        flow.end = now
        leaf.n_elastic -= 1
        if group.cap != math.inf:
            leaf.elastic_demand = leaf.elastic_demand - group.cap if leaf.n_elastic else 0.0
        if not group.start_clock:
            del leaf.egroups[group.cap]
        self._ended.append(flow)

    def _close_in_setup(self, leaf: Leaf, flow: Flow, status: FlowStatus) -> None:
        """End a flow still in handshake or slow start: nothing of it was delivered."""
        del leaf.setup[flow]
        flow.status = status
        flow.end = self.env.now
        self._ended.append(flow)

    def _abandon(self, leaf: Leaf, flow: Flow) -> None:
        if flow.status != "active":
            return
        if flow in leaf.setup:
            self._close_in_setup(leaf, flow, "abandoned")
            return
        now = self.env.now
        self._advance(leaf, now)
        self._close_elastic(leaf, flow, "abandoned", now)
        self._demand_changed(leaf, now)

    def _end_paced(self, leaf: Leaf, flow: Flow, now: float) -> None:
        if flow.status != "active":
            return
        self._advance(leaf, now)
        group = leaf.groups[self._need(leaf, flow)]
        self._credit(leaf, group, flow, now)
        del group.marks[flow]
        leaf.n_paced -= 1
        leaf.n_starved -= 0 if group.at_need else 1
        if not group.marks:
            del leaf.groups[group.need]
        leaf.paced_demand = sum(g.need * len(g.marks) for g in leaf.groups.values())
        flow.delivered = min(flow.delivered, flow.size)
        flow.status, flow.end = "done", now
        self._ended.append(flow)
        self._demand_changed(leaf, now)

    def _need(self, leaf: Leaf, flow: Flow) -> float:
        """A paced flow's need in its leaf: its rate on the wire, cut to the per-user cap."""
        need = flow.rate * self.overhead
        return need if need < leaf.user_cap else leaf.user_cap

    def _recap(self, leaf: Leaf, cap: float) -> None:
        """Give the leaf (brought up to now) a new per-user cap: regroup its flows under it,
        paced ones credited so far and at their needs until the next refill, elastic ones
        keeping the bytes they have."""
        now = self.env.now
        paced: list[Flow] = []
        for pgroup in leaf.groups.values():
            for flow in pgroup.marks:
                self._credit(leaf, pgroup, flow, now)
                paced.append(flow)
        elastic = [(f, g.clock - g.start_clock[f]) for f, g in leaf.group_of.items()]
        leaf.user_cap = cap
        leaf.groups, leaf.n_starved, leaf.paced_demand = {}, 0, 0.0
        for flow in paced:
            need = self._need(leaf, flow)
            group = leaf.groups.get(need)
            if group is None:
                group = leaf.groups[need] = PacedGroup(need)
            group.marks[flow] = now
            leaf.paced_demand += need
        leaf.egroups, leaf.group_of, leaf.n_elastic, leaf.elastic_demand = {}, {}, 0, 0.0
        for flow, served in elastic:
            path = self.paths.get((flow.site, flow.app))
            own = path.cap_bps * self.overhead if path is not None else math.inf
            self._add_elastic(leaf, flow, own if own < cap else cap, now, served)
        leaf.heads_moved = True

    # -- across the tree ---------------------------------------------------------------------

    def _demand_changed(self, leaf: Leaf, now: float) -> None:
        """Update the tree if the leaf's demand moved, then re-split every leaf that changed."""
        live = self._live[leaf.direction]
        index = leaf.index
        new = leaf.demand()
        if index is None or live.demand[index] == new:
            self._refill(leaf, now)
            return
        touched_refilled = False
        at = self._leaf_at[leaf.direction]
        for i in live.set_demand(index, new):
            other = at[i]
            if other is None:
                continue
            self._advance(other, now)
            other.alloc = live.alloc[i]
            self._refill(other, now)
            touched_refilled |= other is leaf
        if not touched_refilled:
            self._refill(leaf, now)


if TYPE_CHECKING:  # mypy checks the class against the interface it implements, structurally
    from sim.backends.base import Backend

    _IMPLEMENTS: type[Backend] = FluidBackend
