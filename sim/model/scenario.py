"""Scenario files: what to simulate (topology, purchase, policy, demand, time window), validated.

`load_scenario` reads a scenario TOML, validates everything (unknown keys are errors) and
returns a resolved `Scenario` with the topology loaded and the chosen last-mile options
switched on. All units are converted here, once. Variants of a scenario (another purchase,
policy, growth or connection) come from its typed `with_*` methods, not from re-reading files.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.model.demand import DEFAULT_DEMAND, DemandSpec, merged
from sim.model.errors import ConfigError
from sim.model.loading import PathText, Strict, read_toml, validate
from sim.model.topology import SITE_KINDS, Site, Topology, load_topology
from sim.model.units import MAX_MBPS, format_duration, mbps, parse_duration

# The policy names a scenario may use, named once: the static policies (each built by
# sim.shaping.policies.BUILDERS under the same name) and "schedule", which switches between them.
STATIC_POLICIES: tuple[str, ...] = (
    "equal-static",
    "weighted-static",
    "htb-equal",
    "htb-weighted",
    "htb-priority",
    "max-min",
)
SCHEDULE = "schedule"
POLICY_NAMES: tuple[str, ...] = (*STATIC_POLICIES, SCHEDULE)
StaticPolicyName = Literal[STATIC_POLICIES]  # type: ignore[valid-type]
PolicyName = Literal[POLICY_NAMES]  # type: ignore[valid-type]


def _duration(value: Any) -> float:
    """A duration as seconds: "90s", "5m", "24h", "10d" or a bare number of seconds."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a duration: {value!r} (use e.g. '30s', '5m', '24h', '10d')")
    return parse_duration(value)


Duration = Annotated[float, BeforeValidator(_duration)]
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")
# Bounds on sizes: past them a run would take days or never end; each message says the bound.
MAX_DURATION_S = 366 * 86400.0  # a year: the 10-day trial takes about two minutes
MIN_SAMPLE_S = 1.0
MAX_SAMPLES = 100_000  # per class: classes.csv has this many rows per class and direction
MAX_SEED = 2**32 - 1
FIRST_START = dt.datetime(1900, 1, 1)
LAST_START = dt.datetime(2200, 1, 1)


def _check_clock(text: str) -> str:
    if not _CLOCK.fullmatch(text):
        raise ValueError(f"not a time of day: {text!r} (use HH:MM)")
    return text


def clock_seconds(text: str) -> float:
    """ "HH:MM" (already validated) to seconds after midnight."""
    hours, minutes = text.split(":")
    return int(hours) * 3600.0 + int(minutes) * 60.0


ClockTime = Annotated[str, AfterValidator(_check_clock)]


def _local_datetime(value: Any) -> dt.datetime:
    """A TOML local date-time, a bare date (midnight) or the same as an ISO 8601 string (as a
    sweep or JSON may give it), between 1900 and 2200; no number is a date."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a date-time: {value!r} (use e.g. 2022-02-01T08:00:00)") from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if not isinstance(value, dt.datetime):
        raise ValueError(
            f"expected a TOML local date-time such as 2022-02-01T08:00:00, got {value!r}"
        )
    if value.tzinfo is not None:
        raise ValueError("write the start without a UTC offset (it is local clock time)")
    if not FIRST_START <= value < LAST_START:
        raise ValueError(f"must lie in the years {FIRST_START.year}-{LAST_START.year - 1}")
    return value


LocalDateTime = Annotated[dt.datetime, BeforeValidator(_local_datetime)]


class ScenarioSection(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    description: str = Field(default="", max_length=1000)
    topology: PathText = Field(description="topology file, relative to the scenario file")
    seed: int = Field(default=1, ge=0, le=MAX_SEED)
    start: LocalDateTime = dt.datetime(2022, 2, 1)
    duration: Duration = 86400.0
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


class PriceTier(Strict):
    """Price per Mbps per month for purchases up to `up_to_mbps` (None: any size above)."""

    up_to_mbps: float | None = Field(default=None, gt=0)
    idr_per_mbps_month: float = Field(gt=0, le=1e12)


# Example e-catalogue-like tiers (assumption; design note: Rp45k-450k per Mbps per month for
# dedicated government internet in Indonesia 2020-2025, falling with size).
DEFAULT_PRICE_TIERS: list[dict[str, float | None]] = [
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


class ScheduleEntry(Strict):
    """Use `policy` on `days` between `start` and `end` (local clock, HH:MM)."""

    days: Literal["all", "weekday", "weekend"] = "all"
    start: ClockTime
    end: ClockTime
    policy: PolicyParams

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleEntry:
        if clock_seconds(self.start) >= clock_seconds(self.end):
            raise ValueError("start must be before end (split a period that crosses midnight)")
        return self


class SiteOverride(Strict):
    """Explicit class settings for one site's leaf, applied after the policy built the plan."""

    rate_mbps: float | None = Field(default=None, gt=0, le=MAX_MBPS)
    ceil_mbps: float | None = Field(default=None, gt=0, le=MAX_MBPS)
    prio: int | None = Field(default=None, ge=0, le=7)

    @model_validator(mode="after")
    def _ceil_not_below_rate(self) -> SiteOverride:
        if self.rate_mbps and self.ceil_mbps and self.ceil_mbps < self.rate_mbps:
            raise ValueError("ceil_mbps is below rate_mbps")
        return self


