"""The pydantic schema of a scenario file: one model per table, unknown keys are errors.

`ScenarioFile` is the whole file as validated; sim.model.scenario resolves it against its
topology into a `Scenario`. The `[policy]` table is in sim.model.policy_spec, the value types
(durations, clock times, date-times) in sim.model.fields.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal, TypedDict

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from sim.model.controller_spec import ControllerSpec
from sim.model.demand import DemandSpec
from sim.model.fields import ClockTime, Duration, LocalDateTime
from sim.model.loading import PathText, Strict
from sim.model.policy_spec import DEPLOYED, BuildableName, PolicySpec
from sim.model.units import MAX_MBPS, format_duration

# Bounds on sizes: past them a run would take days or never end; each message says the bound.
MAX_DURATION_S = 366 * 86400.0  # a year: the 10-day trial takes about two minutes
MIN_SAMPLE_S = 1.0
MAX_SAMPLES = 100_000  # per class: the classes file has this many rows per class and direction
MAX_SEED = 2**32 - 1
DAY_S = 86400.0


class ScenarioSection(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    description: str = Field(default="", max_length=1000)
    topology: PathText = Field(description="topology file, relative to the scenario file")
    seed: int = Field(default=1, ge=0, le=MAX_SEED)
    start: LocalDateTime = dt.datetime(2022, 2, 1)
    duration: Duration = 86400.0
    by_day: bool = Field(
        default=False,
        description="run the duration as independent days, in parallel, results streamed",
    )
    sample_interval: Duration = 60.0

    @field_validator("duration")
    @classmethod
    def _duration_bounded(cls, seconds: float) -> float:
        if seconds > MAX_DURATION_S:
            raise ValueError(f"{format_duration(seconds)} is longer than a year (at most 366d)")
        return seconds

    @field_validator("sample_interval")
    @classmethod
    def _sampling_bounded(cls, step: float, info: ValidationInfo) -> float:
        length = info.data.get("duration")
        if length is None:  # the duration is bad itself: that error is the one to report
            return step
        if info.data.get("by_day"):  # each day is a run of its own
            length = min(length, DAY_S)
        if step < MIN_SAMPLE_S or step > length:
            raise ValueError(
                f"{format_duration(step)} must lie between 1s and the duration "
                f"({format_duration(length)})"
            )
        if length / step > MAX_SAMPLES:
            raise ValueError(
                f"{format_duration(step)} over {format_duration(length)} is "
                f"{length / step:,.0f} samples, at most {MAX_SAMPLES:,} (use at least "
                f"{format_duration(math.ceil(length / MAX_SAMPLES))})"
            )
        return step

    @model_validator(mode="after")
    def _whole_days(self) -> ScenarioSection:
        if self.by_day and (self.start.time() != dt.time() or self.duration % DAY_S):
            raise ValueError("by_day: start must be at 00:00 and duration whole days (e.g. 365d)")
        return self


class PriceTier(Strict):
    """Price per Mbps per month for purchases up to `up_to_mbps` (None: any size above)."""

    up_to_mbps: float | None = Field(default=None, gt=0)
    idr_per_mbps_month: float = Field(gt=0, le=1e12)


class PriceTierData(TypedDict):
    """A price tier as its table in a scenario file."""

    up_to_mbps: float | None
    idr_per_mbps_month: float


# Example e-catalogue-like tiers (assumption; design note: Rp45k-450k per Mbps per month for
# dedicated government internet in Indonesia 2020-2025, falling with size).
DEFAULT_PRICE_TIERS: list[PriceTierData] = [
    {"up_to_mbps": 100, "idr_per_mbps_month": 450_000},
    {"up_to_mbps": 250, "idr_per_mbps_month": 320_000},
    {"up_to_mbps": 500, "idr_per_mbps_month": 240_000},
    {"up_to_mbps": 1000, "idr_per_mbps_month": 180_000},
    {"up_to_mbps": None, "idr_per_mbps_month": 140_000},
]


class Purchase(Strict):
    upstream_mbps: float = Field(
        gt=0, le=MAX_MBPS, description="purchased capacity, each direction"
    )
    price_tiers: list[PriceTier] = Field(
        default_factory=lambda: [PriceTier(**t) for t in DEFAULT_PRICE_TIERS],
        min_length=1,
        max_length=100,
    )

    def monthly_cost_idr(self) -> float:
        """Price of this purchase per month from the tier it falls in."""
        for tier in sorted(self.price_tiers, key=lambda t: t.up_to_mbps or float("inf")):
            if tier.up_to_mbps is None or self.upstream_mbps <= tier.up_to_mbps:
                return self.upstream_mbps * tier.idr_per_mbps_month
        raise ValueError(f"no price tier covers {self.upstream_mbps} Mbps")

    @model_validator(mode="after")
    def _covers_purchase(self) -> Purchase:
        if all(
            t.up_to_mbps is not None and t.up_to_mbps < self.upstream_mbps for t in self.price_tiers
        ):
            raise ValueError(f"no price tier covers {self.upstream_mbps} Mbps")
        return self


Target = Literal["linux", "routeros"]  # where a plan is deployed: tc on Linux, or RouterOS
TARGETS: tuple[Target, ...] = ("linux", "routeros")
TARGET_NAMES: dict[str, str] = {"linux": "Linux tc", "routeros": "RouterOS (MikroTik)"}


class Network(Strict):
    """How bytes on the wire relate to bytes delivered, and how the root is shaped."""

    mss_bytes: int = Field(default=1448, gt=0, le=65535, description="TCP payload per segment")
    frame_bytes: int = Field(default=1514, gt=0, le=65535, description="L2 bytes per full segment")
    root_headroom: float = Field(
        default=0.97, gt=0, le=1, description="shape the root this far below the purchase"
    )
    target: Target = Field(
        default="linux", description="where the plan is deployed (RouterOS has no HTB quantum)"
    )
    # Latency (sim/model/tcp.py, sim/analysis/emodel.py): stated assumptions, overridable.
    upstream_rtt_ms: float = Field(
        default=30.0, gt=0, le=10_000, description="round trip from the hub to the content"
    )
    default_receive_window_kb: float = Field(
        default=6144, gt=0, le=1e6, description="receive window per connection (Linux: 6 MiB)"
    )
    receive_window_kb: dict[str, Annotated[float, Field(gt=0, le=1e6)]] = Field(
        default={}, description="receive window per application, where it differs"
    )
    tcp_connections: dict[str, Annotated[int, Field(ge=1, le=100)]] = Field(
        default={"web": 6}, description="parallel connections per transfer (else 1)"
    )
    initial_window: float = Field(default=10, gt=0, le=1000, description="segments (RFC 6928)")
    handshake_rtts: float = Field(
        default=2, ge=0, le=10, description="round trips before data (TCP + TLS 1.3)"
    )
    segments_per_ack: float = Field(
        default=2, ge=1, le=10, description="delayed ACKs (RFC 1122): Cardwell's b"
    )
    jitter_buffer_ms: float = Field(default=40, ge=0, le=1000, description="calls' de-jitter")
    packet_ms: float = Field(default=20, gt=0, le=1000, description="calls' voice frame")

    @property
    def overhead(self) -> float:
        """Wire bytes per goodput byte (HTB counts L2 bytes)."""
        return self.frame_bytes / self.mss_bytes

    @model_validator(mode="after")
    def _frame_holds_segment(self) -> Network:
        if self.frame_bytes <= self.mss_bytes:
            raise ValueError("frame_bytes must exceed mss_bytes")
        return self


class Objectives(Strict):
    """Service objectives, evaluated in every run (summary.json's `objectives` table) and met
    by the optimiser's answer. A target of null keeps a figure as information only.

    Satisfaction figures count the flows that start in each site kind's own busy windows
    (`busy_fraction`); completion times are of finished transfers in those windows."""

    busy_fraction: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="a kind's busy windows: hours whose profile weight is at least this share "
        "of the kind's highest weight (weekday and weekend profiles)",
    )
    office_busy_hour_satisfaction: float | None = Field(
        default=0.95,
        ge=0,
        le=1,
        description="95 % of offices get at least this delivered/offered in their busy windows",
    )
    essential_satisfaction: float | None = Field(
        default=0.9, ge=0, le=1, description="every essential site, in its busy windows"
    )
    worst_office_satisfaction: float | None = Field(default=0.85, ge=0, le=1)
    worst_hotspot_satisfaction: float | None = Field(default=0.8, ge=0, le=1)
    worst_subdistrict_satisfaction: float | None = Field(default=0.85, ge=0, le=1)
    web_fct_p95_s: float | None = Field(
        default=None, gt=0, description="web pages: 95th percentile completion time, at most"
    )
    download_fct_p95_s: float | None = Field(
        default=None, gt=0, description="downloads: 95th percentile completion time, at most"
    )
    paced_at_rate_share: float | None = Field(
        default=0.99, ge=0, le=1, description="calls and video at their needed rate, time share"
    )
    call_at_rate_share: float | None = Field(default=0.99, ge=0, le=1)
    video_at_rate_share: float | None = Field(default=0.98, ge=0, le=1)
    jain_index: float | None = Field(
        default=None, ge=0, le=1, description="over sites' satisfaction (information by default)"
    )

    def targets(self) -> dict[str, float | None]:
        """Every objective figure's target (None: information only), in table order."""
        return self.model_dump(exclude={"busy_fraction"})


class Acceptance(Strict):
    """Thresholds of a multi-day run's acceptance trial (acceptance.json), per day and site."""

    busy_satisfaction: float = Field(
        default=0.9, ge=0, le=1, description="delivered/offered in the site's busy windows"
    )
    guarantee: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="busy-window goodput over the lesser of the guarantee and what was offered",
    )
    evenness: float = Field(
        default=0.95, ge=0, le=1, description="Jain's index across sites (a day) and days (a site)"
    )


