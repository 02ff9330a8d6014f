"""The figures every run reports (docs/architecture.md, "The results folder"), computed from a
RunRecord as plain JSON data.

`summarize` returns a `Summary`, what a run folder's summary.json holds (`Summary.to_json`) and
what reports, comparisons and the optimiser read.
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
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sim.analysis.emodel import mos, r_factor
from sim.analysis.objectives import ObjectiveRow, evaluate
from sim.model.flow import Flow
from sim.model.paths import site_paths
from sim.model.units import MBPS
from sim.run import RunRecord
from sim.shaping.plan import DIRECTIONS, ClassTree, Direction

GB = 1e9  # bytes
HOUR = 3600.0  # seconds
BILLING_WINDOW = 300.0  # seconds: ISPs bill the 95th percentile of 5-minute averages
MONTH = 30 * 86400.0  # seconds in the month a price is quoted for

_STATUS_CODES = {"active": 0, "done": 1, "abandoned": 2, "cut": 3}
_DONE, _ABANDONED, _CUT = _STATUS_CODES["done"], _STATUS_CODES["abandoned"], _STATUS_CODES["cut"]


@dataclass(frozen=True)
class FlowArrays:
    """A run's flows as parallel numpy arrays, one entry a flow, with what metrics derive."""

    apps: list[str]  # application names, in order of first appearance
    site: np.ndarray  # index into the record's site_ids
    app: np.ndarray  # index into `apps`
    status: np.ndarray  # codes of _STATUS_CODES
    start: np.ndarray  # seconds since scenario start
    end: np.ndarray
    size: np.ndarray  # goodput bytes
    delivered: np.ndarray
    rate: np.ndarray  # paced: needed goodput bits/s; 0 for elastic
    time_at_rate: np.ndarray  # paced: seconds at the needed rate
    down: np.ndarray  # True for downloads

    @classmethod
    def from_flows(cls, flows: list[Flow], site_ids: list[str]) -> FlowArrays:
        n = len(flows)
        column = {site: i for i, site in enumerate(site_ids)}
        apps: dict[str, int] = {}
        numbers = np.array(
            [(f.start, f.end, f.size, f.delivered, f.rate, f.time_at_rate) for f in flows],
            dtype=float,
        ).reshape(n, 6)
        app = np.fromiter((apps.setdefault(f.app, len(apps)) for f in flows), np.intp, n)
        return cls(
            apps=list(apps),
            site=np.fromiter((column[f.site] for f in flows), np.intp, n),
            app=app,
            status=np.fromiter((_STATUS_CODES[f.status] for f in flows), np.int8, n),
            start=numbers[:, 0],
            end=numbers[:, 1],
            size=numbers[:, 2],
            delivered=numbers[:, 3],
            rate=numbers[:, 4],
            time_at_rate=numbers[:, 5],
            down=np.fromiter((f.direction == "down" for f in flows), bool, n),
        )

    @property
    def paced(self) -> np.ndarray:
        return self.rate > 0

    @property
    def finished_elastic(self) -> np.ndarray:
        return ~self.paced & (self.status == _DONE)

    @property
    def ran_s(self) -> np.ndarray:
        """Seconds each flow was active (up to the end of the run for cut flows)."""
        return self.end - self.start

    @property
    def offered(self) -> np.ndarray:
        """Goodput bytes each flow asked for within the run (see the module docstring)."""
        cut_paced = self.paced & (self.status == _CUT)
        return np.where(cut_paced, self.rate * self.ran_s / 8.0, self.size)


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


@dataclass(frozen=True)
class BusyHourFigures:
    """The busy hour of a run: when it was and how well the flows that started in it fared."""

    start_s: float
    clock: str  # local HH:MM
    local: str  # local date and time, to the minute
    offered_down_mbps: float  # each direction apart: the purchase is per direction
    offered_up_mbps: float
    delivered_down_mbps: float
    delivered_up_mbps: float
    satisfaction: float | None


@dataclass(frozen=True)
class OverallFigures:
    offered_gb: float
    delivered_gb: float
    satisfaction: float | None
    unmet_gb: float
    busy_hour: BusyHourFigures | None
    jain_index: float | None
    flows: int
    abandoned_flows: int
    paced_at_rate_share: float | None
    users: int


@dataclass(frozen=True)
class SiteFigures:
    id: str
    name: str
    kind: str
    users: int
    access_mbps: float
    flows: int
    offered_gb: float
    delivered_gb: float
    satisfaction: float | None
    unmet_gb: float
    busy_hour_satisfaction: float | None
    p95_mbps: float
    abandoned_flows: int
    paced_at_rate_share: float | None