class PolicyParams(Strict):
    """A static policy and its parameters (see docs/scenario-reference.md for each)."""

    name: StaticPolicyName
    guaranteed_share: float = Field(default=0.9, gt=0, le=1)
    weights: dict[str, Annotated[float, Field(gt=0, le=1e6)]] = {}
    tier_share: dict[str, Annotated[float, Field(gt=0, le=1e6)]] = {}
    tier_prio: dict[str, int] = {}
    hotspot_ceil_mbps: float | None = Field(default=None, gt=0, le=MAX_MBPS)
    sites: dict[str, SiteOverride] = {}

    @model_validator(mode="after")
    def _params_valid(self) -> PolicyParams:
        for tier in [*self.tier_share, *self.tier_prio]:
            if tier not in TIERS:
                raise ValueError(f"unknown tier {tier!r} (tiers: {', '.join(TIERS)})")
        if any(not 0 <= p <= 7 for p in self.tier_prio.values()):
            raise ValueError("tier_prio values must be 0..7 (HTB priorities)")
        return self


TIERS = ("essential", "office", "subdistrict", "hotspot")


class PolicySpec(PolicyParams):
    """The `[policy]` table: a static policy, or `schedule` with entries and a fallback."""

    name: PolicyName  # type: ignore[assignment]
    schedule: list[ScheduleEntry] = []
    otherwise: PolicyParams | None = None

    @model_validator(mode="after")
    def _schedule_complete(self) -> PolicySpec:
        if self.name == SCHEDULE and (not self.schedule or self.otherwise is None):
            raise ValueError(
                "policy 'schedule' needs [[policy.schedule]] entries and [policy.otherwise]"
            )
        if self.name != SCHEDULE and (self.schedule or self.otherwise):
            raise ValueError("schedule/otherwise only apply to policy 'schedule'")
        return self