MAX_GRID = 100_000
MAX_GROWTH = 100.0


def _default_policies() -> list[BuildableName]:
    return ["htb-weighted", "htb-priority"]


class OptimizeSpec(Strict):
    """How `netlab optimize` searches: policies, purchase grid, seeds, evaluation window."""

    policies: list[BuildableName] = Field(default_factory=_default_policies, min_length=1)
    seeds: int = Field(default=2, ge=1, le=50, description="seeds per probe of the search")
    confirm_seeds: int = Field(
        default=3, ge=1, le=50, description="fresh seeds the answer must also satisfy"
    )
    min_mbps: float = Field(default=50, gt=0, le=MAX_MBPS)
    max_mbps: float = Field(default=1500, gt=0, le=MAX_MBPS)
    step_mbps: float = Field(default=25, gt=0, le=MAX_MBPS)
    window_start: ClockTime = "08:00"
    window: Duration = 7200.0
    growth: list[float] = Field(default_factory=lambda: [1.2, 1.5], max_length=10)
    growth_seeds: int = Field(
        default=2, ge=1, le=50, description="seeds for the growth searches (indicative)"
    )
    objectives: Objectives = Objectives()
    sensitivity: bool = Field(
        default=False,
        description="re-search the answer with users, video-call and streaming shares varied",
    )
    budget_idr_year: float | None = Field(
        default=None, gt=0, description="the yearly budget ceiling the answer is compared with"
    )

    @field_validator("policies")
    @classmethod
    def _searchable(cls, policies: list[str]) -> list[str]:
        if DEPLOYED in policies:
            raise ValueError(
                "'deployed' is the plan in force, fixed at its file's rates: there is no "
                "purchase to search for it (compare it with `netlab compare`)"
            )
        return policies

    @model_validator(mode="after")
    def _grid_valid(self) -> OptimizeSpec:
        if self.min_mbps >= self.max_mbps:
            raise ValueError("min_mbps must be below max_mbps")
        if (self.max_mbps - self.min_mbps) / self.step_mbps > MAX_GRID:
            raise ValueError(
                f"the purchase grid has more than {MAX_GRID:,} points: raise step_mbps"
            )
        if any(not 0 < g <= MAX_GROWTH for g in self.growth):
            raise ValueError(f"growth factors must lie in (0, {MAX_GROWTH:g}]")
        if not 300 <= self.window <= 86400:
            raise ValueError("window: 5m to 24h (a window in one working day, sampled every 5m)")
        return self


