"""The figures every run reports (docs/architecture.md, "The results folder"), computed from a
RunRecord.

`summarize` returns a `Summary` (sim/analysis/summary.py), what a run folder's summary.json
holds and what reports, comparisons and the optimiser read; per-site latency figures come
from sim/analysis/latency.py, the flows and classes files' series from sim/analysis/series.py.
The flows are turned into numpy arrays once, so a 10-day run (about a million flows) takes
seconds. Units are in the key names: _gb is 1e9 bytes, _mbps 1e6 bits/s, _s seconds, _idr
Rupiah; shares and utilisations are 0..1; a figure with nothing to measure is null.

Conventions:
- Offered bytes: an elastic flow offers its size (a lump of demand at its start); a paced flow
  offers its needed rate for the time it runs. A paced flow still running when the run ends
  ("cut") offers only for the time it ran, since its demand after the end lies outside the run.
- Unmet = offered - delivered: abandoned transfers, starved paced flows, unfinished transfers.
- The busy hour is the clock hour (aligned to the local clock) whose starting flows offered the
  most bytes; its figures are those of the flows that started in it.
- Percentiles of time series (p95, billing95) are nearest-rank, as burstable billing does: the
  top 5 % of samples are discarded and the highest remaining one is the figure. Percentiles of
  distributions (flow completion times, slowdowns) interpolate linearly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from sim.analysis.flows import (
    ABANDONED,
    FlowArrays,
    at_rate_share,
    bottleneck_bps,
    nearest_rank_p95,
    percentiles,
    ratio,
    slowdown,
)
from sim.analysis.latency import site_latency
from sim.analysis.objectives import evaluate
from sim.analysis.summary import (
    AppFigures,
    BusyHourFigures,
    CostFigures,
    OverallFigures,
    SiteFigures,
    Summary,
    UnservedSite,
    UpstreamFigures,
)
from sim.model.flow import Direction
from sim.model.units import MBPS
from sim.run import RunRecord
from sim.shaping.plan import DIRECTIONS

GB = 1e9  # bytes
HOUR = 3600.0  # seconds
BILLING_WINDOW = 300.0  # seconds: ISPs bill the 95th percentile of 5-minute averages
MONTH = 30 * 86400.0  # seconds in the month a price is quoted for


@dataclass(frozen=True)
class BusyHour:
    """The busy hour's window, seconds since scenario start (clipped to the run)."""

    begin: float
    end: float


def jain(values: Iterable[float]) -> float:
    """Jain's fairness index (Σx)² / (n·Σx²): 1 when all are equal, 1/n when one gets all.

    All zeros count as equal treatment (1.0); an empty or negative input is an error.
    """
    x = np.asarray(list(values), dtype=float)
    if x.size == 0:
        raise ValueError("Jain's index needs at least one value")
    if (x < 0).any():
        raise ValueError("Jain's index is defined for non-negative values")
    squares = float(np.sum(x * x))
    if squares == 0.0:
        return 1.0
    return float(np.sum(x)) ** 2 / (x.size * squares)


def summarize(record: RunRecord) -> Summary:
    """Every figure of a run (docs/architecture.md, "The results folder")."""
    scenario = record.scenario
    flows = FlowArrays.from_flows(record.flows, record.site_ids)
    offered = flows.offered
    lengths = _interval_lengths(record)
    busy = _busy_hour(flows.start, offered, scenario.start, scenario.duration)
    upstream: dict[str, UpstreamFigures] = {
        direction: _upstream(record, direction, lengths, scenario.upstream_bps)
        for direction in DIRECTIONS
    }
    sites = _sites(record, flows, offered, busy, lengths)
    satisfactions = [site.satisfaction for site in sites if site.satisfaction is not None]
    overall = OverallFigures(
        **_amounts(offered, flows.delivered),
        busy_hour=_busy_hour_figures(flows, offered, busy, scenario.start),
        jain_index=jain(satisfactions) if satisfactions else None,
        flows=len(record.flows),
        abandoned_flows=int(np.count_nonzero(flows.status == ABANDONED)),
        paced_at_rate_share=at_rate_share(flows, np.ones(len(record.flows), dtype=bool)),
        users=record.users,
    )
    return Summary(
        overall=overall,
        sites=sites,
        apps=_apps(record, flows, offered),
        upstream=upstream,
        cost=_cost(record, overall.delivered_gb, upstream["down"].mean_utilisation),
        unserved=[
            UnservedSite(id=site.id, name=site.name, users=site.users, kind=site.kind)
            for site in scenario.unserved
        ],
        objectives=evaluate(record, flows, offered),
        latency=site_latency(record, flows),
    )


