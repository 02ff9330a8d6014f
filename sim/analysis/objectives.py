"""The service objectives of a run as data: each figure with its target and verdict.

Every run evaluates the scenario's `[optimize.objectives]` (docs/scenario-reference.md) into
summary.json's `objectives` table, and the optimiser judges purchases by the same figures of
the same whole runs (its probes simulate what `netlab run` simulates), so a purchase, policy
and seed get one verdict everywhere. Figures are taken over each site kind's own busy windows
across the whole run: the local hours in which the kind's activity profile is at least
`busy_fraction` of its highest weight (office mornings and early afternoons, hotspot evenings
and weekend days), weekdays and weekends apart (`busy_windows` says them as clock times). A
flow belongs to a window when it starts in one of its site's kind. With the scenario's
`[calendar]` in use, a holiday or collective-leave day takes the weekend windows, as the demand
model lives it as a weekend (and the acceptance trial counts it as a day off).

A figure with nothing to measure (no such site or flow in the busy windows) is null and does
not fail its objective; a null target keeps a figure as information only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.demand.profiles import scenario_calendar
from sim.model.topology import SITE_KINDS

if TYPE_CHECKING:
    from sim.analysis.flows import FlowArrays
    from sim.model.scenario import Scenario
    from sim.run import RunRecord

DAY = 86400.0
HOUR = 3600.0
# Objectives whose figure must stay at or below its target; every other one at or above.
AT_MOST = ("web_fct_p95_s", "download_fct_p95_s")
CALL_APP, VIDEO_APP, WEB_APP, DOWNLOAD_APP = "video_call", "streaming", "web", "download"


@dataclass(frozen=True)
class ObjectiveRow:
    """One objective: its figure, target and verdict, and the site that sets the figure."""

    name: str
    value: float | None
    target: float | None
    met: bool | None  # None: information only, or nothing to measure
    better: str  # "higher" or "lower"
    site: str | None = None  # the site whose figure it is (a worst site), where one is

    @property
    def failed(self) -> bool:
        return self.met is False


def busy_hours(record: RunRecord, fraction: float) -> np.ndarray:
    """[kind, weekend, hour]: True in the busy windows of each kind (SITE_KINDS order)."""
    return kind_busy_hours(record.scenario, fraction)


def kind_busy_hours(scenario: Scenario, fraction: float) -> np.ndarray:
    """[kind, weekend, hour]: True where the kind's profile weight is at least `fraction` of
    its highest (weekday and weekend profiles together)."""
    table = np.zeros((len(SITE_KINDS), 2, 24), dtype=bool)
    for k, kind in enumerate(SITE_KINDS):
        profile = scenario.spec.demand.kinds.get(kind)
        if profile is None:
            continue
        weights = np.array([profile.weekday, profile.weekend])
        table[k] = weights >= fraction * weights.max()
    return table


def busy_windows(scenario: Scenario) -> dict[str, dict[str, list[str]]]:
    """Each kind's busy windows as local clock ranges ("08:00-12:00"), weekdays and weekends
    apart: the hours every objective's figure reads, in every run of the scenario."""
    table = kind_busy_hours(scenario, scenario.spec.optimize.objectives.busy_fraction)
    return {
        kind: {day: _clock_ranges(table[k, w]) for w, day in enumerate(("weekday", "weekend"))}
        for k, kind in enumerate(SITE_KINDS)
        if kind in scenario.spec.demand.kinds
    }


def _clock_ranges(hours: np.ndarray) -> list[str]:
    """Runs of True hours as "HH:00-HH:00" ranges (the last one may end at 24:00)."""
    ranges, start = [], None
    for hour, busy in enumerate([*hours.tolist(), False]):
        if busy and start is None:
            start = hour
        elif not busy and start is not None:
            ranges.append(f"{start:02d}:00-{hour:02d}:00")
            start = None
    return ranges


def run_days(scenario: Scenario) -> dict[str, str]:
    """Each local day the scenario's run touches, by ISO date, with the profile its busy
    windows take there ("weekday" or "weekend", as `weekend` reads it)."""
    start = scenario.start
    end = start + dt.timedelta(seconds=scenario.duration)
    count = (end.date() - start.date()).days + (end.time() != dt.time())
    off = weekend_days(scenario, count)
    return {
        (start.date() + dt.timedelta(days=d)).isoformat(): "weekend" if off[d] else "weekday"
        for d in range(count)
    }


def weekend_days(scenario: Scenario, count: int) -> np.ndarray:
    """1 for each of the run's first `count` local days that lives the weekend profile: a
    Saturday or Sunday, or a holiday or collective leave when the calendar is in use; else 0."""
    calendar = scenario_calendar(scenario)
    first = scenario.start.date()
    dates = [first + dt.timedelta(days=d) for d in range(count)]
    if calendar is None:
        return np.array([date.weekday() >= 5 for date in dates], dtype=np.intp)
    return np.array([not calendar.uses_weekday_profile(d) for d in dates], dtype=np.intp)


