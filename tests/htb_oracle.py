"""A packet-level HTB written from Linux's net/sched/sch_htb.c, to check the fluid allocator.

Independent of sim/shaping/htb.py on purpose: it follows the kernel's mechanics, not a fluid
formula. Per class a rate and a ceil token bucket kept in nanoseconds (burst/cburst depth,
charged the packet's transmission time at rate or ceil), the three modes, levels (leaves 0, the
root 7, an inner class one below its parent), per level and prio a row of classes that may send
on their own rate, per inner class and prio a feed of children borrowing through it, the wait
queue of mode changes, round-robin pointers that move an inner class's pointer on only when the
one below it wraps, per-leaf DRR deficits per level with the leaf's quantum, and the charge of
a packet served at level L to the rate tokens of classes at level >= L and to the ceil tokens
of every class up to the root. Inner classes' prio and quantum are never read, as in the kernel.

A virtual clock drives it: a link of `link_bps` asks for a packet whenever it is free; when HTB
has none to give, the clock jumps to the next mode change or arrival. Greedy leaves always have
a packet; a finite demand arrives as evenly spaced packets. Slow (~10 us a packet) and literal.
"""

from __future__ import annotations

import bisect
import heapq
import math

from sim.shaping.plan import ClassTree, kernel_quantum

CANT_SEND, MAY_BORROW, CAN_SEND = 0, 1, 2
TOP_LEVEL = 7  # the root's level: TC_HTB_MAXDEPTH - 1
NS = 1_000_000_000
MBUFFER_NS = 60 * NS  # the kernel's cap on how long a bucket may go unobserved
MIN_BURST_BYTES = 15_000  # burst/cburst: `burst_s` of rate/ceil, at least this (as netlab's tc)


def burst_bytes(rate_bps: float, burst_s: float = 0.05) -> float:
    """Bucket depth in bytes for a rate (burst) or ceil (cburst)."""
    return max(rate_bps * burst_s / 8, MIN_BURST_BYTES)


class _Ring:
    """Active classes of one prio in a row or a feed, in id order, with the round-robin pointer
    (None once past the end) and the id to resume from after the pointed class left."""

    __slots__ = ("ids", "ptr", "hint")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.ptr: int | None = None
        self.hint: int | None = None

    def after(self, index: int) -> int | None:
        """The next id after `index` in order, None past the end."""
        k = bisect.bisect_right(self.ids, index)
        return self.ids[k] if k < len(self.ids) else None

    def at_or_after(self, index: int) -> int | None:
        """The first id not below `index`, None past the end."""
        k = bisect.bisect_left(self.ids, index)
        return self.ids[k] if k < len(self.ids) else None


class _Class:
    """One HTB class's state; `queued` is the leaf's backlog in packets (inf: greedy)."""

    __slots__ = (
        "index", "parent", "level", "prio", "quantum", "rate_cost", "ceil_cost", "buffer",
        "cbuffer", "tokens", "ctokens", "t_c", "mode", "activity", "feed", "deficit", "queued",
        "pq_key",
    )  # fmt: skip

    def __init__(
        self, index: int, rate: float, ceil: float, packet: int, burst_s: float, cburst_min: float
    ) -> None:
        self.index = index
        self.parent: _Class | None = None
        self.level = 0
        self.prio = 0
        self.quantum = 0
        self.rate_cost = round(packet * 8 * NS / rate)
        self.ceil_cost = round(packet * 8 * NS / ceil)
        self.buffer = round(burst_bytes(rate, burst_s) * 8 * NS / rate)
        self.cbuffer = round(max(burst_bytes(ceil, burst_s), cburst_min) * 8 * NS / ceil)
        self.tokens, self.ctokens, self.t_c = self.buffer, self.cbuffer, 0
        self.mode = CAN_SEND
        self.activity = 0  # bit p set: active at prio p (a leaf with backlog, or a feed in use)
        self.feed = [_Ring() for _ in range(TOP_LEVEL + 1)]
        self.deficit = [0] * (TOP_LEVEL + 1)
        self.queued: float = 0
        self.pq_key = 0  # when its mode next changes, while it is not CAN_SEND