def busy_hour_of(record: RunRecord, flows: FlowArrays) -> BusyHourFigures | None:
    """The run's busy hour (summary.json's overall.busy_hour) from its flow arrays alone."""
    scenario = record.scenario
    busy = _busy_hour(flows.start, flows.offered, scenario.start, scenario.duration)
    return _busy_hour_figures(flows, flows.offered, busy, scenario.start)


def _interval_lengths(record: RunRecord) -> np.ndarray:
    """Seconds each sample interval covers (the last one may be cut short by the run's end)."""
    return np.minimum(record.times + record.interval, record.scenario.duration) - record.times


def _busy_hour(
    start: np.ndarray, offered: np.ndarray, clock: dt.datetime, duration: float
) -> BusyHour | None:
    """The local clock hour in which the starting flows offered the most bytes."""
    if start.size == 0:
        return None
    phase = (clock - clock.replace(minute=0, second=0, microsecond=0)).total_seconds()
    hours = np.floor((start + phase) / HOUR).astype(np.intp)
    busiest = int(np.argmax(np.bincount(hours, weights=offered)))
    return BusyHour(
        begin=max(0.0, busiest * HOUR - phase), end=min(duration, (busiest + 1) * HOUR - phase)
    )


def _in_busy_hour(flows: FlowArrays, busy: BusyHour | None) -> np.ndarray:
    if busy is None:
        return np.zeros(flows.start.size, dtype=bool)
    return (flows.start >= busy.begin) & (flows.start < busy.end)


def _busy_hour_figures(
    flows: FlowArrays, offered: np.ndarray, busy: BusyHour | None, clock: dt.datetime
) -> BusyHourFigures | None:
    if busy is None:
        return None
    inside = _in_busy_hour(flows, busy)
    seconds = busy.end - busy.begin
    asked, got = float(offered[inside].sum()), float(flows.delivered[inside].sum())
    local = clock + dt.timedelta(seconds=busy.begin)
    rates = {}
    for direction, mine in (("down", flows.down), ("up", ~flows.down)):
        chosen = inside & mine
        rates[f"offered_{direction}_mbps"] = float(offered[chosen].sum()) * 8 / seconds / MBPS
        rates[f"delivered_{direction}_mbps"] = (
            float(flows.delivered[chosen].sum()) * 8 / seconds / MBPS
        )
    return BusyHourFigures(
        start_s=busy.begin,
        clock=local.strftime("%H:%M"),
        local=local.isoformat(timespec="minutes"),
        **rates,
        satisfaction=ratio(got, asked),
    )


def _sites(
    record: RunRecord,
    flows: FlowArrays,
    offered: np.ndarray,
    busy: BusyHour | None,
    lengths: np.ndarray,
) -> list[SiteFigures]:
    n = len(record.site_ids)

    def per_site(weights: np.ndarray | None, where: np.ndarray | None = None) -> np.ndarray:
        if where is None:
            return np.bincount(flows.site, weights=weights, minlength=n)
        chosen = None if weights is None else weights[where]
        return np.bincount(flows.site[where], weights=chosen, minlength=n)

    asked, got = per_site(offered), per_site(flows.delivered)
    inside = _in_busy_hour(flows, busy)
    busy_asked, busy_got = per_site(offered, inside), per_site(flows.delivered, inside)
    count = per_site(None)
    abandoned = per_site(None, flows.status == ABANDONED)
    paced = flows.paced
    paced_time, at_rate = per_site(flows.ran_s, paced), per_site(flows.time_at_rate, paced)
    overhead = record.scenario.spec.network.overhead
    down_goodput = record.wire_bytes["down"] * 8.0 / lengths[:, None] / overhead
    p95 = nearest_rank_p95(down_goodput, axis=0)
    info = {site.id: site for site in record.scenario.sites}
    out = []
    for i, site_id in enumerate(record.site_ids):
        site = info[site_id]
        out.append(
            SiteFigures(
                id=site.id,
                name=site.name,
                kind=site.kind,
                users=site.users,
                access_mbps=site.access_bps / MBPS,
                flows=int(count[i]),
                **_amounts(asked[i], got[i]),
                busy_hour_satisfaction=ratio(busy_got[i], busy_asked[i]),
                p95_mbps=float(p95[i]) / MBPS,
                abandoned_flows=int(abandoned[i]),
                paced_at_rate_share=ratio(at_rate[i], paced_time[i]),
            )
        )
    return out


