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

from pydantic import BaseModel, ConfigDict, Field

from sim.model.flow import Direction
from sim.model.topology import Site
from sim.shaping.control import Controller, Decision, Observation, with_leaf_rates
from sim.shaping.plan import DIRECTIONS, ShapingPlan

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
        self.groups = {d: _siblings(plan, d) for d in DIRECTIONS}  # parent -> its leaves' sites
        self.smoothed: dict[Direction, dict[str, float]] = {d: {} for d in DIRECTIONS}
        self.low = {d: {s: self._floor(d, s) for s in self.start_rate[d]} for d in DIRECTIONS}
        self.high = {
            d: {s: max(low, self._cap(s)) for s, low in self.low[d].items()} for d in DIRECTIONS
        }
        self.changed_at = -float("inf")

    def decide(self, seen: Observation) -> Decision | None:
        for direction in DIRECTIONS:
            self._smooth(seen, direction)
        if seen.time - self.changed_at < self.p.hold_s:
            return None
        wanted = {d: self._wanted(d) for d in DIRECTIONS}
        rates: dict[Direction, dict[str, float]] = {}
        for direction in DIRECTIONS:
            now = {c.site: c.rate for c in seen.plan.tree(direction).leaves if c.site}
            moved = {
                site: _bounded(now[site], rate, self.p.max_step)
                for site, rate in wanted[direction].items()
                if abs(rate - now[site]) > self.p.min_change * now[site]
            }
            if moved:
                rates[direction] = moved
        if not rates:
            return None
        self.changed_at = seen.time
        why = f"guarantees follow the smoothed use (x{self.p.headroom:g}), within floors and caps"
        return Decision(with_leaf_rates(seen.plan, rates, seen.plan.policy), why)

    def _smooth(self, seen: Observation, direction: Direction) -> None:
        """Fold the interval's use of every leaf into its smoothed use."""
        smoothed, alpha = self.smoothed[direction], self.p.smoothing
        for site, reading in seen.classes[direction].items():
            use = reading.bytes * 8.0 / seen.interval
            if self.p.use_demand and reading.demand_bps is not None:
                use = max(use, reading.demand_bps)
            old = smoothed.get(site, use)
            smoothed[site] = old + alpha * (use - old)

    def _wanted(self, direction: Direction) -> dict[str, float]:
        """Each leaf's wanted guarantee: smoothed use × headroom, split within its parent."""
        wanted: dict[str, float] = {}
        for sites in self.groups[direction].values():
            budget = sum(self.start_rate[direction][s] for s in sites)
            wanted.update(self._split(direction, sites, budget))
        return wanted

    def _split(self, direction: Direction, sites: list[str], budget: float) -> dict[str, float]:
        """`budget` among `sites` in proportion to their wants, within floors and caps."""
        low, high = self.low[direction], self.high[direction]
        want = {
            s: min(max(self.smoothed[direction].get(s, 0.0) * self.p.headroom, low[s]), high[s])
            for s in sites
        }
        total = sum(want.values())
        floors = sum(low[s] for s in sites)
        if total > budget and total > floors:  # shrink what is above the floors
            k = max(budget - floors, 0.0) / (total - floors)
            want = {s: low[s] + (want[s] - low[s]) * k for s in sites}
        return {s: max(w, MIN_RATE_BPS) for s, w in want.items()}

    def _floor(self, direction: Direction, site: str) -> float:
        share = self.p.essential_floor if self.sites[site].essential else self.p.floor
        return self.start_rate[direction][site] * share

    def _cap(self, site: str) -> float:
        kind = self.sites[site].kind
        cap = self.p.cap_mbps.get(kind)
        return float("inf") if cap is None else cap * 1e6


def _siblings(plan: ShapingPlan, direction: Direction) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for c in plan.tree(direction).leaves:
        if c.site is not None and c.parent is not None:
            groups.setdefault(c.parent, []).append(c.site)
    return groups


def _bounded(old: float, new: float, step: float) -> float:
    """`new`, moved at most by the factor 1 + step from `old`."""
    return min(max(new, old / (1.0 + step)), old * (1.0 + step))