def _bits(mask: int):
    """The set bits of mask, lowest first (the kernel's ffz loop)."""
    while mask:
        low = mask & -mask
        mask ^= low
        yield low.bit_length() - 1


class Htb:
    """The scheduler: rows and wait queues per level, and the dequeue the link calls."""

    def __init__(
        self, tree: ClassTree, packet: int, burst_s: float, quantum_in_cburst: bool
    ) -> None:
        index = {c.id: i for i, c in enumerate(tree.classes)}
        self.packet = packet
        self.classes = [
            _Class(i, c.rate, c.ceil, packet, burst_s, kernel_quantum(c) * quantum_in_cburst)
            for i, c in enumerate(tree.classes)
        ]
        has_kids = {c.parent for c in tree.classes if c.parent is not None}
        for spec, cl in zip(tree.classes, self.classes, strict=True):
            if spec.parent is None:
                cl.level = TOP_LEVEL
            else:
                cl.parent = self.classes[index[spec.parent]]
                cl.level = cl.parent.level - 1 if spec.id in has_kids else 0
            if spec.id not in has_kids:  # only a leaf's prio and quantum are kept
                cl.prio, cl.quantum = spec.prio, kernel_quantum(spec)
        self.levels = sorted({cl.level for cl in self.classes})
        self.rows = {lv: [_Ring() for _ in range(TOP_LEVEL + 1)] for lv in self.levels}
        self.row_mask = dict.fromkeys(self.levels, 0)
        self.waits: dict[int, list[_Class]] = {lv: [] for lv in self.levels}
        self.near_event = dict.fromkeys(self.levels, 0)
        self.now = 0

    # -- feeds and rows ------------------------------------------------------------------------

    def activate(self, cl: _Class) -> None:
        """A leaf got backlog: join the row or its parent's feed at its prio."""
        if not cl.activity:
            cl.activity = 1 << cl.prio
            self._activate_prios(cl)

    def deactivate(self, cl: _Class) -> None:
        """A leaf's backlog ran out: leave the row or feeds."""
        self._deactivate_prios(cl)
        cl.activity = 0

    def _activate_prios(self, cl: _Class) -> None:
        """Hook cl into its parent's feeds while it borrows, climbing while the parent does too."""
        parent, mask = cl.parent, cl.activity
        while cl.mode == MAY_BORROW and parent is not None and mask:
            for prio in _bits(mask):
                feed = parent.feed[prio]
                if feed.ids:  # the parent is already hooked in at this prio
                    mask &= ~(1 << prio)
                bisect.insort(feed.ids, cl.index)
            parent.activity |= mask
            cl, parent = parent, parent.parent
        if cl.mode == CAN_SEND and mask:
            self.row_mask[cl.level] |= mask
            for prio in _bits(mask):
                bisect.insort(self.rows[cl.level][prio].ids, cl.index)

    def _deactivate_prios(self, cl: _Class) -> None:
        """Unhook cl (in its old mode) from feeds and rows, climbing while feeds empty."""
        parent, mask = cl.parent, cl.activity
        while cl.mode == MAY_BORROW and parent is not None and mask:
            emptied = 0
            for prio in _bits(mask):
                feed = parent.feed[prio]
                if feed.ptr == cl.index:  # forget the pointer, remember where it was
                    feed.hint, feed.ptr = cl.index, None
                feed.ids.remove(cl.index)
                if not feed.ids:
                    emptied |= 1 << prio
            mask = emptied
            parent.activity &= ~mask
            cl, parent = parent, parent.parent
        if cl.mode == CAN_SEND and mask:
            self._leave_row(cl, mask)

    def _leave_row(self, cl: _Class, mask: int) -> None:
        """Take cl out of its level's rows; a pointer on it moves to the next class."""
        emptied = 0
        for prio in _bits(mask):
            row = self.rows[cl.level][prio]
            if row.ptr == cl.index:
                row.ptr = row.after(cl.index)
            row.ids.remove(cl.index)
            if not row.ids:
                emptied |= 1 << prio
        self.row_mask[cl.level] &= ~emptied

    # -- modes, charging, events ---------------------------------------------------------------

    def _change_mode(self, cl: _Class, diff: int) -> int:
        """Recompute cl's mode `diff` ns after its checkpoint; return the ns until it changes."""
        toks = cl.ctokens + diff
        if toks < 0:
            new, diff = CANT_SEND, -toks
        else:
            toks = cl.tokens + diff
            new, diff = (CAN_SEND, diff) if toks >= 0 else (MAY_BORROW, -toks)
        if new != cl.mode:
            if cl.activity:
                if cl.mode != CANT_SEND:
                    self._deactivate_prios(cl)
                cl.mode = new
                if new != CANT_SEND:
                    self._activate_prios(cl)
            else:
                cl.mode = new
        return diff

    def _wait(self, cl: _Class, delay: int) -> None:
        """Queue cl's next mode change `delay` ns from now at its level."""
        cl.pq_key = self.now + max(delay, 1)
        self.waits[cl.level].append(cl)
        self.near_event[cl.level] = min(self.near_event[cl.level], cl.pq_key)

    def _unwait(self, cl: _Class) -> None:
        self.waits[cl.level].remove(cl)

    def _charge(self, cl: _Class | None, level: int) -> None:
        """A packet of leaf cl was served at `level`: charge it up to the root."""
        now = self.now
        while cl is not None:
            diff = min(now - cl.t_c, MBUFFER_NS)
            if cl.level >= level:
                toks = min(cl.tokens + diff, cl.buffer) - cl.rate_cost
                cl.tokens = max(toks, 1 - MBUFFER_NS)
            else:
                cl.tokens += diff  # the checkpoint moves; tokens catch up uncharged
            ctoks = min(cl.ctokens + diff, cl.cbuffer) - cl.ceil_cost
            cl.ctokens = max(ctoks, 1 - MBUFFER_NS)
            cl.t_c = now
            old = cl.mode
            delay = self._change_mode(cl, 0)
            if old != cl.mode:
                if old != CAN_SEND:
                    self._unwait(cl)
                if cl.mode != CAN_SEND:
                    self._wait(cl, delay)
            cl = cl.parent

    def _do_events(self, level: int) -> int:
        """Apply due mode changes at one level; return the next one's time (0: none)."""
        waits = self.waits[level]
        while waits:
            cl = min(waits, key=lambda c: c.pq_key)
            if cl.pq_key > self.now:
                return cl.pq_key
            self._unwait(cl)
            delay = self._change_mode(cl, min(self.now - cl.t_c, MBUFFER_NS))
            if cl.mode != CAN_SEND:
                self._wait(cl, delay)
        return 0

    # -- dequeue -------------------------------------------------------------------------------

    def _lookup_leaf(self, ring: _Ring, prio: int) -> _Class:
        """Walk the pointers from a row down the feeds to the leaf whose turn it is."""
        stack = [ring]
        while True:
            top = stack[-1]
            if top.ptr is None and top.hint is not None:
                top.ptr = top.at_or_after(top.hint)
            top.hint = None
            if top.ptr is None:  # past the end: rewind, and move the pointer above on
                top.ptr = top.ids[0]
                if len(stack) > 1:
                    stack.pop()
                    above = stack[-1]
                    above.ptr = above.after(above.ptr)
            else:
                cl = self.classes[top.ptr]
                if cl.level == 0:
                    return cl
                stack.append(cl.feed[prio])

    def _dequeue_at(self, prio: int, level: int) -> _Class:
        """Serve one packet from the row (level, prio): DRR turn, deficit, charge."""
        row = self.rows[level][prio]
        cl = self._lookup_leaf(row, prio)
        cl.queued -= 1
        cl.deficit[level] -= self.packet
        if cl.deficit[level] < 0:
            cl.deficit[level] += cl.quantum
            ring = cl.parent.feed[prio] if level else row
            ring.ptr = ring.after(ring.ptr)
        if not cl.queued:
            self.deactivate(cl)
        self._charge(cl, level)
        return cl

    def dequeue(self, now: int) -> tuple[_Class | None, int]:
        """The leaf served at `now`, or None and the time of the next mode change."""
        self.now = now
        next_event = now + 5 * NS
        for level in self.levels:
            event = self.near_event[level]
            if now >= event:
                event = self._do_events(level) or now + NS
                self.near_event[level] = event
            next_event = min(next_event, event)
            for prio in _bits(self.row_mask[level]):
                return self._dequeue_at(prio, level), next_event
        return None, next_event