class CalendarSpec(Strict):
    """`[calendar]`: live the days by Indonesia's working calendar (sim/demand/calendar_id.toml)."""

    use: bool = Field(
        default=False,
        description="holidays and collective leave as weekends, Friday prayer, Ramadan hours",
    )
    extra_holidays: list[dt.date] = Field(default=[], description="regional holidays")


# "fitted-total": fitted to an aggregate (the upstream), the split among the sites assumed
Provenance = Literal["measured", "fitted", "fitted-total", "estimated", "assumed"]


class SiteCalibration(Strict):
    """One site's demand as `netlab calibrate` fitted it to the site's counters.

    `scale` multiplies the kind's session rate (active users times sessions per user); the
    hourly weights, when given, replace the kind's for this site; `mix` multiplies the kind's
    mix weight of the applications it names. `measured` holds the figures
    the fit reproduces, `provenance` where each figure came from.
    """

    scale: float = Field(default=1.0, gt=0)
    weekday: list[float] | None = Field(default=None, min_length=24, max_length=24)
    weekend: list[float] | None = Field(default=None, min_length=24, max_length=24)
    censored: bool = Field(default=False, description="its counters sat at a shaper's ceiling")
    mix: dict[str, float] = Field(default={}, description="factors on the kind's mix weights")
    measured: dict[str, float] = {}
    provenance: dict[str, Provenance] = {}

    @model_validator(mode="after")
    def _weights_non_negative(self) -> SiteCalibration:
        if any(w < 0 for w in (self.weekday or []) + (self.weekend or [])):
            raise ValueError("hourly weights must be non-negative")
        if any(f <= 0 for f in self.mix.values()):
            raise ValueError("mix factors must be positive")
        return self