class Network(Strict):
    """How bytes on the wire relate to bytes delivered, and how the root is shaped."""

    mss_bytes: int = Field(default=1448, gt=0, le=65535, description="TCP payload per segment")
    frame_bytes: int = Field(default=1514, gt=0, le=65535, description="L2 bytes per full segment")
    root_headroom: float = Field(
        default=0.97, gt=0, le=1, description="shape the root this far below the purchase"
    )
    target: Literal["linux", "routeros"] = Field(
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


class OptimizeSpec(Strict):
    """How `netlab optimize` searches: policies, purchase grid, seeds, evaluation window."""

    policies: list[StaticPolicyName] = Field(
        default_factory=lambda: ["htb-weighted", "htb-priority"], min_length=1
    )
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


Provenance = Literal["measured", "fitted", "estimated", "assumed"]


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


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with its topology resolved (connections applied).

    Change one with the `with_*` methods: each returns a new Scenario, re-validated and
    resolved against the topology already read (no file is read again); bad values raise
    ConfigError naming the scenario file and the key, as they would in the file.
    """

    path: Path
    spec: ScenarioFile
    inventory: Topology  # the topology file as read, before [connect]
    topology: Topology  # with the [connect] options switched on
    lastmile_idr_month: float = 0.0

    @classmethod
    def resolve(cls, path: Path, spec: ScenarioFile, inventory: Topology) -> Scenario:
        """Switch on the chosen last-mile options and check the site references."""
        lastmile_cost = _lastmile_cost(inventory, spec.connect)
        topology = _connect(path, inventory, spec.connect)
        _check_site_references(path, spec, topology)
        _check_calibrated_sites(path, spec, topology)
        return cls(path, spec, inventory, topology, lastmile_cost)

    def edited(self, data: dict[str, Any]) -> Scenario:
        """This scenario with its file data replaced by `data` (shaped as `spec.model_dump()`)."""
        _check_demand_table(self.path, data)
        data = {**data, "demand": merged(DEFAULT_DEMAND, data.get("demand", {}))}
        spec = validate(self.path, data, ScenarioFile)
        inventory = self.inventory
        if spec.scenario.topology != self.spec.scenario.topology:
            inventory = _load_topology(self.path, spec)
        return Scenario.resolve(self.path, spec, inventory)

    def with_purchase(self, upstream_mbps: float) -> Scenario:
        """Buy `upstream_mbps` instead (the price tiers stay)."""
        return self._with_table("purchase", upstream_mbps=upstream_mbps)

    def with_policy(self, name: str, **params: Any) -> Scenario:
        """Shape with policy `name`: the file's parameters when it already uses `name`, else
        the policy's defaults; `params` (e.g. guaranteed_share=0.8) override either."""
        own = self.spec.policy
        kept = own.model_dump() if own.name == name else {}
        data = self.spec.model_dump()
        data["policy"] = {**kept, **params, "name": name}
        return self.edited(data)

    def with_growth(self, growth: float) -> Scenario:
        """Demand `growth` times the profiles' (replaces the file's factor, does not multiply)."""
        return self._with_table("demand", growth=growth)

    def with_connect(self, site: str, option: str) -> Scenario:
        """Reach the unreached `site` with its last-mile `option` (an id in the topology)."""
        data = self.spec.model_dump()
        data["connect"] = {**data["connect"], site: option}
        return self.edited(data)

    def with_run(self, **fields: Any) -> Scenario:
        """Change keys of the [scenario] table: seed, start, duration, description..."""
        return self._with_table("scenario", **fields)

    def with_window(self, span: tuple[float, float] | None = None) -> Scenario:
        """Cut to the analysis window `span` (start after midnight, length; seconds), by default
        the [optimize] window, on the first working day, sampled every 5 minutes (at most)."""
        spec = self.spec.optimize
        start_s, length = span or (clock_seconds(spec.window_start), float(spec.window))
        day = self.start.date()
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=start_s)
        return self.with_run(start=start, duration=length, sample_interval=min(300.0, length))

    def _with_table(self, table: str, **fields: Any) -> Scenario:
        data = self.spec.model_dump()
        data[table] = {**data[table], **fields}
        return self.edited(data)

    @property
    def name(self) -> str:
        return self.spec.scenario.name

    @property
    def seed(self) -> int:
        return self.spec.scenario.seed

    @property
    def duration(self) -> float:
        return float(self.spec.scenario.duration)

    @property
    def start(self) -> dt.datetime:
        return self.spec.scenario.start

    @property
    def upstream_bps(self) -> float:
        return mbps(self.spec.purchase.upstream_mbps)

    @property
    def sites(self) -> list[Site]:
        """Sites that are served (have an access link) in this scenario."""
        return self.topology.served

    @property
    def monthly_cost_idr(self) -> float:
        """Purchase plus switched-on last-mile options, per month."""
        return self.spec.purchase.monthly_cost_idr() + self.lastmile_idr_month

    @property
    def unserved(self) -> list[Site]:
        return [site for site in self.topology.sites if not site.reached]


def load_scenario(path: Path | str) -> Scenario:
    """Load, validate and resolve a scenario file (raises ConfigError)."""
    path = Path(path)
    data = read_toml(path)
    _check_kind_of_file(path, data)
    _check_demand_table(path, data)
    data["demand"] = merged(DEFAULT_DEMAND, data.get("demand", {}))
    spec = validate(path, data, ScenarioFile)
    return Scenario.resolve(path, spec, _load_topology(path, spec))


