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
plain float arithmetic; `LiveAllocation` avoids even that while nothing is contended.
"""

from __future__ import annotations

from sim.shaping.plan import ClassTree, kernel_quantum

EPSILON = 1e-9  # bits/s below which a want or a remainder counts as zero


class CompiledTree:
    """A ClassTree as flat index lists; node 0 is the root, parents precede children."""

    def __init__(self, tree: ClassTree, access_bps: dict[str, float]) -> None:
        classes = tree.classes
        index = {c.id: i for i, c in enumerate(classes)}
        self.tree = tree
        self.ids = [c.id for c in classes]
        self.rate = [c.rate for c in classes]
        self.cap = [
            min(c.ceil, access_bps[c.site]) if c.site is not None else c.ceil for c in classes
        ]
        self.quantum = [float(kernel_quantum(c)) for c in classes]
        self.prio = [c.prio for c in classes]
        self.parent = [index[c.parent] if c.parent is not None else -1 for c in classes]
        self.children: list[list[int]] = [[] for _ in classes]
        for i, c in enumerate(classes):
            if c.parent is not None:
                self.children[index[c.parent]].append(i)
        self.leaf_of_site = {c.site: i for i, c in enumerate(classes) if c.site is not None}
        self.internal = [i for i, kids in enumerate(self.children) if kids]
        self.leaves = [i for i, kids in enumerate(self.children) if not kids and i > 0]
        self.leaf_limits = [(i, self.cap[i], self.rate[i]) for i in self.leaves]
        self.bottom_up = list(reversed(range(len(classes))))
        self.inner_bottom_up = [(i, self.children[i]) for i in self.bottom_up if self.children[i]]
        # what a class can carry before a change at one leaf may move another: an inner class
        # its ceil; the root its rate, since nothing lends above it
        self.limit = list(self.cap)
        self.limit[0] = min(self.rate[0], self.cap[0])
        self.path = [self._path_up(i) for i in range(len(classes))]
        self.lenders = self._lenders()

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

    While no class is contended (the capped demands under every inner class fit under its
    ceil, and under the root's rate), every leaf simply gets its capped demand, so a change
    at one leaf moves only its own path: O(depth) instead of a full pass. Otherwise the whole
    tree is reallocated.
    """

    def __init__(self, tree: CompiledTree, demand: list[float]) -> None:
        self.tree = tree
        self.demand = list(demand)
        self.capped = [0.0] * len(tree)
        self.saturated: set[int] = set()
        for i in tree.bottom_up:
            self._recap(i)
        self.alloc = tree.allocate(self.demand) if self.saturated else list(self.capped)

    def _recap(self, i: int) -> None:
        """Recompute node i's capped demand from its children (exact, no running sums)."""
        tree = self.tree
        kids = tree.children[i]
        if kids:
            total = sum(map(self.capped.__getitem__, kids))
            if total > tree.limit[i] * (1 + 1e-12):
                self.saturated.add(i)
            else:
                self.saturated.discard(i)
            self.capped[i] = total
        else:
            value = self.demand[i]
            self.capped[i] = value if value < tree.cap[i] else tree.cap[i]

    def set_demand(self, leaf: int, value: float) -> list[int]:
        """Set one leaf's demand; return the nodes (or, after a full pass, the leaves) whose
        allocation changed."""
        was_free = not self.saturated
        self.demand[leaf] = value
        path = self.tree.path[leaf]
        for i in path:
            self._recap(i)
        if was_free and not self.saturated:
            for i in path:
                self.alloc[i] = self.capped[i]
            return path
        new = self.tree.allocate(self.demand) if self.saturated else list(self.capped)
        old = self.alloc
        self.alloc = new
        return [i for i in self.tree.leaves if new[i] != old[i]]
