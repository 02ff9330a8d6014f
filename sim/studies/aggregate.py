"""Aggregate calibration: the sites no counter measures, fitted to the upstream's counters.

The upstream carries every site's traffic. Less the sites measured on their own ports, what
remains is the unmeasured sites' sum (and the hub's own traffic, which the model does not
simulate). It is fitted through the closed-form expected load (`sim.demand.expected`), as a
site's own counters are: first one scale on the sites' assumed session rates, one per site kind
when the kinds' shapes of the day tell them apart (office mornings against hotspot evenings and
days off), else one for all; then one factor per clock hour on the kinds' hourly weights,
working days and days off apart. Hours at or near the upstream's ceiling are censored: the
scale comes from the other hours, the demand in them is the fitted model's (never the
ceiling), and the busy hour's 90 % interval comes from a bootstrap over days (days resampled
with replacement, the whole fit repeated). How the total splits among the sites stays assumed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.demand.calendar import Calendar
from sim.demand.expected import clock_rates, site_session
from sim.model.scenario import Scenario
from sim.model.topology import Site

# A 5-minute rate of the upstream at or above this share of its ceiling is censored: an
# aggregate of many flows near its ceiling is already held back by the queue.
NEAR_CEILING = 0.9
RESAMPLES = 200
LEVEL = 0.90
# Kinds are fitted apart only when every kind's scale is known to this relative standard error.
KIND_SE = 0.10
KIND_SHARE = 0.10
KIND_RANGE = 3.0
SCALE_BOUNDS = (1e-3, 1e3)
INTERVAL_METHOD = (
    f"bootstrap over days: {RESAMPLES} resamples of the measured days with replacement, "
    f"the whole fit repeated; {LEVEL:.0%} percentile interval"
)


@dataclass(frozen=True)
class _Kind:
    """The unmeasured sites of one kind: their clocks at scale 1 and what a session offers."""

    name: str
    rates: np.ndarray  # (sites, days, 24) sessions per user-second
    users: np.ndarray  # (sites, 1, 1)
    seconds: np.ndarray
    down: np.ndarray

    def load(self, scale: float, factor: np.ndarray) -> np.ndarray:
        """Offered goodput bytes/s per day and hour, the hours' factors (days, 24) applied."""
        rate = self.rates * scale * factor
        return (self.users * rate / (1.0 + rate * self.seconds) * self.down).sum(axis=0)

    def pick(self, index: np.ndarray) -> _Kind:
        return _Kind(self.name, self.rates[:, index], self.users, self.seconds, self.down)


@dataclass(frozen=True)
class Shape:
    """A fit: the scales per kind and the hours' factors, working days and days off."""

    scales: dict[str, float]
    weekday: np.ndarray  # (24,) factor on the kinds' weekday weights
    weekend: np.ndarray | None  # None: no day off measured
    background: float = 0.0  # bytes/s on the upstream all day that is no site's demand


@dataclass(frozen=True)
class Data:
    """The remainder to fit, per measured day and hour (bytes/s goodput, NaN unmeasured)."""

    target: np.ndarray  # (days, 24)
    censored: np.ndarray  # (days, 24) bool
    working: np.ndarray  # (days,) bool: the day lives the weekday profile

    def pick(self, index: np.ndarray) -> Data:
        return Data(self.target[index], self.censored[index], self.working[index])

    @property
    def usable(self) -> np.ndarray:
        return ~np.isnan(self.target) & ~self.censored


def kinds_of(scenario: Scenario, sites: list[Site], days: list[dt.date]) -> list[_Kind]:
    """The sites grouped by kind, their clocks over `days` at the scenario's demand."""
    out = []
    for name in sorted({site.kind for site in sites}):
        group = [site for site in sites if site.kind == name]
        sessions = [site_session(scenario, site) for site in group]

        def column(values: list[float]) -> np.ndarray:
            return np.array(values, dtype=float).reshape(-1, 1, 1)

        out.append(
            _Kind(
                name,
                np.array([clock_rates(scenario, site, days) for site in group]),
                column([site.users for site in group]),
                column([s.seconds for s in sessions]),
                column([s.down for s in sessions]),
            )
        )
    return out


