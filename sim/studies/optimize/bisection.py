"""The search for the smallest feasible purchase on the grid: gallop, then bisect."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.analysis.recommendation import PolicyAnswer, SearchPoint


@dataclass
class Bisection:
    """One lockstep search for the smallest feasible grid point.

    It starts at the grid point nearest the anchor (a predicted answer, or the current
    purchase), gallops up or down in strides of 1, 2, 4... grid points until it has seen both
    outcomes, then bisects between them: O(log n) probes, two (the anchor and its neighbour)
    when the answer is the anchor or the point above it.
    """

    key: tuple[str, float]  # (policy, growth)
    grid: list[float]
    anchor: float | None = None
    low: int = -1  # the largest index known infeasible (-1: none)
    high: int = -1  # the smallest index known feasible (len(grid): none); set in __post_init__
    points: list[SearchPoint] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.high = len(self.grid)

    def next_mbps(self) -> float | None:
        grid, low, high = self.grid, self.low, self.high
        if high - low <= 1:
            return None
        if not self.points:
            if self.anchor is None:
                return grid[(len(grid) - 1) // 2]
            anchor = self.anchor
            return min(grid, key=lambda m: (abs(m - anchor), -m))  # ties: the larger
        stride = 2 ** (len(self.points) - 1)  # exponential search: 1, 2, 4... grid points away
        if high == len(grid):  # only failures so far: gallop up
            return grid[min(low + stride, len(grid) - 1)]
        if low == -1:  # only successes so far: gallop down
            return grid[max(high - stride, 0)]
        return grid[(low + high) // 2]

    def record(self, point: SearchPoint) -> None:
        self.points.append(point)
        index = self.grid.index(point.mbps)
        if point.feasible:
            self.high = min(self.high, index)
        else:
            self.low = max(self.low, index)

    @property
    def answer(self) -> float | None:
        return self.grid[self.high] if self.high < len(self.grid) else None


def purchase_grid(low: float, high: float, step: float) -> list[float]:
    return [float(m) for m in np.arange(low, high + step / 2, step)]


def answer_of(search: Bisection) -> PolicyAnswer:
    """A bisection's answer, its points by purchase, and the monotonicity it assumes checked:
    pairs of probes of one seed where the larger purchase failed and the smaller met."""
    probes = [p for point in search.points for p in point.probes]
    violations = sum(
        1
        for a in probes
        for b in probes
        if a.seed == b.seed and a.mbps < b.mbps and a.feasible and not b.feasible
    )
    return PolicyAnswer(search.answer, sorted(search.points, key=lambda p: p.mbps), violations)
