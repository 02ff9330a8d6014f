"""The fluid HTB allocator: who gets how many bits/s, given each leaf's demand.

It is the fluid limit of Linux `sch_htb` (docs/architecture.md, "HTB semantics"):
1. Level 0: every leaf sends min(demand, rate) on its own tokens, whatever its ancestors'
   state (so guarantees that oversubscribe a parent are all delivered).
2. Then the inner classes lend, deepest first and the root last (the kernel's levels). A lender
   X gives what is left of its rate after everything its subtree already sent, to descendant
   leaves that still want more, lowest leaf prio first, at equal prio in proportion to leaf
   quantum (DRR: the kernel's round robin visits leaves, not subtrees). Every class between a
   leaf and X caps what passes through it at its ceil. Inner classes' prio and quantum are not
   used: the kernel ignores them.
A leaf's demand is capped by its ceil and by the site's access link.

This is the simulator's hot path: the tree is compiled once into flat lists and `allocate` is
plain float arithmetic, the reference; `LiveAllocation` keeps its answer current one demand
change at a time, touching only what moves where it can do so exactly.

`make core` compiles this module with mypyc (docs/architecture.md, "The compiled core"): its
annotations must hold at run time, and an edit takes effect once it is compiled again.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from operator import attrgetter

from sim.model.compiled import refuse_stale
from sim.shaping.plan import ClassTree, fresh_places, kernel_quantum

refuse_stale(__file__)

EPSILON = 1e-9  # bits/s below which a want or a remainder counts as zero
ROUNDING = 2.0**-52  # bound on one float addition's relative rounding, with room to spare
RESUM_EVERY = 4096  # demand changes between exact re-sums of a flat tree's running sums
_FIXED = attrgetter("id", "parent", "ceil", "prio", "site")  # what a compiled structure rests on


class CompiledTree:
    """A ClassTree as flat index lists; node 0 is the root, parents precede children."""

    def __init__(
        self, tree: ClassTree, access_bps: dict[str, float], like: CompiledTree | None = None
    ) -> None:
        """`like`: the tree in force, whose structure is kept if only leaf guarantees moved."""
        classes = tree.classes
        self.tree = tree
        self.rate = [c.rate for c in classes]
        if like is None or not like._leaf_rates_apart(tree):
            self.quantum = [float(kernel_quantum(c)) for c in classes]
            index = {c.id: i for i, c in enumerate(classes)}
            self.ids = [c.id for c in classes]
            self.cap = [
                min(c.ceil, access_bps[c.site]) if c.site is not None else c.ceil for c in classes
            ]
            self.prio = [c.prio for c in classes]
            self.parent = [index[c.parent] if c.parent is not None else -1 for c in classes]
            self.children: list[list[int]] = [[] for _ in classes]
            for i, c in enumerate(classes):
                if c.parent is not None:
                    self.children[index[c.parent]].append(i)
            self.leaf_of_site = {c.site: i for i, c in enumerate(classes) if c.site is not None}
            self.internal = [i for i, kids in enumerate(self.children) if kids]
            self.leaves = [i for i, kids in enumerate(self.children) if not kids and i > 0]
            self.bottom_up = list(reversed(range(len(classes))))
            self.inner_bottom_up = [(i, kids) for i in self.bottom_up if (kids := self.children[i])]
            # what a class can carry before a change at one leaf may move another: an inner
            # class its ceil; the root its rate, since nothing lends above it
            self.limit = list(self.cap)
            self.limit[0] = min(self.rate[0], self.cap[0])
            self.path = [self._path_up(i) for i in range(len(classes))]
            self.lenders = self._lenders()
        else:
            kept = zip(classes, like.tree.classes, like.quantum, strict=True)
            self.quantum = [q if c is was else float(kernel_quantum(c)) for c, was, q in kept]
            self.ids, self.cap, self.prio, self.parent = like.ids, like.cap, like.prio, like.parent
            self.children, self.leaf_of_site = like.children, like.leaf_of_site
            self.internal, self.leaves, self.bottom_up = like.internal, like.leaves, like.bottom_up
            self.inner_bottom_up, self.limit = like.inner_bottom_up, like.limit
            self.path, self.lenders = like.path, like.lenders
        self.leaf_limits = [(i, self.cap[i], self.rate[i]) for i in self.leaves]

    def _leaf_rates_apart(self, tree: ClassTree) -> bool:
        """Whether `tree` differs from this one at most in leaves' guarantees and quanta."""
        places, old = fresh_places(self.tree, tree), self.tree.classes
        return places is not None and all(
            i > 0 and not self.children[i] and _FIXED(tree.classes[i]) == _FIXED(old[i])
            for i in places
        )

    def __len__(self) -> int:
        return len(self.ids)

    def _path_up(self, i: int) -> list[int]:
        """Node i and its ancestors, up to the root."""
        path = []
        while i != -1:
            path.append(i)
            i = self.parent[i]
        return path

    def _lenders(self) -> list[tuple[int, list[list[int]], list[tuple[int, list[int]]]]]:
        """Inner classes in lending order (deepest first, root last), each with its descendant
        leaves grouped by prio (lowest first), and the inner classes strictly below it whose
        ceil could stop what it lends (ceil below its rate), deepest first, with their leaves."""
        depth = [len(p) - 1 for p in self.path]
        lenders = []
        for x in sorted(self.internal, key=lambda i: -depth[i]):
            leaves = [i for i in self.leaves if x in self.path[i]]
            prios = sorted({self.prio[i] for i in leaves})
            groups = [[i for i in leaves if self.prio[i] == p] for p in prios]
            below = [i for i in self.internal if i != x and x in self.path[i]]
            binding = [
                (y, [i for i in leaves if y in self.path[i]])
                for y in sorted(below, key=lambda i: -depth[i])
                if self.cap[y] < self.rate[x]
            ]
            lenders.append((x, groups, binding))
        return lenders

    def allocate(self, leaf_demand: list[float]) -> list[float]:
        """Allocation (bits/s) of every class, given demand per class (read at leaves only);
        an inner class's allocation is what passes through it."""
        rate = self.rate
        path = self.path
        eps = EPSILON
        alloc = [0.0] * len(rate)
        want = [0.0] * len(rate)
        for i, c, r in self.leaf_limits:  # level 0: up to its rate, whatever else happens
            d = leaf_demand[i]
            w = d if d < c else c
            want[i] = w
            alloc[i] = w if w < r else r
        self._sum_up(alloc, self.inner_bottom_up)
        for x, groups, binding in self.lenders:
            budget = rate[x] - alloc[x]
            lent = 0.0
            for group in groups:
                if budget - lent <= eps:
                    break
                room = {i: r for i in group if (r := want[i] - alloc[i]) > eps}
                if room:
                    lent += self._lend(budget - lent, room, binding, alloc)
            if lent:
                for j in path[x]:
                    alloc[j] += lent
        # the root holds everything lent; the classes below it miss what their ancestors lent
        self._sum_up(alloc, self.inner_bottom_up[:-1])
        return alloc

    def _sum_up(self, alloc: list[float], inner: list[tuple[int, list[int]]]) -> None:
        """Set each listed inner class's allocation to the sum of its children's."""
        get = alloc.__getitem__
        for i, kids in inner:
            alloc[i] = sum(map(get, kids))

    def _lend(
        self,
        budget: float,
        room: dict[int, float],
        binding: list[tuple[int, list[int]]],
        alloc: list[float],
    ) -> float:
        """Water-fill `budget` over leaves of one prio in proportion to quantum, each capped by
        its `room` (leaf -> what it still wants) and by the ceil left on the `binding` classes
        above it; add the gains to the leaves' allocations and return what was lent."""
        quantum = self.quantum
        if binding:
            self._ceil_bound(room, binding, alloc)
        total = sum(room.values())
        if total <= budget:
            for i, r in room.items():
                alloc[i] += r
            return total
        # leaves that want less than the level get what they want; that frees the level
        # to rise for the others, until nobody left is below it
        amount = budget
        weight = sum(map(quantum.__getitem__, room))
        level = amount / weight
        while full := [i for i, r in room.items() if r <= quantum[i] * level]:
            for i in full:
                r = room.pop(i)
                alloc[i] += r
                amount -= r
                weight -= quantum[i]
            if not room:
                return budget - amount
            level = amount / weight
        for i in room:
            alloc[i] += quantum[i] * level
        return budget

    def _ceil_bound(
        self, room: dict[int, float], binding: list[tuple[int, list[int]]], alloc: list[float]
    ) -> None:
        """Cut each leaf's room where a class above it fills its ceil first (deepest first):
        that class's leaves stop rising together, at the water level where it fills."""
        quantum = self.quantum
        for y, leaves in binding:
            under = [i for i in leaves if i in room]
            left = self.cap[y] - sum(alloc[i] for i in leaves)
            if under and sum(room[i] for i in under) > left:
                level = _fill_level([(quantum[i], room[i]) for i in under], max(left, 0.0))
                for i in under:
                    room[i] = min(room[i], quantum[i] * level)