def _apps(record: RunRecord, flows: FlowArrays, offered: np.ndarray) -> dict[str, AppFigures]:
    """Per application: completion times and slowdowns of finished elastic flows, at-rate share."""
    overhead = record.scenario.spec.network.overhead
    paced = flows.paced
    finished = flows.finished_elastic
    fct = flows.ran_s
    slowdowns = slowdown(fct, flows.size, bottleneck_bps(record)[flows.site], overhead)
    out = {}
    for code, name in sorted(enumerate(flows.apps), key=lambda item: item[1]):
        mine = flows.app == code
        done = mine & finished
        fct_p = percentiles(fct[done], (50, 95, 99))
        slow_p = percentiles(slowdowns[done], (50, 95))
        out[name] = AppFigures(
            kind="paced" if paced[mine].any() else "elastic",
            flows=int(np.count_nonzero(mine)),
            **_amounts(offered[mine], flows.delivered[mine]),
            fct_p50_s=fct_p[0],
            fct_p95_s=fct_p[1],
            fct_p99_s=fct_p[2],
            slowdown_p50=slow_p[0],
            slowdown_p95=slow_p[1],
            at_rate_share=at_rate_share(flows, mine),
            abandoned_share=ratio(
                int(np.count_nonzero(mine & (flows.status == ABANDONED))),
                int(np.count_nonzero(mine)),
            ),
        )
    return out


def _upstream(
    record: RunRecord, direction: Direction, lengths: np.ndarray, purchased_bps: float
) -> UpstreamFigures:
    """Utilisation of the purchase in one direction (L2 traffic of all sites)."""
    bits = record.wire_bytes[direction].sum(axis=1) * 8.0  # L2 bits per interval, all sites
    rate = bits / lengths
    mean_bps = float(bits.sum() / lengths.sum())
    window = max(BILLING_WINDOW, record.interval)
    bins = np.floor(record.times / window + 1e-9).astype(np.intp)
    averages = np.bincount(bins, weights=bits) / np.bincount(bins, weights=lengths)
    return UpstreamFigures(
        mean_mbps=mean_bps / MBPS,
        mean_utilisation=mean_bps / purchased_bps,
        p95_utilisation=float(nearest_rank_p95(rate)) / purchased_bps,
        billing95_mbps=float(nearest_rank_p95(averages)) / MBPS,
        peak_mbps=float(rate.max()) / MBPS,
    )


def _cost(record: RunRecord, delivered_gb: float, down_utilisation: float) -> CostFigures:
    """What the purchase costs for this run, per delivered GB, and for capacity left idle."""
    monthly = record.scenario.monthly_cost_idr
    period = monthly * record.scenario.duration / MONTH
    return CostFigures(
        monthly_idr=monthly,
        period_idr=period,
        per_delivered_gb_idr=ratio(period, delivered_gb),
        idle_idr=period * (1.0 - min(1.0, down_utilisation)),
    )


class _Amounts(TypedDict):
    """The amount figures every level (run, site, application) reports, by their keys."""

    offered_gb: float
    delivered_gb: float
    satisfaction: float | None
    unmet_gb: float


def _amounts(offered: np.ndarray | float, delivered: np.ndarray | float) -> _Amounts:
    """offered_gb, delivered_gb, satisfaction and unmet_gb of a set of flows (or of totals)."""
    asked, got = float(np.sum(offered)), float(np.sum(delivered))
    return {
        "offered_gb": asked / GB,
        "delivered_gb": got / GB,
        "satisfaction": ratio(got, asked),
        "unmet_gb": max(0.0, asked - got) / GB,
    }