@dataclass(frozen=True)
class AppFigures:
    kind: str  # "elastic" or "paced"
    flows: int
    offered_gb: float
    delivered_gb: float
    satisfaction: float | None
    unmet_gb: float
    fct_p50_s: float | None
    fct_p95_s: float | None
    fct_p99_s: float | None
    slowdown_p50: float | None
    slowdown_p95: float | None
    at_rate_share: float | None
    abandoned_share: float | None


@dataclass(frozen=True)
class UpstreamFigures:
    mean_mbps: float
    mean_utilisation: float
    p95_utilisation: float
    billing95_mbps: float
    peak_mbps: float


@dataclass(frozen=True)
class CostFigures:
    monthly_idr: float
    period_idr: float
    per_delivered_gb_idr: float | None
    idle_idr: float


@dataclass(frozen=True)
class UnservedSite:
    id: str
    name: str
    users: int
    kind: str


@dataclass(frozen=True)
class Summary:
    """What summary.json holds: every figure of a run (see the module docstring for units)."""

    overall: OverallFigures
    sites: list[SiteFigures]
    apps: dict[str, AppFigures]  # by application name, sorted
    upstream: dict[str, UpstreamFigures]  # by direction, "down" and "up"
    cost: CostFigures
    unserved: list[UnservedSite]
    objectives: list[ObjectiveRow] = field(default_factory=list)  # the scenario's, evaluated
    latency: dict[str, SiteLatency] = field(default_factory=dict)  # by site id

    def worst_site(self, kind: str) -> SiteFigures | None:
        """The site of this kind with the lowest satisfaction (None: no such site rated)."""
        rated = [s for s in self.sites if s.kind == kind and s.satisfaction is not None]
        return min(rated, key=lambda s: s.satisfaction or 0.0) if rated else None

    @property
    def idle_yearly_idr(self) -> float:
        """What the capacity left idle (downstream) costs over a year at this run's use."""
        return 12 * self.cost.monthly_idr * (1 - min(1.0, self.upstream["down"].mean_utilisation))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data, keys in summary.json's order."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        """Read back what to_json wrote (e.g. a run folder's summary.json)."""
        busy = data["overall"]["busy_hour"]
        busy_hour = None if busy is None else BusyHourFigures(**busy)
        overall = {**data["overall"], "busy_hour": busy_hour}
        return cls(
            overall=OverallFigures(**overall),
            sites=[SiteFigures(**site) for site in data["sites"]],
            apps={name: AppFigures(**app) for name, app in data["apps"].items()},
            upstream={d: UpstreamFigures(**u) for d, u in data["upstream"].items()},
            cost=CostFigures(**data["cost"]),
            unserved=[UnservedSite(**site) for site in data["unserved"]],
            objectives=[ObjectiveRow(**row) for row in data.get("objectives", [])],
            latency={k: SiteLatency(**v) for k, v in data.get("latency", {}).items()},
        )

    def failed_objectives(self) -> list[ObjectiveRow]:
        """The objectives this run missed (information-only figures never miss)."""
        return [row for row in self.objectives if row.failed]


def summarize(record: RunRecord) -> Summary:
    """Every figure of a run (docs/architecture.md, "The results folder")."""
    scenario = record.scenario
    flows = FlowArrays.from_flows(record.flows, record.site_ids)
    offered = flows.offered
    lengths = _interval_lengths(record)
    busy = _busy_hour(flows.start, offered, scenario.start, scenario.duration)
    upstream = {
        direction: _upstream(record, direction, lengths, scenario.upstream_bps)
        for direction in DIRECTIONS
    }
    sites = _sites(record, flows, offered, busy, lengths)
    satisfactions = [site["satisfaction"] for site in sites if site["satisfaction"] is not None]
    overall = {
        **_amounts(offered, flows.delivered),
        "busy_hour": _busy_hour_figures(flows, offered, busy, scenario.start),
        "jain_index": jain(satisfactions) if satisfactions else None,
        "flows": len(record.flows),
        "abandoned_flows": int(np.count_nonzero(flows.status == _ABANDONED)),
        "paced_at_rate_share": _at_rate_share(flows, np.ones(len(record.flows), dtype=bool)),
        "users": record.users,
    }
    return Summary.from_json(
        {
            "overall": overall,
            "sites": sites,
            "apps": _apps(record, flows, offered),
            "upstream": upstream,
            "cost": _cost(record, overall["delivered_gb"], upstream["down"]["mean_utilisation"]),
            "unserved": [
                {"id": site.id, "name": site.name, "users": site.users, "kind": site.kind}
                for site in scenario.unserved
            ],
            "objectives": [asdict(row) for row in evaluate(record, flows, offered)],
            "latency": site_latency(record, flows),
        }
    )


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
) -> dict[str, Any] | None:
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
    return {
        "start_s": busy.begin,
        "clock": local.strftime("%H:%M"),
        "local": local.isoformat(timespec="minutes"),
        **{key: rates[key] for key in ("offered_down_mbps", "offered_up_mbps")},
        **{key: rates[key] for key in ("delivered_down_mbps", "delivered_up_mbps")},
        "satisfaction": _ratio(got, asked),
    }


def _sites(
    record: RunRecord,
    flows: FlowArrays,
    offered: np.ndarray,
    busy: BusyHour | None,
    lengths: np.ndarray,
) -> list[dict[str, Any]]:
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
    abandoned = per_site(None, flows.status == _ABANDONED)
    paced = flows.paced
    paced_time, at_rate = per_site(flows.ran_s, paced), per_site(flows.time_at_rate, paced)
    overhead = record.scenario.spec.network.overhead
    down_goodput = record.wire_bytes["down"] * 8.0 / lengths[:, None] / overhead
    p95 = _nearest_rank_p95(down_goodput, axis=0)
    info = {site.id: site for site in record.scenario.sites}
    out = []
    for i, site_id in enumerate(record.site_ids):
        site = info[site_id]
        out.append(
            {
                "id": site.id,
                "name": site.name,
                "kind": site.kind,
                "users": site.users,
                "access_mbps": site.access_bps / MBPS,
                "flows": int(count[i]),
                **_amounts(asked[i], got[i]),
                "busy_hour_satisfaction": _ratio(busy_got[i], busy_asked[i]),
                "p95_mbps": float(p95[i]) / MBPS,
                "abandoned_flows": int(abandoned[i]),
                "paced_at_rate_share": _ratio(at_rate[i], paced_time[i]),
            }
        )
    return out


def bottleneck_bps(record: RunRecord) -> np.ndarray:
    """Per site (in record.site_ids order): the slower of its access link and the purchase."""
    scenario = record.scenario
    access = {site.id: site.access_bps for site in scenario.sites}
    return np.array([min(access[s], scenario.upstream_bps) for s in record.site_ids])


def slowdown(
    fct: np.ndarray, size: np.ndarray, bottleneck: np.ndarray, overhead: float
) -> np.ndarray:
    """Completion time over the time alone at the bottleneck; never below 1 (below is noise)."""
    ideal = size * overhead * 8.0 / bottleneck
    return np.maximum(np.divide(fct, ideal, out=np.ones_like(fct), where=ideal > 0), 1.0)


def _apps(record: RunRecord, flows: FlowArrays, offered: np.ndarray) -> dict[str, dict[str, Any]]:
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
        fct_p = _percentiles(fct[done], (50, 95, 99))
        slow_p = _percentiles(slowdowns[done], (50, 95))
        out[name] = {
            "kind": "paced" if paced[mine].any() else "elastic",
            "flows": int(np.count_nonzero(mine)),
            **_amounts(offered[mine], flows.delivered[mine]),
            "fct_p50_s": fct_p[0],
            "fct_p95_s": fct_p[1],
            "fct_p99_s": fct_p[2],
            "slowdown_p50": slow_p[0],
            "slowdown_p95": slow_p[1],
            "at_rate_share": _at_rate_share(flows, mine),
            "abandoned_share": _ratio(
                np.count_nonzero(mine & (flows.status == _ABANDONED)), np.count_nonzero(mine)
            ),
        }
    return out


def _upstream(
    record: RunRecord, direction: str, lengths: np.ndarray, purchased_bps: float
) -> dict[str, float]:
    """Utilisation of the purchase in one direction (L2 traffic of all sites)."""
    bits = record.wire_bytes[direction].sum(axis=1) * 8.0  # L2 bits per interval, all sites
    rate = bits / lengths
    mean_bps = float(bits.sum() / lengths.sum())
    window = max(BILLING_WINDOW, record.interval)
    bins = np.floor(record.times / window + 1e-9).astype(np.intp)
    averages = np.bincount(bins, weights=bits) / np.bincount(bins, weights=lengths)
    return {
        "mean_mbps": mean_bps / MBPS,
        "mean_utilisation": mean_bps / purchased_bps,
        "p95_utilisation": float(_nearest_rank_p95(rate)) / purchased_bps,
        "billing95_mbps": float(_nearest_rank_p95(averages)) / MBPS,
        "peak_mbps": float(rate.max()) / MBPS,
    }


def _cost(record: RunRecord, delivered_gb: float, down_utilisation: float) -> dict[str, Any]:
    """What the purchase costs for this run, per delivered GB, and for capacity left idle."""
    monthly = record.scenario.monthly_cost_idr
    period = monthly * record.scenario.duration / MONTH
    return {
        "monthly_idr": monthly,
        "period_idr": period,
        "per_delivered_gb_idr": _ratio(period, delivered_gb),
        "idle_idr": period * (1.0 - min(1.0, down_utilisation)),
    }


def _amounts(offered: np.ndarray | float, delivered: np.ndarray | float) -> dict[str, Any]:
    """offered_gb, delivered_gb, satisfaction and unmet_gb of a set of flows (or of totals)."""
    asked, got = float(np.sum(offered)), float(np.sum(delivered))
    return {
        "offered_gb": asked / GB,
        "delivered_gb": got / GB,
        "satisfaction": _ratio(got, asked),
        "unmet_gb": max(0.0, asked - got) / GB,
    }


def _at_rate_share(flows: FlowArrays, where: np.ndarray) -> float | None:
    """Time-weighted share of paced-flow time spent at the needed rate."""
    chosen = where & flows.paced
    return _ratio(float(flows.time_at_rate[chosen].sum()), float(flows.ran_s[chosen].sum()))


def _nearest_rank_p95(samples: np.ndarray, axis: int | None = None) -> np.ndarray:
    return np.percentile(samples, 95, axis=axis, method="inverted_cdf")


def _percentiles(values: np.ndarray, qs: tuple[int, ...]) -> list[float | None]:
    if values.size == 0:
        return [None] * len(qs)
    return [float(v) for v in np.percentile(values, qs)]


def _ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    if denominator <= 0 or not math.isfinite(denominator):
        return None
    return float(numerator) / float(denominator)


# -- per-flow and per-class series, which the run folder's flows.csv and classes.csv hold ------


def flow_completion(record: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """Per flow: completion time (s) and slowdown; NaN unless it is a finished elastic flow."""
    flows = FlowArrays.from_flows(record.flows, record.site_ids)
    overhead = record.scenario.spec.network.overhead
    fct = flows.ran_s
    ratios = slowdown(fct, flows.size, bottleneck_bps(record)[flows.site], overhead)
    finished = ~flows.paced & (flows.status == _DONE)
    return np.where(finished, fct, np.nan), np.where(finished, ratios, np.nan)


@dataclass(frozen=True)
class ClassSeries:
    """One direction of one plan's class tree over the intervals in which the plan was in force.

    Arrays are [interval, class], classes in tree order; a class counts the traffic of every
    site leaf under it. Rates are bytes over the nominal interval (record.interval).
    """

    direction: Direction
    tree: ClassTree
    steps: np.ndarray  # indices of the intervals, into record.times
    allocated_bps: np.ndarray  # L2 bits/s through the class
    delivered_bps: np.ndarray  # goodput bits/s (L2 over the frame overhead)
    drops: np.ndarray  # packets dropped
    offered_bps: np.ndarray  # goodput bits/s asked for by flows that started in the interval


def class_series(record: RunRecord) -> Iterator[ClassSeries]:
    """Every plan's classes, per direction, over the intervals the plan was in force."""
    overhead = record.scenario.spec.network.overhead
    offered = offered_bytes(record)
    for plan_no, plan in enumerate(record.plans):
        steps = np.flatnonzero(record.plan_index == plan_no)
        if steps.size == 0:
            continue
        for direction in DIRECTIONS:
            tree = plan.tree(direction)
            members = membership(tree, record.site_ids).T
            wire = record.wire_bytes[direction][steps] @ members * 8.0 / record.interval
            yield ClassSeries(
                direction=direction,
                tree=tree,
                steps=steps,
                allocated_bps=wire,
                delivered_bps=wire / overhead,
                drops=record.drops[direction][steps] @ members,
                offered_bps=offered[direction][steps] @ members * 8.0 / record.interval,
            )


