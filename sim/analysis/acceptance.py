"""The acceptance trial of a multi-day run: per day and per site, was the capacity achieved
and evenly distributed? (acceptance.json; docs/architecture.md, "The results folder").

Every figure is taken in each site's busy windows of each local day (the hours in which its
kind's activity profile is at least `busy_fraction` of its peak, as the objectives use), so an
office is judged on working-day mornings and a hotspot on evenings and days off. Days follow
the scenario's `[calendar]`: with it in use, a national holiday or collective leave is a day
off like a weekend (the demand lives it so), so offices and sub-districts, which have no busy
window on days off, are not judged on it; each day carries its type and the holiday's name.
Criteria, each with its value, threshold (`[acceptance]`) and verdict ("pass", "fail", or
"n/a" when the day has no busy window for the site or nothing was asked); the counts, over
all and per criterion, take "pass" and "fail" only where the criterion applies:

- per day and site, `busy_satisfaction`: delivered / offered bytes of the flows that started
  in the site's busy windows that day;
- per day and site, `guarantee`: the site's mean download goodput over its busy intervals,
  over the lesser of its guarantee (the leaf rate of the plan in force, as goodput) and what
  it asked for: that goodput plus the bytes that the downloads started in those intervals
  left unmet, as a mean rate. A site that got all it asked passes; one that was left wanting
  must have had its guarantee. (Bytes offered at a flow's start would not do: a download
  started late in a window is delivered after it.)
- per day, `evenness` across sites and per site, `evenness` across days: Jain's index over
  the busy satisfactions.

The days also carry the headroom against the purchase: per direction, the 95th percentile and
the peak of the interval traffic (L2) over the purchase. The trial passes when nothing fails.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sim.analysis.flows import FlowArrays
from sim.analysis.metrics import jain
from sim.analysis.objectives import busy_hours, local_hours, site_kinds
from sim.demand.profiles import scenario_calendar
from sim.model.scenario import Scenario
from sim.model.units import MBPS
from sim.run import RunRecord

PASS, FAIL, NA = "pass", "fail", "n/a"
WORKING, WEEKEND, HOLIDAY = "working", "weekend", "holiday"  # a day's type
CRITERIA = {
    "busy_satisfaction": "delivered / offered bytes in the site's busy windows of the day",
    "guarantee": "busy-window goodput over the lesser of the guarantee and the offered rate",
    "evenness": "Jain's index of busy satisfaction across sites (a day) or days (a site)",
}
# The checks counted apart: the two cell criteria, and evenness per day and per site.
CHECKS = ("busy_satisfaction", "guarantee", "evenness_per_day", "evenness_per_site")


@dataclass(frozen=True)
class Criterion:
    """A criterion's value, threshold and verdict (pass, fail, or n/a without a value)."""

    value: float | None
    threshold: float
    verdict: str


def criterion(value: float | None, threshold: float) -> Criterion:
    """A criterion judged: n/a without a value, else pass at or above the threshold."""
    verdict = NA if value is None else PASS if value >= threshold else FAIL
    return Criterion(value, threshold, verdict)


@dataclass(frozen=True)
class Cell:
    """One day and site: its busy hours, mean download rates (Mbit/s; None without busy
    hours) and its two criteria."""

    day: str
    site: str
    name: str
    kind: str
    busy_hours: float
    offered_mbps: float | None
    achieved_mbps: float | None
    guaranteed_mbps: float | None
    busy_satisfaction: Criterion
    guarantee: Criterion

    @property
    def criteria(self) -> dict[str, Criterion]:
        """The criteria by name, in acceptance.json's order."""
        return {"busy_satisfaction": self.busy_satisfaction, "guarantee": self.guarantee}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        criteria = {name: data.pop(name) for name in self.criteria}
        return {**data, "criteria": criteria}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cell:
        fields = {k: v for k, v in data.items() if k != "criteria"}
        criteria = data["criteria"]
        return cls(
            **fields,
            busy_satisfaction=Criterion(**criteria["busy_satisfaction"]),
            guarantee=Criterion(**criteria["guarantee"]),
        )


@dataclass(frozen=True)
class DaySummary:
    """One day: its type (working, weekend or holiday, by the scenario's calendar) and the
    holiday's name, evenness across sites, and the headroom (interval traffic over the
    purchase, 95th percentile and peak) per direction."""

    day: str
    day_type: str
    holiday: str | None
    evenness: Criterion
    down_p95_utilisation: float
    down_peak_utilisation: float
    up_p95_utilisation: float
    up_peak_utilisation: float


@dataclass(frozen=True)
class SiteSummary:
    """One site: evenness of its busy satisfaction across the days."""

    site: str
    name: str
    evenness: Criterion