def simulate(
    tree: ClassTree,
    demand: dict[str, float],
    *,
    link_bps: float | None = None,
    packet: int = 1514,
    burst_s: float = 0.05,
    quantum_in_cburst: bool = True,
    warm_s: float = 0.5,
    measure_s: float = 6.0,
) -> dict[str, float]:
    """Average L2 bits/s per class over [warm_s, warm_s + measure_s).

    Buckets are sized as netlab's tc compiler sizes them: `burst_s` of rate and ceil, at
    least 15 kB, and cburst at least one quantum (`quantum_in_cburst=False`: without that).

    `demand` maps leaf ids to offered bits/s (inf: greedy; missing or 0: idle). The link
    defaults to 20 % above the larger of the root's ceil and the sum of leaf guarantees, so that
    HTB, not the link, decides.
    """
    htb = Htb(tree, packet, burst_s, quantum_in_cburst)
    leaves = [cl for cl in htb.classes if cl.level == 0 and cl.parent is not None]
    if link_bps is None:
        link_bps = 1.2 * max(tree.root.ceil, sum(tree.classes[cl.index].rate for cl in leaves))
    tx_ns = round(packet * 8 * NS / link_bps)
    arrivals: list[tuple[int, int, int]] = []  # (time, leaf index, spacing)
    for cl in leaves:
        offered = demand.get(tree.classes[cl.index].id, 0.0)
        if math.isinf(offered):
            cl.queued = math.inf
            htb.activate(cl)
        elif offered > 0:
            spacing = round(packet * 8 * NS / offered)
            arrivals.append((spacing * (cl.index + 1) // (len(leaves) + 1), cl.index, spacing))
    heapq.heapify(arrivals)
    sent = [0] * len(htb.classes)
    start, end = round(warm_s * NS), round((warm_s + measure_s) * NS)
    now = 0
    while now < end:
        while arrivals and arrivals[0][0] <= now:
            due, i, spacing = heapq.heappop(arrivals)
            htb.classes[i].queued += 1
            htb.activate(htb.classes[i])
            heapq.heappush(arrivals, (due + spacing, i, spacing))
        served, next_event = htb.dequeue(now)
        if served is not None:
            if now >= start:
                sent[served.index] += 1
            now += tx_ns
        else:  # nothing may go yet: sleep until a mode changes or a packet arrives
            wake = min(next_event, arrivals[0][0]) if arrivals else next_event
            now = max(wake, now + 1)
    return _rates(tree, sent, packet, measure_s)


def _rates(tree: ClassTree, sent: list[int], packet: int, measure_s: float) -> dict[str, float]:
    """Bits/s per class id: a leaf's own packets, an inner class's its subtree's."""
    index = {c.id: i for i, c in enumerate(tree.classes)}
    total = [n * packet * 8 / measure_s for n in sent]
    for i in reversed(range(1, len(tree.classes))):
        total[index[tree.classes[i].parent]] += total[i]
    return {c.id: total[i] for i, c in enumerate(tree.classes)}