def membership(tree: ClassTree, site_ids: list[str]) -> np.ndarray:
    """[class, site] 1 where the site's leaf lies under (or is) the class."""
    column = {site: i for i, site in enumerate(site_ids)}
    parents = {c.id: c.parent for c in tree.classes}
    matrix = np.zeros((len(tree.classes), len(site_ids)))
    row = {c.id: i for i, c in enumerate(tree.classes)}
    for c in tree.classes:
        if c.site is None or c.site not in column:
            continue
        node: str | None = c.id
        while node is not None:
            matrix[row[node], column[c.site]] = 1.0
            node = parents[node]
    return matrix


def offered_bytes(record: RunRecord) -> dict[Direction, np.ndarray]:
    """[interval, site] goodput bytes offered by flows that started in the interval."""
    column = {site: i for i, site in enumerate(record.site_ids)}
    steps = len(record.times)
    out = {d: np.zeros((steps, len(record.site_ids))) for d in DIRECTIONS}
    for f in record.flows:
        step = min(int(f.start // record.interval), steps - 1)
        out[f.direction][step, column[f.site]] += f.size
    return out


# -- latency: page loads, call quality (sim/model/paths.py, sim/analysis/emodel.py) ----------

PAGE_APP = "web"  # a web transfer is one page with its objects (sim/model/demand.py)
CALL_APP = "video_call"
VIDEO_APP = "streaming"
GOOD_CALL_MOS = 3.6  # G.107 Annex B: R 70 (MOS 3.6) is where some users become dissatisfied
CODEC_IE, CODEC_BPL = 0.0, 25.1  # G.711 with packet-loss concealment (G.113 Appendix I)


@dataclass(frozen=True)
class SiteLatency:
    """One site's path and what latency does to its service."""

    rtt_ms: float
    loss_pct: float
    pages: int  # web pages started (done or abandoned)
    page_load_p50_s: float | None  # abandoned pages count as their patience (at least that)
    page_load_p95_s: float | None
    calls: int
    call_mos: float | None  # mean over calls of G.107 MOS
    good_call_share: float | None  # calls at MOS >= 3.6
    video_at_rate_share: float | None  # streaming time at its rate


def call_mos(rtt_s: float, loss: float, shortfall: np.ndarray, extra_ms: float) -> np.ndarray:
    """G.107 MOS of calls on a path: mouth-to-ear delay = RTT/2 + voice frame + de-jitter
    buffer; loss = the path's plus each call's shortfall from its rate (lost as late)."""
    ta = rtt_s * 500.0 + extra_ms
    loss_pct = np.minimum(100.0, (loss + shortfall) * 100.0)
    distinct, back = np.unique(loss_pct, return_inverse=True)
    scores = np.array([mos(r_factor(ta, p, CODEC_IE, CODEC_BPL)) for p in distinct])
    return scores[back] if scores.size else scores


def site_latency(record: RunRecord, flows: FlowArrays) -> dict[str, dict[str, Any]]:
    """Per site: RTT and loss, web page-load p50/p95, call MOS and video at its rate."""
    network = record.scenario.spec.network
    paths = site_paths(record.scenario)
    app_id = {name: i for i, name in enumerate(flows.apps)}
    ended = flows.status != _STATUS_CODES["active"]
    out = {}
    for column, site in enumerate(record.site_ids):
        here = (flows.site == column) & ended
        pages = here & (flows.app == app_id.get(PAGE_APP, -1)) & (flows.status != _CUT)
        calls = here & (flows.app == app_id.get(CALL_APP, -1))
        shortfall = 1.0 - flows.delivered[calls] / np.maximum(flows.offered[calls], 1e-9)
        path = paths[site]
        scores = call_mos(
            path.rtt_s,
            path.loss,
            np.clip(shortfall, 0.0, 1.0),
            network.packet_ms + network.jitter_buffer_ms,
        )
        p50, p95 = _percentiles(flows.ran_s[pages], (50, 95))
        out[site] = asdict(
            SiteLatency(
                rtt_ms=path.rtt_s * 1000.0,
                loss_pct=path.loss * 100.0,
                pages=int(pages.sum()),
                page_load_p50_s=p50,
                page_load_p95_s=p95,
                calls=int(calls.sum()),
                call_mos=float(scores.mean()) if scores.size else None,
                good_call_share=float((scores >= GOOD_CALL_MOS).mean()) if scores.size else None,
                video_at_rate_share=_at_rate_share(
                    flows, here & (flows.app == app_id.get(VIDEO_APP, -1))
                ),
            )
        )
    return out
