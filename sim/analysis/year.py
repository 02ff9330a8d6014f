"""A by-day run's year from its days' figures: per month the busy-hour headroom and the
95th-percentile billing rate per direction, the worst week per site kind, and the month in
which each objective first breaks.

Definitions (the year report and docs/architecture.md say them too):
- a month's busy-hour headroom per direction is the purchase minus the offered rate of the
  month's busiest day's busy hour (negative: demand above the purchase);
- its 95th-percentile billing rate is the 95th percentile of the month's sample-interval rates
  through the tree (the usual 5-minute billing when sample_interval is 5m);
- a week is Monday to Sunday; its satisfaction per kind is the week's busy-window delivered
  bytes over asked bytes of that kind's sites; the worst week is the lowest;
- an objective breaks in a month when the month's days that measured it missed it more often
  than not; the first such month is named (None: it holds all year).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sim.analysis.day_figures import DayFigures
from sim.model.topology import SITE_KINDS

DIRECTIONS = ("down", "up")
BILLING_PERCENTILE = 95.0


@dataclass(frozen=True)
class MonthFigures:
    month: str  # YYYY-MM
    days: int
    headroom_mbps: dict[str, float]  # per direction (purchase - busiest busy hour offered)
    billing_p95_mbps: dict[str, float]  # per direction
    satisfaction: dict[str, float | None]  # per kind, busy-window delivered / asked
    missed_share: dict[str, float]  # per objective: share of measuring days that missed it


@dataclass(frozen=True)
class WeekFigures:
    monday: str  # ISO date of the week's Monday
    days: int  # of the run's days in it
    satisfaction: dict[str, float | None]  # per kind, busy-window delivered / asked


@dataclass(frozen=True)
class WorstWeek:
    kind: str
    monday: str  # ISO date of the week's Monday
    satisfaction: float


@dataclass(frozen=True)
class YearSummary:
    purchase_mbps: float
    days: int
    flows: int
    months: list[MonthFigures]
    weeks: list[WeekFigures]
    worst_weeks: list[WorstWeek]
    first_break: dict[str, str | None]  # objective: the first month it breaks in

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize_year(days: list[DayFigures], purchase_mbps: float) -> YearSummary:
    """The year of `days` (in day order) at a purchase of `purchase_mbps` per direction."""
    by_month: dict[str, list[DayFigures]] = defaultdict(list)
    for day in days:
        by_month[day.date[:7]].append(day)
    months = [_month(month, chosen, purchase_mbps) for month, chosen in by_month.items()]
    objectives = sorted({name for day in days for name in day.measured})
    first_break = {
        name: next((m.month for m in months if m.missed_share.get(name, 0.0) > 0.5), None)
        for name in objectives
    }
    weeks = _weeks(days)
    return YearSummary(
        purchase_mbps=purchase_mbps,
        days=len(days),
        flows=sum(day.flows for day in days),
        months=months,
        weeks=weeks,
        worst_weeks=_worst_weeks(weeks),
        first_break=first_break,
    )


def _month(month: str, days: list[DayFigures], purchase_mbps: float) -> MonthFigures:
    headroom, billing = {}, {}
    for direction in DIRECTIONS:
        peaks = [day.busy_hour.get(f"offered_{direction}", 0.0) for day in days]
        headroom[direction] = round(purchase_mbps - max(peaks), 3)
        samples = np.concatenate([day.upstream_mbps[direction] for day in days])
        billing[direction] = round(float(np.percentile(samples, BILLING_PERCENTILE)), 3)
    missed_share = {}
    for name in sorted({n for day in days for n in day.measured}):
        measuring = [day for day in days if name in day.measured]
        missed_share[name] = round(sum(name in d.missed for d in measuring) / len(measuring), 4)
    return MonthFigures(
        month=month,
        days=len(days),
        headroom_mbps=headroom,
        billing_p95_mbps=billing,
        satisfaction={kind: _satisfaction(days, kind) for kind in SITE_KINDS},
        missed_share=missed_share,
    )


def _satisfaction(days: list[DayFigures], kind: str) -> float | None:
    asked = sum(day.asked[kind] for day in days)
    return round(sum(day.got[kind] for day in days) / asked, 4) if asked > 0 else None


def _weeks(days: list[DayFigures]) -> list[WeekFigures]:
    """Monday-to-Sunday weeks of the run's days, in order."""
    weeks: dict[str, list[DayFigures]] = defaultdict(list)
    for day in days:
        date = dt.date.fromisoformat(day.date)
        weeks[(date - dt.timedelta(days=date.weekday())).isoformat()].append(day)
    return [
        WeekFigures(monday, len(chosen), {kind: _satisfaction(chosen, kind) for kind in SITE_KINDS})
        for monday, chosen in weeks.items()
    ]


def _worst_weeks(weeks: list[WeekFigures]) -> list[WorstWeek]:
    """Per kind the week of lowest satisfaction (the earliest of equals)."""
    worst = []
    for kind in SITE_KINDS:
        scored = [(s, w.monday) for w in weeks if (s := w.satisfaction[kind]) is not None]
        if scored:
            satisfaction, monday = min(scored)
            worst.append(WorstWeek(kind, monday, satisfaction))
    return worst