def _check_demand_table(path: Path, data: dict[str, Any]) -> None:
    """[demand] is merged into the defaults before validation, so its type is checked first."""
    if not isinstance(data.get("demand", {}), dict):
        raise ConfigError(path, "demand", "must be a table ([demand])")


def _check_kind_of_file(path: Path, data: dict[str, Any]) -> None:
    """A topology or sweep file given where a scenario belongs: say so, not "unknown key"."""
    if "scenario" in data:
        return
    if "sites" in data or "hub" in data:
        raise ConfigError(
            path, "", "a topology file, not a scenario: a scenario names it in scenario.topology"
        )
    if "sweep" in data:
        raise ConfigError(path, "", "a sweep file, not a scenario: run it with `netlab sweep`")


def _load_topology(path: Path, spec: ScenarioFile) -> Topology:
    """The scenario's topology; a file that cannot be read is the scenario's key's fault."""
    try:
        return load_topology(_topology_path(path, spec))
    except ConfigError as exc:
        if exc.key:  # a bad value inside the topology: its own file and key
            raise
        raise ConfigError(path, "scenario.topology", str(exc)) from None


def _topology_path(path: Path, spec: ScenarioFile) -> Path:
    return path.parent / spec.scenario.topology


def _lastmile_cost(topology: Topology, connect: dict[str, str]) -> float:
    """Monthly cost (Rp) of the last-mile options switched on (validated in _connect)."""
    total = 0.0
    for site in topology.sites:
        for option in site.lastmile:
            if connect.get(site.id) == option.id:
                total += option.monthly_cost_idr
    return total


def _connect(path: Path, topology: Topology, connect: dict[str, str]) -> Topology:
    """Switch on the chosen last-mile option of each listed unreached site."""
    sites = []
    for site in topology.sites:
        option_id = connect.get(site.id)
        if option_id is None:
            sites.append(site)
            continue
        if site.reached:
            raise ConfigError(path, f"connect.{site.id}", "site is already reached")
        options = {option.id: option for option in site.lastmile}
        if option_id not in options:
            raise ConfigError(
                path,
                f"connect.{site.id}",
                f"unknown option {option_id!r} (have: {', '.join(options)})",
            )
        option = options[option_id]
        sites.append(
            site.model_copy(
                update={
                    "reached": True,
                    "access_mbps": option.mbps,
                    "latency_ms": option.latency_ms,
                }
            )
        )
    unknown = sorted(set(connect) - {site.id for site in topology.sites})
    if unknown:
        raise ConfigError(path, f"connect.{unknown[0]}", "no such site in the topology")
    return topology.model_copy(update={"sites": sites})


def _check_calibrated_sites(path: Path, spec: ScenarioFile, topology: Topology) -> None:
    known = {site.id for site in topology.sites}
    for site_id, site in spec.calibration.sites.items():
        if site_id not in known:
            raise ConfigError(path, f"calibration.sites.{site_id}", "not a site of the topology")
        for app in site.mix:
            if app not in spec.demand.apps:
                raise ConfigError(path, f"calibration.sites.{site_id}.mix", f"unknown app {app!r}")


def _check_site_references(path: Path, spec: ScenarioFile, topology: Topology) -> None:
    known = {site.id for site in topology.sites}
    policies = [("policy", spec.policy)]
    if spec.policy.otherwise is not None:
        policies.append(("policy.otherwise", spec.policy.otherwise))
    policies += [
        (f"policy.schedule[{i}].policy", e.policy) for i, e in enumerate(spec.policy.schedule)
    ]
    for key, params in policies:
        for table, site_ids in (("weights", params.weights), ("sites", params.sites)):
            for site_id in site_ids:
                if site_id not in known:
                    raise ConfigError(
                        path, f"{key}.{table}.{site_id}", "no such site in the topology"
                    )
    for kind in SITE_KINDS:
        if any(site.kind == kind for site in topology.served) and kind not in spec.demand.kinds:
            raise ConfigError(path, f"demand.kinds.{kind}", "no profile for a kind of site served")


ScheduleEntry.model_rebuild()