class CalibrationSpec(Strict):
    """`[calibration]`: what `netlab calibrate` fitted, per site, and from which data."""

    source: str = Field(default="", description="the measured data the fit used")
    days: int = Field(default=0, ge=0, description="days of measurements")
    friday_prayer_factor: float | None = Field(
        default=None, gt=0, le=1.5, description="fitted office activity during Friday prayer"
    )
    sites: dict[str, SiteCalibration] = {}
    provenance: dict[str, Provenance] = {}
    busy_hour_mbps: float | None = Field(
        default=None, gt=0, description="fitted busy-hour offered download of every site, Mbit/s"
    )
    interval_mbps: list[float] | None = Field(
        default=None, min_length=2, max_length=2, description="its 90 % interval, Mbit/s"
    )
    identifiability: list[str] = Field(default=[], description="what the data cannot tell")

    @model_validator(mode="after")
    def _interval_holds_the_fit(self) -> CalibrationSpec:
        if self.interval_mbps is not None:
            low, high = self.interval_mbps
            if self.busy_hour_mbps is None or not 0 < low <= high:
                raise ValueError("interval_mbps needs busy_hour_mbps and 0 < low <= high")
        return self


class ScenarioFile(Strict):
    scenario: ScenarioSection
    purchase: Purchase
    policy: PolicySpec
    demand: DemandSpec
    network: Network = Network()
    connect: dict[str, str] = {}
    optimize: OptimizeSpec = OptimizeSpec()
    calendar: CalendarSpec = CalendarSpec()
    calibration: CalibrationSpec = CalibrationSpec()
    acceptance: Acceptance = Acceptance()
    controller: ControllerSpec | None = None

    @model_serializer(mode="wrap")
    def _without_unset_controller(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`controller` only where one is named: other scenarios' dumps (and the hashes of
        sweep points and run folders taken over them) stay as they were."""
        data: dict[str, Any] = handler(self)
        if data.get("controller") is None:
            data.pop("controller", None)
        return data
