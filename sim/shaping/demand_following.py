"""The demand-following controller: guarantees follow each site's recent use.

Every call, each leaf's rate (its L2 bytes over the interval, or the demand where the backend
knows it and `use_demand` is set) is smoothed (exponentially, weight `smoothing` on the new
value) and scaled by `headroom` into a wanted guarantee. The wanted guarantees of the
children of one parent share exactly what the plan gave those children at the start (the
policy's split of the purchase is kept, only moved between siblings), within a floor (a share
of the site's starting guarantee: `essential_floor` for essential offices, `floor` for the
others) and a cap per site kind (`cap_mbps`). A guarantee moves at most by the factor
`1 + max_step` per change, only when it would move by more than `min_change`, and the plan
changes at most once every `hold_s` seconds (use is smoothed at every call all the same), so
the kernel sees few, bounded changes. Ceilings, priorities and quanta stay the policy's.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from sim.model.flow import Direction
from sim.model.topology import Site
from sim.shaping.control import Controller, Decision, Observation, Readings, with_leaf_rates
from sim.shaping.plan import DIRECTIONS, ClassTree, ShapingPlan

MIN_RATE_BPS = 8_000.0  # HTB needs a positive rate (as the policies' NO_GUARANTEE_BPS)


class DemandFollowingParams(BaseModel):
    """The controller's `[controller.params]`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    smoothing: float = Field(default=0.5, gt=0, le=1)
    headroom: float = Field(default=1.25, ge=1, le=10)
    essential_floor: float = Field(default=1.0, ge=0, le=10)
    floor: float = Field(default=0.25, ge=0, le=10)
    cap_mbps: dict[str, float] = Field(default={"hotspot": 10.0})
    max_step: float = Field(default=0.5, gt=0, le=10)
    min_change: float = Field(default=0.1, ge=0, le=1)
    hold_s: float = Field(default=60.0, ge=0, le=86400)
    use_demand: bool = True


@dataclass(frozen=True)
class _Siblings:
    """The leaves of one parent, in tree order: what the policy gave them together at the
    start (`budget`), and each one's floor and cap (`floors` is the sum of the floors)."""

    sites: list[str]
    lows: list[float]
    highs: list[float]
    budget: float
    floors: float


class DemandFollowing(Controller):
    """Guarantees that follow each site's smoothed use (see the module docstring)."""

    name = "demand-following"
    Params = DemandFollowingParams

    def start(
        self, params: DemandFollowingParams, sites: list[Site], capacity: float, plan: ShapingPlan
    ) -> None:
        self.p = params
        self.sites = {s.id: s for s in sites}
        self.start_rate: dict[Direction, dict[str, float]] = {
            d: {c.site: c.rate for c in plan.tree(d).leaves if c.site is not None}
            for d in DIRECTIONS
        }
        self.groups = {d: self._siblings(plan, d) for d in DIRECTIONS}
        self.smoothed: dict[Direction, dict[str, float]] = {d: {} for d in DIRECTIONS}
        self.changed_at = -float("inf")

    def decide(self, seen: Observation) -> Decision | None:
        for direction in DIRECTIONS:
            self._smooth(Readings.of(seen.classes[direction]), seen.interval, direction)
        if seen.time - self.changed_at < self.p.hold_s:
            return None
        rates: dict[Direction, dict[str, float]] = {}
        for direction in DIRECTIONS:
            moved = self._moved(direction, seen.plan.tree(direction))
            if moved:
                rates[direction] = moved
        if not rates:
            return None
        self.changed_at = seen.time
        why = f"guarantees follow the smoothed use (x{self.p.headroom:g}), within floors and caps"
        return Decision(with_leaf_rates(seen.plan, rates, seen.plan.policy), why)

    def _smooth(self, readings: Readings, seconds: float, direction: Direction) -> None:
        """Fold the interval's use of every leaf into its smoothed use (one pass over the
        columns: this runs at every call, for every leaf)."""
        smoothed, alpha = self.smoothed[direction], self.p.smoothing
        get = smoothed.get
        demands = readings.demand_bps if self.p.use_demand else [None] * len(readings)
        for site, carried, demand in zip(readings.sites, readings.bytes, demands, strict=True):
            use = carried * 8.0 / seconds
            if demand is not None and demand > use:  # max(use, demand), where it is known
                use = demand
            old = get(site, use)  # a leaf seen first starts at its use
            smoothed[site] = old + alpha * (use - old)

    def _moved(self, direction: Direction, tree: ClassTree) -> dict[str, float]:
        """The leaves whose wanted guarantee is more than `min_change` away from the one in
        force, each moved towards it by at most the factor 1 + `max_step`."""
        now = {c.site: c.rate for c in tree.classes if c.site}
        smoothed, step, least = self.smoothed[direction], self.p.max_step, self.p.min_change
        moved: dict[str, float] = {}
        for group in self.groups[direction]:
            for site, rate in zip(group.sites, self._split(group, smoothed), strict=True):
                old = now[site]
                if abs(rate - old) > least * old:
                    moved[site] = _bounded(old, rate, step)
        return moved

    def _split(self, group: _Siblings, smoothed: dict[str, float]) -> list[float]:
        """The group's budget among its leaves in proportion to their smoothed use × headroom,
        within floors and caps."""
        headroom = self.p.headroom
        want: list[float] = []
        for site, low, high in zip(group.sites, group.lows, group.highs, strict=True):
            w = smoothed.get(site, 0.0) * headroom
            w = low if low > w else w  # max(w, low), as Python's max picks
            want.append(high if high < w else w)  # min(w, high)
        total, budget, floors = sum(want), group.budget, group.floors
        if total > budget and total > floors:  # shrink what is above the floors
            k = max(budget - floors, 0.0) / (total - floors)
            want = [low + (w - low) * k for w, low in zip(want, group.lows, strict=True)]
        return [MIN_RATE_BPS if w < MIN_RATE_BPS else w for w in want]  # max(w, MIN_RATE_BPS)

    def _siblings(self, plan: ShapingPlan, direction: Direction) -> list[_Siblings]:
        """The plan's leaves grouped by parent, with their budgets, floors and caps."""
        parents: dict[str, list[str]] = {}
        for c in plan.tree(direction).leaves:
            if c.site is not None and c.parent is not None:
                parents.setdefault(c.parent, []).append(c.site)
        start, groups = self.start_rate[direction], []
        for sites in parents.values():
            lows = [start[s] * self._floor_share(s) for s in sites]
            groups.append(
                _Siblings(
                    sites,
                    lows,
                    [max(low, self._cap(s)) for s, low in zip(sites, lows, strict=True)],
                    sum(start[s] for s in sites),
                    sum(lows),
                )
            )
        return groups

    def _floor_share(self, site: str) -> float:
        return self.p.essential_floor if self.sites[site].essential else self.p.floor

    def _cap(self, site: str) -> float:
        kind = self.sites[site].kind
        cap = self.p.cap_mbps.get(kind)
        return float("inf") if cap is None else cap * 1e6


def _bounded(old: float, new: float, step: float) -> float:
    """`new`, moved at most by the factor 1 + step from `old`."""
    return min(max(new, old / (1.0 + step)), old * (1.0 + step))
