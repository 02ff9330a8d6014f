"""What a run folder's summary.json holds, typed: `Summary` and the figure groups inside it.

`sim.analysis.metrics.summarize` computes it from a RunRecord; reports, comparisons, sweeps
and the optimiser read it. `Summary.to_json` gives summary.json's data (keys in the file's
order) and `Summary.from_json` reads it back exactly. Units are in the field names
(sim/analysis/metrics.py's docstring); a figure with nothing to measure is None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sim.analysis.labels import LABEL_KEYS, objective_fields
from sim.analysis.objectives import ObjectiveRow


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
        """Plain JSON data, keys in summary.json's order; each objective also carries its
        plain `label` and `unit` (sim/analysis/labels.py), which from_json leaves aside."""
        data = asdict(self)
        rows = data["objectives"]
        data["objectives"] = [{**row, **objective_fields(row["name"])} for row in rows]
        return data

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
            objectives=[
                ObjectiveRow(**{k: v for k, v in row.items() if k not in LABEL_KEYS})
                for row in data.get("objectives", [])
            ],
            latency={k: SiteLatency(**v) for k, v in data.get("latency", {}).items()},
        )

    def failed_objectives(self) -> list[ObjectiveRow]:
        """The objectives this run missed (information-only figures never miss)."""
        return [row for row in self.objectives if row.failed]


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