@dataclass(frozen=True)
class Acceptance:
    """What acceptance.json holds: the trial's cells (day x site), days, sites, counts of
    verdicts and the verdict. `to_json` gives the file's data; `from_json` reads it back."""

    scenario: str
    start: str  # ISO 8601, local
    days: list[str]
    purchase_mbps: float
    policy: str
    thresholds: dict[str, float]
    criteria: dict[str, str]  # each criterion's description
    cells: list[Cell]
    days_summary: list[DaySummary]
    sites_summary: list[SiteSummary]
    counts: dict[str, int]  # by verdict
    counts_by_check: dict[str, dict[str, int]]  # CHECKS, each by verdict
    verdict: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {**data, "cells": [cell.to_json() for cell in self.cells]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Acceptance:
        days = [
            DaySummary(**{**d, "evenness": Criterion(**d["evenness"])})
            for d in data["days_summary"]
        ]
        sites = [
            SiteSummary(**{**s, "evenness": Criterion(**s["evenness"])})
            for s in data["sites_summary"]
        ]
        return cls(
            **{
                **data,
                "cells": [Cell.from_json(cell) for cell in data["cells"]],
                "days_summary": days,
                "sites_summary": sites,
            }
        )


def acceptance(record: RunRecord) -> Acceptance:
    """The acceptance trial of a run (see the module docstring)."""
    scenario = record.scenario
    flows = FlowArrays.from_flows(record.flows, record.site_ids)
    calendar = _calendar_days(scenario, int(local_hours(record, record.times)[0].max()) + 1)
    days, cells = _cells(record, flows, [day_type != WORKING for day_type, _ in calendar])
    satisfaction = {(c.day, c.site): c.busy_satisfaction for c in cells}
    days_summary = _days(record, days, calendar, satisfaction)
    sites_summary = _sites(record, days, satisfaction)
    checks = {
        "busy_satisfaction": [cell.busy_satisfaction for cell in cells],
        "guarantee": [cell.guarantee for cell in cells],
        "evenness_per_day": [d.evenness for d in days_summary],
        "evenness_per_site": [s.evenness for s in sites_summary],
    }
    by_check = {name: _count(found) for name, found in checks.items()}
    counts = {v: sum(count[v] for count in by_check.values()) for v in (PASS, FAIL, NA)}
    return Acceptance(
        scenario=scenario.name,
        start=scenario.start.isoformat(),
        days=days,
        purchase_mbps=scenario.spec.purchase.upstream_mbps,
        policy=scenario.spec.policy.name,
        thresholds=scenario.spec.acceptance.model_dump(),
        criteria=CRITERIA,
        cells=cells,
        days_summary=days_summary,
        sites_summary=sites_summary,
        counts=counts,
        counts_by_check=by_check,
        verdict=FAIL if counts[FAIL] else PASS,
    )


def _count(found: list[Criterion]) -> dict[str, int]:
    verdicts = [c.verdict for c in found]
    return {v: verdicts.count(v) for v in (PASS, FAIL, NA)}


def _calendar_days(scenario: Scenario, count: int) -> list[tuple[str, str | None]]:
    """Per local day of the run: its type and, on a holiday, the holiday's name. Without the
    scenario's calendar in use, a day is a weekend or a working day by its weekday alone."""
    calendar = scenario_calendar(scenario)
    out: list[tuple[str, str | None]] = []
    for d in range(count):
        date = scenario.start.date() + dt.timedelta(days=d)
        if calendar is not None and calendar.day_type(date) == HOLIDAY:
            out.append((HOLIDAY, calendar.holiday_name(date)))
        else:
            out.append((WEEKEND if date.weekday() >= 5 else WORKING, None))
    return out


def _windows(
    record: RunRecord, flows: FlowArrays, off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Day index of each interval, [interval, site] True when the interval starts in a busy
    window of the site's kind, and the same per flow by its start. `off` is 1 on each day off
    (weekend or holiday), which takes the kind's weekend profile, as the demand does."""
    table = busy_hours(record, record.scenario.spec.optimize.objectives.busy_fraction)
    kinds = site_kinds(record)
    step_days, step_hours = local_hours(record, record.times)
    busy_steps = table[kinds[None, :], off[step_days][:, None], step_hours[:, None]]
    flow_days, flow_hours = local_hours(record, flows.start)
    flow_busy = table[kinds[flows.site], off[flow_days], flow_hours]
    return step_days, busy_steps, flow_days, flow_busy


def _guarantees_bps(record: RunRecord) -> np.ndarray:
    """[interval, site] download guarantee (goodput bits/s) of the plan in force."""
    overhead = record.scenario.spec.network.overhead
    column = {site: i for i, site in enumerate(record.site_ids)}
    per_plan = np.zeros((len(record.plans), len(record.site_ids)))
    for p, plan in enumerate(record.plans):
        for leaf in plan.down.leaves:
            if leaf.site in column:
                per_plan[p, column[leaf.site]] = leaf.rate / overhead
    guarantees: np.ndarray = per_plan[record.plan_index]
    return guarantees


def _cells(record: RunRecord, flows: FlowArrays, off: list[bool]) -> tuple[list[str], list[Cell]]:
    """Day names and one cell a day and site; `off` marks each day off (weekend, holiday)."""
    scenario = record.scenario
    thresholds = scenario.spec.acceptance
    days_off = np.array(off, dtype=np.intp)
    step_days, busy_steps, flow_days, flow_busy = _windows(record, flows, days_off)
    lengths = np.minimum(record.times + record.interval, scenario.duration) - record.times
    goodput = record.wire_bytes["down"] * 8.0 / scenario.spec.network.overhead
    guarantee = _guarantees_bps(record) * lengths[:, None]  # bits in each interval
    offered = flows.offered  # bytes each flow asked for
    step_of_flow = np.minimum((flows.start // record.interval).astype(np.intp), lengths.size - 1)
    first = scenario.start.date()
    names = [(first + dt.timedelta(days=d)).isoformat() for d in range(len(off))]
    info = {site.id: site for site in scenario.sites}
    cells = []
    for d in range(len(off)):
        for i, site_id in enumerate(record.site_ids):
            steps = busy_steps[:, i] & (step_days == d)
            seconds = float(lengths[steps].sum())
            mine = (flows.site == i) & flow_busy & (flow_days == d)
            asked, got = float(offered[mine].sum()), float(flows.delivered[mine].sum())
            downs = (flows.site == i) & flows.down & steps[step_of_flow]
            unmet = max(0.0, float(offered[downs].sum() - flows.delivered[downs].sum()))
            rates = _rates(seconds, goodput[steps, i], guarantee[steps, i], unmet)
            site = info[site_id]
            cells.append(
                Cell(
                    day=names[d],
                    site=site_id,
                    name=site.name,
                    kind=site.kind,
                    busy_hours=seconds / 3600.0,
                    **rates,
                    busy_satisfaction=criterion(
                        got / asked if asked > 0 else None, thresholds.busy_satisfaction
                    ),
                    guarantee=criterion(_guarantee_ratio(rates), thresholds.guarantee),
                )
            )
    return names, cells


def _rates(
    seconds: float, goodput_bits: np.ndarray, guarantee_bits: np.ndarray, unmet_bytes: float
) -> dict[str, float | None]:
    """Mean asked, achieved and guaranteed download rates (Mbit/s) over busy intervals:
    asked is what was achieved plus what the downloads started then left unmet."""
    if seconds <= 0:
        return {"offered_mbps": None, "achieved_mbps": None, "guaranteed_mbps": None}
    achieved = float(goodput_bits.sum()) / seconds / MBPS
    return {
        "offered_mbps": achieved + unmet_bytes * 8.0 / seconds / MBPS,
        "achieved_mbps": achieved,
        "guaranteed_mbps": float(guarantee_bits.sum()) / seconds / MBPS,
    }


def _guarantee_ratio(rates: dict[str, float | None]) -> float | None:
    offered, achieved, guaranteed = (
        rates["offered_mbps"],
        rates["achieved_mbps"],
        rates["guaranteed_mbps"],
    )
    if offered is None or achieved is None or guaranteed is None:
        return None
    owed = min(offered, guaranteed)
    return achieved / owed if owed > 0 else None


def _days(
    record: RunRecord,
    days: list[str],
    calendar: list[tuple[str, str | None]],
    satisfaction: dict[tuple[str, str], Criterion],
) -> list[DaySummary]:
    """Per day: its type and holiday, evenness across sites, and the headroom against the
    purchase per direction."""
    thresholds = record.scenario.spec.acceptance
    step_days, _ = local_hours(record, record.times)
    lengths = np.minimum(record.times + record.interval, record.scenario.duration) - record.times
    out = []
    for d, day in enumerate(days):
        values = [s.value for (k, _), s in satisfaction.items() if k == day and s.value is not None]
        steps = step_days == d
        headroom = {}
        for direction in ("down", "up"):
            rate = record.wire_bytes[direction][steps].sum(axis=1) * 8.0 / lengths[steps]
            purchase = record.scenario.upstream_bps
            headroom[f"{direction}_p95_utilisation"] = (
                float(np.percentile(rate, 95, method="inverted_cdf")) / purchase
            )
            headroom[f"{direction}_peak_utilisation"] = float(rate.max()) / purchase
        evenness = criterion(jain(values) if values else None, thresholds.evenness)
        day_type, holiday = calendar[d]
        out.append(DaySummary(day, day_type, holiday, evenness, **headroom))
    return out


def _sites(
    record: RunRecord, days: list[str], satisfaction: dict[tuple[str, str], Criterion]
) -> list[SiteSummary]:
    """Per site: evenness of its busy satisfaction across the days that rated it."""
    threshold = record.scenario.spec.acceptance.evenness
    info = {site.id: site for site in record.scenario.sites}
    out = []
    for site_id in record.site_ids:
        found = [satisfaction[(day, site_id)].value for day in days]
        values = [value for value in found if value is not None]
        evenness = criterion(jain(values) if values else None, threshold)
        out.append(SiteSummary(site=site_id, name=info[site_id].name, evenness=evenness))
    return out
