"""The fluid HTB allocator (DESIGN.md §4): who gets how many bits/s, given each leaf's demand.

At a parent with capacity A: every child first gets min(demand, rate); what is left goes to
children still wanting more, lowest prio level first, water-filled in proportion to quantum and
capped at min(demand, ceil); what a level cannot use passes to the next level. Then recurse.
A leaf's demand is capped by its ceil and by the site's access link.

This is the simulator's hot path: the tree is compiled once into flat lists and `allocate`
makes one bottom-up and one top-down pass with plain floats.
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
        self.parent = [index[c.parent] if c.parent is not None else -1 for c in classes]
        self.children: list[list[int]] = [[] for _ in classes]
        for i, c in enumerate(classes):
            if c.parent is not None:
                self.children[index[c.parent]].append(i)
        self.leaf_of_site = {c.site: i for i, c in enumerate(classes) if c.site is not None}
        # children of each node grouped by prio, lowest (served first) first
        self.levels: list[list[list[int]]] = []
        for kids in self.children:
            prios = sorted({classes[k].prio for k in kids})
            self.levels.append([[k for k in kids if classes[k].prio == p] for p in prios])
        self.internal = [i for i, kids in enumerate(self.children) if kids]
        self.leaves = [i for i, kids in enumerate(self.children) if not kids and i > 0]
        self.bottom_up = list(reversed(range(len(classes))))

    def __len__(self) -> int:
        return len(self.ids)

    def allocate(self, leaf_demand: list[float]) -> list[float]:
        """Allocation (bits/s) of every node, given demand per node (read at leaves only)."""
        cap = self.cap
        children = self.children
        demand = list(leaf_demand)
        for i in self.bottom_up:
            kids = children[i]
            if kids:
                total = 0.0
                for k in kids:
                    total += demand[k]
                demand[i] = total if total < cap[i] else cap[i]
            elif demand[i] > cap[i]:
                demand[i] = cap[i]
        return self.share_down(demand)

    def share_down(self, capped: list[float]) -> list[float]:
        """The top-down pass alone, from demands already capped bottom-up."""
        alloc = [0.0] * len(capped)
        alloc[0] = capped[0]
        levels = self.levels
        for i in self.internal:
            self._share(alloc[i], levels[i], capped, alloc)
        return alloc

    def _share(
        self, amount: float, levels: list[list[int]], demand: list[float], alloc: list[float]
    ) -> None:
        """Split `amount` among one parent's children (green first, then by prio and quantum)."""
        rate = self.rate
        green_total = 0.0
        for level in levels:
            for k in level:
                green = demand[k] if demand[k] < rate[k] else rate[k]
                alloc[k] = green
                green_total += green
        if green_total > amount:  # only when the plan oversubscribes: scale in proportion
            factor = amount / green_total if green_total > 0 else 0.0
            for level in levels:
                for k in level:
                    alloc[k] *= factor
            return
        spare = amount - green_total
        quantum = self.quantum
        for level in levels:
            if spare <= EPSILON:
                return
            wanting = [k for k in level if demand[k] - alloc[k] > EPSILON]
            if not wanting:
                continue
            wanting.sort(key=lambda k: (demand[k] - alloc[k]) / quantum[k])
            weight = 0.0
            for k in wanting:
                weight += quantum[k]
            for pos, k in enumerate(wanting):
                want = demand[k] - alloc[k]
                fair = spare * quantum[k] / weight
                if want <= fair:
                    alloc[k] += want
                    spare -= want
                    weight -= quantum[k]
                else:
                    for j in wanting[pos:]:
                        alloc[j] += spare * quantum[j] / weight
                    spare = 0.0
                    break


class LiveAllocation:
    """A CompiledTree's allocation kept current while leaf demands change one at a time.

    While no internal node is saturated (its children's capped demands fit under its cap),
    every class simply gets its capped demand, so a change at one leaf moves only that leaf:
    O(depth) instead of a full pass. Otherwise the whole tree is reallocated.
    """

    def __init__(self, tree: CompiledTree, demand: list[float]) -> None:
        self.tree = tree
        self.demand = list(demand)
        self.capped = [0.0] * len(tree)
        self.saturated: set[int] = set()
        for i in tree.bottom_up:
            self._recap(i)
        self.alloc = tree.share_down(self.capped)

    def _recap(self, i: int) -> None:
        """Recompute node i's capped demand from its children (exact, no running sums)."""
        tree = self.tree
        kids = tree.children[i]
        if kids:
            total = 0.0
            for k in kids:
                total += self.capped[k]
            if total > tree.cap[i] * (1 + 1e-12):
                self.saturated.add(i)
                self.capped[i] = tree.cap[i]
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
        path = []
        node = leaf
        while node != -1:
            path.append(node)
            self._recap(node)
            node = self.tree.parent[node]
        if was_free and not self.saturated:
            for i in path:
                self.alloc[i] = self.capped[i]
            return path
        new = self.tree.share_down(self.capped)
        old = self.alloc
        self.alloc = new
        return [i for i in self.tree.leaves if new[i] != old[i]]