def _fill_level(items: list[tuple[float, float]], amount: float) -> float:
    """The water level L at which sum(min(weight * L, cap)) over (weight, cap) items equals
    `amount`; the caller makes sure the caps sum to more than `amount`."""
    order = []
    weight = 0.0
    for w, c in items:
        order.append((c / w, w, c))
        weight += w
    order.sort()
    for _, w, c in order:
        level = amount / weight
        if c >= w * level:
            return level
        amount -= c
        weight -= w
    return amount / weight if weight > 0 else 0.0


class LiveAllocation:
    """A CompiledTree's allocation kept current while leaf demands change one at a time.

    A flat tree (every leaf a child of the root: the weighted and equal policies) keeps the
    root's lending state (`_FlatLending`) and touches only the leaves whose allocation moves,
    saturated or not. Any other tree keeps each inner class's capped demand as a running sum:
    while nothing is contended (the capped demands under every inner class fit under its ceil,
    and under the root's rate) every leaf gets its capped demand and a change moves only its
    own path; otherwise the whole tree is reallocated.
    """

    def __init__(self, tree: CompiledTree, demand: list[float]) -> None:
        self.tree = tree
        self.demand = list(demand)
        self._flat = _FlatLending(tree, self.demand) if _FlatLending.covers(tree) else None
        if self._flat is not None:
            self.alloc = self._flat.alloc
            return
        n = len(tree)
        self.capped = [0.0] * n
        self.error = [0.0] * n  # bound on |running sum - exact sum| per inner class
        self.under = [[i for i in tree.leaves if x in tree.path[i]] for x in range(n)]
        self.saturated: set[int] = set()
        for i in tree.bottom_up:
            self._recap(i)
        self.alloc = tree.allocate(self.demand) if self.saturated else list(self.capped)

    def _recap(self, i: int) -> None:
        """Recompute node i's capped demand exactly (a leaf's, or the sum over its leaves)."""
        tree = self.tree
        if tree.children[i]:
            self.capped[i] = sum(map(self.capped.__getitem__, self.under[i]))
            self.error[i] = 0.0
            self._mark(i)
        else:
            value = self.demand[i]
            self.capped[i] = value if value < tree.cap[i] else tree.cap[i]

    def _mark(self, i: int) -> None:
        """Record whether inner class i is contended: its capped demand above its limit."""
        if self.capped[i] > self.tree.limit[i] * (1 + 1e-12):
            self.saturated.add(i)
        else:
            self.saturated.discard(i)

    def _shift(self, i: int, delta: float) -> None:
        """Move inner class i's running sum by `delta`; re-sum it exactly whenever the rounding
        it may have gathered could flip its contended state, so that state stays exact."""
        total = self.capped[i] + delta
        error = self.error[i] + ROUNDING * (abs(total) + abs(delta))
        if abs(total - self.tree.limit[i] * (1 + 1e-12)) > error:  # False for inf and nan
            self.capped[i] = total
            self.error[i] = error
            self._mark(i)
        else:
            self._recap(i)

    def set_demand(self, leaf: int, value: float) -> list[int]:
        """Set one leaf's demand; return the nodes (or, after a full pass, the leaves) whose
        allocation changed."""
        self.demand[leaf] = value
        if self._flat is not None:
            return self._flat.set_demand(leaf, value)
        was_free = not self.saturated
        old = self.capped[leaf]
        self._recap(leaf)
        delta = self.capped[leaf] - old
        path = self.tree.path[leaf]
        for i in path[1:]:
            self._shift(i, delta)
        if was_free and not self.saturated:
            for i in path:
                self.alloc[i] = self.capped[i]
            return path
        new = self.tree.allocate(self.demand) if self.saturated else list(self.capped)
        old_alloc = self.alloc
        self.alloc = new
        return [i for i in self.tree.leaves if new[i] != old_alloc[i]]