def local_hours(record: RunRecord, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(day index from the run's first local day, hour of day) of moments after the start."""
    start = record.scenario.start
    offset = (start - start.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    moment = seconds + offset
    return np.floor(moment / DAY).astype(np.intp), (moment % DAY // HOUR).astype(np.intp)


def weekend(record: RunRecord, days: np.ndarray) -> np.ndarray:
    """1 where a day index (see local_hours) lives the weekend profile (weekend_days), else 0."""
    count = int(days.max()) + 1 if days.size else 0
    return weekend_days(record.scenario, count)[days]


def site_kinds(record: RunRecord) -> np.ndarray:
    """Index into SITE_KINDS of each site, in record.site_ids order."""
    kinds = {site.id: SITE_KINDS.index(site.kind) for site in record.scenario.sites}
    return np.array([kinds[s] for s in record.site_ids], dtype=np.intp)


def in_busy_window(record: RunRecord, flows: FlowArrays) -> np.ndarray:
    """Per flow: True when it started in a busy window of its site's kind."""
    table = busy_hours(record, record.scenario.spec.optimize.objectives.busy_fraction)
    days, hours = local_hours(record, flows.start)
    return table[site_kinds(record)[flows.site], weekend(record, days), hours]


def evaluate(record: RunRecord, flows: FlowArrays, offered: np.ndarray) -> list[ObjectiveRow]:
    """Every objective of the scenario, in the order of `Objectives`, over the busy windows."""
    objectives = record.scenario.spec.optimize.objectives
    busy = in_busy_window(record, flows)
    figures = _figures(record, flows, offered, busy)
    rows = []
    for name, target in objectives.targets().items():
        value, site = figures.get(name, (None, None))
        better = "lower" if name in AT_MOST else "higher"
        rows.append(ObjectiveRow(name, value, target, met(value, target, name), better, site))
    return rows


def met(value: float | None, target: float | None, name: str) -> bool | None:
    """Whether the figure of objective `name` meets its target (None: no figure or no target
    to judge): the one verdict rule of runs, the optimiser and their pages."""
    if value is None or target is None:
        return None
    return value <= target if name in AT_MOST else value >= target


Figure = tuple[float | None, str | None]


def _figures(
    record: RunRecord, flows: FlowArrays, offered: np.ndarray, busy: np.ndarray
) -> dict[str, Figure]:
    """Each objective's figure and the site that sets it."""
    n = len(record.site_ids)
    asked = np.bincount(flows.site[busy], weights=offered[busy], minlength=n)
    got = np.bincount(flows.site[busy], weights=flows.delivered[busy], minlength=n)
    rated = asked > 0
    satisfaction = np.divide(got, asked, out=np.ones(n), where=rated)
    info = {site.id: site for site in record.scenario.sites}
    sites = [info[s] for s in record.site_ids]

    def worst(chosen: list[int]) -> Figure:
        chosen = [i for i in chosen if rated[i]]
        if not chosen:
            return None, None
        i = min(chosen, key=lambda j: satisfaction[j])
        return float(satisfaction[i]), sites[i].id

    offices = [i for i, s in enumerate(sites) if s.kind == "office" and rated[i]]
    out: dict[str, Figure] = {
        "office_busy_hour_satisfaction": _fifth_percentile(offices, satisfaction, sites),
        "essential_satisfaction": worst([i for i, s in enumerate(sites) if s.essential]),
        "jain_index": (_jain(satisfaction[rated]), None) if rated.any() else (None, None),
    }
    for kind in SITE_KINDS:
        out[f"worst_{kind}_satisfaction"] = worst(
            [i for i, s in enumerate(sites) if s.kind == kind]
        )
    out["web_fct_p95_s"] = (_fct_p95(flows, busy, WEB_APP), None)
    out["download_fct_p95_s"] = (_fct_p95(flows, busy, DOWNLOAD_APP), None)
    out["paced_at_rate_share"] = (_at_rate(flows, busy), None)
    out["call_at_rate_share"] = (_at_rate(flows, busy & _app(flows, CALL_APP)), None)
    out["video_at_rate_share"] = (_at_rate(flows, busy & _app(flows, VIDEO_APP)), None)
    return out


def _fifth_percentile(chosen: list[int], values: np.ndarray, sites: list[Any]) -> Figure:
    """The level that 95 % of the chosen sites reach or exceed, and the site at it."""
    if not chosen:
        return None, None
    ordered = sorted(chosen, key=lambda i: values[i])
    rank = int(np.floor(0.05 * (len(ordered) - 1)))  # numpy's "lower" 5th percentile
    return float(values[ordered[rank]]), sites[ordered[rank]].id


def _jain(values: np.ndarray) -> float:
    squares = float(np.sum(values * values))
    return 1.0 if squares == 0 else float(np.sum(values)) ** 2 / (values.size * squares)


def _app(flows: FlowArrays, name: str) -> np.ndarray:
    if name not in flows.apps:
        return np.zeros(flows.start.size, dtype=bool)
    return flows.app == flows.apps.index(name)


def _fct_p95(flows: FlowArrays, busy: np.ndarray, app: str) -> float | None:
    """95th percentile (linear) completion time of finished transfers of `app` in the windows."""
    done = busy & _app(flows, app) & flows.finished_elastic
    times = flows.ran_s[done]
    return float(np.percentile(times, 95)) if times.size else None


def _at_rate(flows: FlowArrays, where: np.ndarray) -> float | None:
    """Time-weighted share of paced-flow time at the needed rate."""
    chosen = where & flows.paced
    total = float(flows.ran_s[chosen].sum())
    return float(flows.time_at_rate[chosen].sum()) / total if total > 0 else None


def meets_all(rows: list[ObjectiveRow]) -> bool:
    """No objective failed (information-only figures and figures without data do not fail)."""
    return not any(row.failed for row in rows)