def _factors(shape: Shape, working: np.ndarray) -> np.ndarray:
    weekend = shape.weekday if shape.weekend is None else shape.weekend
    return np.where(working[:, None], shape.weekday[None, :], weekend[None, :])


def total(kinds: list[_Kind], shape: Shape, working: np.ndarray) -> np.ndarray:
    """The fitted sites' offered goodput, bytes/s per day and hour."""
    factor = _factors(shape, working)
    return sum((k.load(shape.scales[k.name], factor) for k in kinds), np.zeros(factor.shape))


def _scales(kinds: list[_Kind], data: Data, per_kind: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Least-squares scales over the usable hours (fixed point: the load is nearly linear in
    the scale, slowed as sessions overlap), their relative standard errors, and a constant
    (bytes/s, at least 0): the hub's own traffic and unmapped ports, on all day and night."""
    mask, y = data.usable, data.target[data.usable]
    ones = np.ones(data.target.shape)
    scales = np.ones(len(kinds))
    counted = np.where(mask, data.target, 0.0).sum(axis=0) / np.maximum(mask.sum(axis=0), 1)
    quietest = float(counted[mask.any(axis=0)].min()) if mask.any() else 0.0
    for _ in range(40):
        unit = np.array([k.load(s, ones)[mask] / s for k, s in zip(kinds, scales, strict=True)]).T
        if not per_kind:
            unit = unit.sum(axis=1, keepdims=True)
        design = np.column_stack([unit, np.ones(len(y))])
        solved = np.linalg.lstsq(design, y, rcond=None)[0]
        if not 0.0 <= solved[-1] <= quietest or np.any(solved[:-1] <= 0):
            # a constant above the quietest hour, or one that leaves the sites nothing, is the
            # sites' own flat use: held at the bound, or dropped
            constant = float(np.clip(solved[-1], 0.0, quietest))
            solved = np.append(np.linalg.lstsq(unit, y - constant, rcond=None)[0], constant)
            if np.any(solved[:-1] <= 0):
                solved = np.append(np.linalg.lstsq(unit, y, rcond=None)[0], 0.0)
        new = np.clip(np.resize(solved[:-1], len(kinds)), *SCALE_BOUNDS)
        if np.allclose(new, scales, rtol=1e-6):
            break
        scales = new
    residual = y - design @ solved
    spread = float(residual @ residual) / max(len(y) - design.shape[1], 1)
    covariance = spread * np.linalg.pinv(design.T @ design)
    errors = np.sqrt(np.abs(np.diag(covariance)))[:-1] / np.maximum(np.abs(solved[:-1]), 1e-12)
    return scales, np.resize(errors, len(kinds)), float(solved[-1])


def _hour_factors(model: np.ndarray, data: Data, days: np.ndarray) -> np.ndarray | None:
    """Per hour, measured over modelled over the usable `days` (1 where none); None: no day."""
    if not days.any():
        return None
    mask = data.usable & days[:, None]
    # an hour censored on any such day is estimated from the kinds' shape: the days it was
    # not are its quieter ones
    clipped = (data.censored & days[:, None]).any(axis=0)
    mask &= ~clipped[None, :]
    measured = np.where(mask, data.target, 0.0).sum(axis=0)
    modelled = np.where(mask, model, 0.0).sum(axis=0)
    known = (mask.sum(axis=0) > 0) & (modelled > 0)
    # a negative remainder (measured sites above the upstream) is no demand, not less than none
    return np.maximum(np.divide(measured, modelled, out=np.ones(24), where=known), 0.0)


def _apart(kinds: list[_Kind], data: Data, scales: np.ndarray, errors: np.ndarray) -> bool:
    """Kinds fitted apart: each known to KIND_SE, inside the bounds, not saturated, and carrying
    KIND_SHARE of the fitted load (a kind of a few sites is a column of noise)."""
    if len(kinds) < 2:
        return False
    ones = np.ones(data.target.shape)
    loads = np.array(
        [k.load(s, ones)[data.usable].sum() for k, s in zip(kinds, scales, strict=True)]
    )
    inside = (scales > SCALE_BOUNDS[0]) & (scales < SCALE_BOUNDS[1])
    # a kind whose users are nearly always in a session answers a scale barely: unidentified
    more = np.array(
        [k.load(1.1 * s, ones)[data.usable].sum() for k, s in zip(kinds, scales, strict=True)]
    )
    inside &= more > 1.05 * loads
    return bool(
        np.all(errors < KIND_SE) & np.all(inside) & np.all(loads >= KIND_SHARE * loads.sum())
    )


def fit(kinds: list[_Kind], data: Data, per_kind: bool | None = None) -> tuple[Shape, bool]:
    """Scales and the constant, then the hours' factors (refined: the load is a little short
    of linear). `per_kind` None decides: kinds apart when each is identified (KIND_SE)."""
    one, _, one_background = _scales(kinds, data, False)
    scales, background = one, one_background
    if per_kind is not False and len(kinds) > 1:
        apart, errors, apart_background = _scales(kinds, data, True)
        # kinds apart must also stay within KIND_RANGE of the one scale: a kind that takes up
        # what the model lacks (sites held at their own ceilings) runs off to x50
        near = bool(np.all(np.abs(np.log(apart / one)) <= np.log(KIND_RANGE)))
        if per_kind or (near and _apart(kinds, data, apart, errors)):
            scales, background, per_kind = apart, apart_background, True
    per_kind = bool(per_kind) and len(kinds) > 1
    named = {k.name: float(s) for k, s in zip(kinds, scales, strict=True)}
    shape = Shape(named, np.ones(24), np.ones(24) if (~data.working).any() else None, background)
    sites = Data(data.target - background, data.censored, data.working)
    for _ in range(4):
        model = total(kinds, shape, data.working)
        weekday = _hour_factors(model, sites, data.working)
        weekend = _hour_factors(model, sites, ~data.working)
        shape = Shape(
            named,
            shape.weekday * (1.0 if weekday is None else weekday),
            None if shape.weekend is None or weekend is None else shape.weekend * weekend,
            background,
        )
    return shape, per_kind


def busy_hour(kinds: list[_Kind], shape: Shape, fixed: np.ndarray, evaluate: Data) -> np.ndarray:
    """Mean offered goodput per hour (bytes/s) of every site over the evaluation days: the
    fitted sites' model plus `fixed` (the measured sites' fitted model)."""
    return (total(kinds, shape, evaluate.working) + fixed).mean(axis=0)


def interval(
    kinds: list[_Kind],
    data: Data,
    per_kind: bool,
    fixed: np.ndarray,
    workdays: np.ndarray,
    seed: int = 1,
) -> tuple[float, float]:
    """The busy hour's LEVEL interval (bytes/s), refitting on days resampled with replacement
    and evaluating every refit on the same working days."""
    rng = np.random.default_rng(seed)
    count = len(data.working)
    evaluate = data.pick(workdays)
    picked = [k.pick(workdays) for k in kinds]
    peaks = []
    for _ in range(RESAMPLES):
        index = rng.integers(0, count, size=count)
        sample = data.pick(index)
        if not sample.usable.any():
            continue
        shape, _ = fit([k.pick(index) for k in kinds], sample, per_kind)
        peaks.append(busy_hour(picked, shape, fixed, evaluate).max())
    tail = (1.0 - LEVEL) / 2.0 * 100.0
    low, high = np.percentile(peaks, [tail, 100.0 - tail]) if peaks else (np.nan, np.nan)
    return float(low), float(high)


def day_types(calendar: Calendar, days: list[dt.date]) -> np.ndarray:
    """Per day: whether it lives the weekday profile (working days, Fridays, Ramadan days)."""
    return np.array([calendar.uses_weekday_profile(d) for d in days], dtype=bool)