class _Prio:
    """The leaves of one prio of a flat tree that want more than their rate, sorted by that
    room per quantum (`keys`). The root fills the prio to a water `level` (bits/s per quantum
    byte; inf while the whole prio is served, 0 while it gets nothing): the first `k` leaves
    are full at it and get their want, the others get rate + quantum * level. `full` is the
    room of the first k, `weight` the quantum of the others, `total` the room of them all."""

    __slots__ = ("keys", "members", "k", "full", "weight", "total", "level")

    def __init__(self) -> None:
        self.keys: list[float] = []
        self.members: list[int] = []
        self.k = 0
        self.full = 0.0
        self.weight = 0.0
        self.total = 0.0
        self.level = math.inf


class _FlatLending:
    """The root's lending of a flat tree, updated for one leaf's demand change at a time.

    It is `CompiledTree.allocate` for a tree where the root is the only lender and nothing
    binds below it: each leaf gets min(want, rate), then the root's spare fills the prios in
    order by quantum. A change moves the spare left for the prio being filled, and its level
    is found again by walking the boundary between full and level-held leaves from where it
    was, so only the leaves whose allocation moves are touched. Running sums are re-summed
    exactly every RESUM_EVERY changes, which keeps their drift orders of magnitude below the
    1e-9 of the root's rate that the allocation is held to.
    """

    @staticmethod
    def covers(tree: CompiledTree) -> bool:
        """Whether the tree is flat, with finite ceilings and positive quanta."""
        return tree.internal == [0] and all(
            tree.parent[i] == 0 and math.isfinite(tree.cap[i]) and tree.quantum[i] > 0
            for i in tree.leaves
        )

    def __init__(self, tree: CompiledTree, demand: list[float]) -> None:
        n = len(tree)
        self.rate0 = tree.rate[0]
        self.cap, self.rate, self.quantum = tree.cap, tree.rate, tree.quantum
        prios = sorted({tree.prio[i] for i in tree.leaves})
        self.groups = [_Prio() for _ in prios]
        self.group_of = [self.groups[0]] * n
        self.leaves = tree.leaves
        self.want, self.base, self.room, self.key = [[0.0] * n for _ in range(4)]
        self.alloc = [0.0] * n
        self.base_total = 0.0
        self.changes = 0
        for i in tree.leaves:  # every prio starts served in full, then settles
            group = self.group_of[i] = self.groups[prios.index(tree.prio[i])]
            self._take(i, demand[i])
            self.alloc[i] = self.want[i] if self.room[i] else self.base[i]
            if self.room[i]:
                self._insert(group, i)
        self._resum()
        self._settle([])

    def _take(self, i: int, demand: float) -> None:
        """Set leaf i's want (demand capped), base (up to its rate) and room (the rest)."""
        cap, rate = self.cap[i], self.rate[i]
        want = demand if demand < cap else cap
        base = want if want < rate else rate
        room = want - base
        self.base_total += base - self.base[i]
        self.want[i], self.base[i] = want, base
        self.room[i] = room if room > EPSILON else 0.0

    def set_demand(self, leaf: int, demand: float) -> list[int]:
        """Apply one leaf's new demand; return the nodes whose allocation changed."""
        group = self.group_of[leaf]
        if self.room[leaf]:
            self._remove(group, leaf)
        self._take(leaf, demand)
        if self.room[leaf]:
            self._insert(group, leaf)
        self.changes += 1
        if self.changes % RESUM_EVERY == 0:
            self._resum()
        changed: list[int] = []
        root = self.alloc[0]
        self._settle(changed)
        if self.room[leaf] and self.key[leaf] > group.level:
            value = self.base[leaf] + self.quantum[leaf] * group.level
        else:
            value = self.want[leaf] if self.room[leaf] else self.base[leaf]
        if self.alloc[leaf] != value:
            self.alloc[leaf] = value
            if leaf not in changed:
                changed.append(leaf)
        if self.alloc[0] != root:
            changed.append(0)
        return changed

    def _remove(self, group: _Prio, i: int) -> None:
        """Take leaf i (with room) out of its prio's sorted list."""
        keys = group.keys
        pos = bisect_left(keys, self.key[i])
        while group.members[pos] != i:
            pos += 1
        del keys[pos], group.members[pos]
        room = self.room[i]
        group.total -= room
        if pos < group.k:
            group.k -= 1
            group.full -= room
        else:
            group.weight -= self.quantum[i]

    def _insert(self, group: _Prio, i: int) -> None:
        """Put leaf i (with room) into its prio's sorted list, full or held by the level as
        its place in the list says (the level is settled afterwards)."""
        room = self.room[i]
        key = self.key[i] = room / self.quantum[i]
        pos = bisect_right(group.keys, key)
        group.keys.insert(pos, key)
        group.members.insert(pos, i)
        group.total += room
        if pos < group.k or (pos == group.k and key <= group.level):
            group.k += 1
            group.full += room
        else:
            group.weight += self.quantum[i]

    def _resum(self) -> None:
        """Recompute every running sum exactly from the leaves."""
        self.base_total = sum(map(self.base.__getitem__, self.leaves))
        room, quantum = self.room.__getitem__, self.quantum.__getitem__
        for group in self.groups:
            group.total = sum(map(room, group.members))
            group.full = sum(map(room, group.members[: group.k]))
            group.weight = sum(map(quantum, group.members[group.k :]))

    def _settle(self, changed: list[int]) -> None:
        """Give the root's spare to the prios in order (as `allocate` does) and move each
        prio's level to it; record the leaves whose allocation moved in `changed`."""
        spare = self.rate0 - self.base_total
        lent = 0.0
        for group in self.groups:
            if spare <= EPSILON:
                self._set_level(group, 0, 0.0, changed)
            elif group.total <= spare:
                if group.level != math.inf:  # most changes leave a served prio served
                    self._set_level(group, len(group.keys), math.inf, changed)
                spare -= group.total
                lent += group.total
            else:
                self._fill(group, spare, changed)
                lent += spare
                spare = 0.0
        self.alloc[0] = self.base_total + lent

    def _fill(self, group: _Prio, budget: float, changed: list[int]) -> None:
        """Find the level at which the prio takes exactly `budget` (less than it wants),
        walking the boundary from where it was: a leaf that is full at the current trial
        level is full at the answer, and one held by it is held at the answer."""
        keys, members, room, quantum = group.keys, group.members, self.room, self.quantum
        k, full, weight = group.k, group.full, group.weight
        if k and keys[k - 1] * weight > budget - full:
            while k and keys[k - 1] * weight > budget - full:
                k -= 1
                full -= room[members[k]]
                weight += quantum[members[k]]
        else:
            while k < len(keys) - 1 and keys[k] * weight <= budget - full:
                full += room[members[k]]
                weight -= quantum[members[k]]
                k += 1
        group.full, group.weight = full, weight
        self._set_level(group, k, (budget - full) / weight, changed)

    def _set_level(self, group: _Prio, k: int, level: float, changed: list[int]) -> None:
        """Make the first k leaves of the prio full and hold the rest at `level`, updating the
        allocations of the leaves this moves."""
        if level == group.level and k == group.k:
            return
        members, alloc = group.members, self.alloc
        start = min(k, group.k)  # the leaves before it are full before and after
        for i in members[start:k]:
            if alloc[i] != self.want[i]:
                alloc[i] = self.want[i]
                changed.append(i)
        base, quantum = self.base, self.quantum
        for i in members[max(start, k) :]:
            value = base[i] + quantum[i] * level
            if alloc[i] != value:
                alloc[i] = value
                changed.append(i)
        if level == math.inf:
            group.full, group.weight = group.total, 0.0
        elif level == 0.0:
            group.full, group.weight = 0.0, sum(map(quantum.__getitem__, members))
        group.k, group.level = k, level
