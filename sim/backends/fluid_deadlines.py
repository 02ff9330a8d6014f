"""The fluid backend's deadlines: one heap by (due time, sequence), kept short.

A deadline is a leaf's next finish, a flow's handshakes over, its patience out or a paced
flow's end. Most of them lapse before they are due: a leaf's finish moves whenever its rates
move, and nearly every flow ends long before its patience would. Both kinds would linger in the
heap until their due time, making every push and pop dearer, so neither is pushed while an
earlier one stands for it:
- a leaf keeps at most one finish entry in the heap, its alarm: a finish later than the alarm
  is only recorded on the leaf, and armed (with the due time and sequence number it was given
  when it was set) when the alarm comes up;
- patience deadlines of one length arrive in time order, so they wait in a queue per length,
  and only the first of each queue is in the heap; the flows that ended meanwhile are skipped
  when it comes up.
Every deadline keeps the sequence number it was given when it was set, and a stand-in comes up
no later than what it stands for, so the live deadlines come up in exactly the order one entry
each would give (a merge of sorted queues), and the backend acts on exactly the same ones.

`make core` compiles this module with mypyc (docs/architecture.md, "The compiled core"): its
annotations must hold at run time, and an edit takes effect once it is compiled again.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Final

from sim.backends.fluid_leaf import Leaf
from sim.model.compiled import refuse_stale
from sim.model.flow import Flow

refuse_stale(__file__)

# What a deadline does when it is due. Codes, not bound methods: one object less per deadline,
# and served by a compiled branch instead of a Python call.
FINISH: Final = 0  # the leaf's next finish (flow: None; its sequence is the leaf's version)
START: Final = 1  # the flow's handshakes and slow start are over
ABANDON: Final = 2  # the flow's patience is out
END_PACED: Final = 3  # the paced flow's duration is over

# (due time, sequence, what, leaf, flow)
Deadline = tuple[float, int, int, Leaf, Flow | None]


class Deadlines:
    """The heap (shared with the FluidEnvironment, which reads its top) and what waits off it."""

    def __init__(self, heap: list[Deadline]) -> None:
        self.heap = heap
        self.sequence = 0  # the next deadline's: it orders deadlines due at the same time
        self.waiting: dict[float, deque[Deadline]] = {}  # patience -> its deadlines, in order

    def at(self, due: float, what: int, leaf: Leaf, flow: Flow) -> None:
        """Do `what` for the flow at `due` (not before now)."""
        sequence = self.sequence
        self.sequence = sequence + 1
        if what == ABANDON:
            queue = self.waiting.get(flow.patience)
            if queue is None:
                queue = self.waiting[flow.patience] = deque()
            queue.append((due, sequence, what, leaf, flow))
            if len(queue) > 1:  # the first of the queue stands for it in the heap
                return
        heapq.heappush(self.heap, (due, sequence, what, leaf, flow))

    def finish_at(self, leaf: Leaf, due: float) -> None:
        """Make `due` the leaf's next finish (any earlier one lapses)."""
        sequence = self.sequence
        self.sequence = sequence + 1
        leaf.version, leaf.due = sequence, due
        if leaf.alarm < 0 or due < leaf.alarm_due:
            self._alarm(leaf)

    def _alarm(self, leaf: Leaf) -> None:
        """Put the leaf's next finish into the heap as its alarm."""
        leaf.alarm, leaf.alarm_due = leaf.version, leaf.due
        heapq.heappush(self.heap, (leaf.due, leaf.version, FINISH, leaf, None))

    def pop(self, now: float) -> Deadline | None:
        """The next live deadline due by `now`, taken off the heap (None: none is due); a
        handshake, patience or paced deadline is live while its flow is active, a finish while
        it is its leaf's."""
        heap = self.heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self._live(entry):
                return entry
        return None

    def drop_lapsed(self) -> None:
        """Take lapsed deadlines off the top, so the environment never stops for one."""
        heap = self.heap
        while heap:
            _, sequence, _, leaf, flow = heap[0]
            if flow is not None and flow.status == "active":
                return
            if flow is None and sequence == leaf.version:
                return
            self._live(heapq.heappop(heap))

    def _live(self, entry: Deadline) -> bool:
        """Whether a deadline just taken off the heap is live; a stand-in puts what it stood
        for in its place."""
        _, sequence, what, leaf, flow = entry
        if flow is None:
            if sequence != leaf.alarm:  # a finish that an earlier one replaced
                return False
            leaf.alarm = -1
            if sequence == leaf.version:
                return True
            if leaf.version >= 0:  # the leaf's finish moved later: arm it now
                self._alarm(leaf)
            return False
        if what == ABANDON:
            queue = self.waiting[flow.patience]
            queue.popleft()
            while queue:
                first = queue[0][4]
                if first is not None and first.status == "active":
                    heapq.heappush(self.heap, queue[0])
                    break
                queue.popleft()
        return flow.status == "active"
