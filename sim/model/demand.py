"""Demand specification: applications, per-kind activity profiles and mixes, with sourced defaults.

Every default below is an assumption for planning; its source or reasoning stands beside it.
A scenario overrides any part with `[demand.apps.NAME]` or `[demand.kinds.KIND]` tables, which
are merged key by key into these defaults before validation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from sim.model.flow import Direction
from sim.model.loading import Strict
from sim.model.topology import SiteKind
from sim.model.units import MAX_MBPS

# Bounds on sizes: a sigma of 10 already spreads sizes over 10^13; 1 kB to 1 TB per transfer.
MAX_SIGMA = 10.0
MIN_SIZE_MB = 0.001
MAX_SIZE_MB = 1e6


class AppSpec(Strict):
    """One application: elastic (TCP bulk, sized) or paced (needs a rate for a duration)."""

    kind: Literal["elastic", "paced"]
    directions: list[Direction] = Field(min_length=1, max_length=100)
    # elastic
    size_dist: Literal["lognormal", "pareto"] = "lognormal"
    size_median_mb: float = Field(
        default=1.0, ge=MIN_SIZE_MB, le=MAX_SIZE_MB, description="lognormal median"
    )
    size_sigma: float = Field(default=1.0, ge=0, le=MAX_SIGMA, description="lognormal shape")
    pareto_alpha: float = Field(default=1.3, gt=1, le=100)
    size_min_mb: float = Field(default=0.01, ge=MIN_SIZE_MB, le=MAX_SIZE_MB)
    size_max_mb: float = Field(default=4000.0, ge=MIN_SIZE_MB, le=MAX_SIZE_MB)
    transfers_mean: float = Field(
        default=1.0, ge=1, le=10_000, description="transfers a session, geometric"
    )
    think_mean_s: float = Field(default=0.0, ge=0, le=86400, description="pause between transfers")
    patience_s: float = Field(
        default=600.0, gt=0, le=86400, description="a user abandons after this"
    )
    # paced
    rate_mbps: float = Field(default=1.0, gt=0, le=MAX_MBPS, description="needed goodput rate")
    duration_median_min: float = Field(default=10.0, gt=0, le=1440)
    duration_sigma: float = Field(default=0.5, ge=0, le=MAX_SIGMA)
    duration_max_min: float = Field(default=120.0, gt=0, le=1440)

    @model_validator(mode="after")
    def _sizes_ordered(self) -> AppSpec:
        if self.size_min_mb > self.size_max_mb:
            raise ValueError("size_min_mb is above size_max_mb")
        return self


class KindProfile(Strict):
    """How the users of one kind of site behave over the day and which applications they use."""

    sessions_per_user_hour: float = Field(
        gt=0, le=60, description="session rate at profile weight 1"
    )
    weekday: list[Annotated[float, Field(ge=0, le=1e6)]] = Field(min_length=24, max_length=24)
    weekend: list[Annotated[float, Field(ge=0, le=1e6)]] = Field(min_length=24, max_length=24)
    mix: dict[str, Annotated[float, Field(ge=0, le=1e6)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights_valid(self) -> KindProfile:
        if any(w < 0 for w in self.weekday + self.weekend):
            raise ValueError("hourly weights must be non-negative")
        if any(w < 0 for w in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise ValueError("mix weights must be non-negative with a positive sum")
        return self


class DemandSpec(Strict):
    """The whole demand model of a scenario."""

    growth: float = Field(default=1.0, gt=0, le=100, description="multiplies every session rate")
    growth_per_year: float = Field(
        default=1.0, gt=0, le=100, description="demand's growth over a year, compounded daily"
    )
    apps: dict[str, AppSpec]
    kinds: dict[SiteKind, KindProfile]

    @model_validator(mode="after")
    def _mix_names_known(self) -> DemandSpec:
        for kind, profile in self.kinds.items():
            for app in profile.mix:
                if app not in self.apps:
                    raise ValueError(f"kinds.{kind}.mix names unknown application {app!r}")
        return self


# Government offices in Indonesia work about 07:30-16:00 on weekdays; a lunch and prayer dip
# at 12:00 (design note: offices peak in working hours with a lunch dip).
_OFFICE_WEEKDAY = [0.02] * 7 + [0.3, 0.9, 1.0, 1.0, 0.9, 0.4, 0.8, 0.9, 0.7, 0.3, 0.1] + [0.03] * 6
_OFFICE_WEEKEND = [0.02] * 8 + [0.05] * 8 + [0.02] * 8
# Public hotspots peak in evenings and at weekends (design note).
_HOTSPOT_WEEKDAY = [0.05] * 6 + [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.4, 0.45, 0.5]
_HOTSPOT_WEEKDAY += [0.7, 0.85, 1.0, 1.0, 0.95, 0.8, 0.4, 0.15]
_HOTSPOT_WEEKEND = [0.05] * 6 + [0.15, 0.3, 0.5, 0.7, 0.8, 0.8, 0.8, 0.8, 0.85, 0.9]
_HOTSPOT_WEEKEND += [1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.5, 0.2]
# Sub-district offices: office hours, service counters busiest in the morning (assumption).
_SUBDISTRICT_WEEKDAY = [0.01] * 7 + [0.4, 1.0, 1.0, 0.9, 0.7, 0.3, 0.6, 0.5, 0.3, 0.1] + [0.01] * 7
_SUBDISTRICT_WEEKEND = [0.01] * 24

DEFAULT_DEMAND: dict[str, Any] = {
    "growth": 1.0,
    "apps": {
        # Web pages and office SaaS: HTTP Archive median page weight ~2 MB (2021); a "transfer"
        # is one page with its objects, think time between pages (assumption).
        "web": {
            "kind": "elastic",
            "directions": ["down"],
            "size_dist": "lognormal",
            "size_median_mb": 0.8,
            "size_sigma": 1.2,
            "transfers_mean": 6,
            "think_mean_s": 15,
            # most users give up on a page after 10-20 s (web performance studies; assumption)
            "patience_s": 20,
        },
        # E-government systems (SIPD, SIMDA, e-office mail): small forms and documents, both
        # ways (assumption).
        "egov": {
            "kind": "elastic",
            "directions": ["down", "down", "up"],
            "size_dist": "lognormal",
            "size_median_mb": 0.3,
            "size_sigma": 1.0,
            "transfers_mean": 4,
            "think_mean_s": 30,
            "patience_s": 30,
        },
        # Video calls: Zoom needs 0.6-1.5 Mbps per direction for group 720p (Zoom's published
        # system requirements); meetings median 30 min (assumption).
        "video_call": {
            "kind": "paced",
            "directions": ["down", "up"],
            "rate_mbps": 1.5,
            "duration_median_min": 30,
            "duration_sigma": 0.6,
            "duration_max_min": 120,
        },
        # Streaming video at 720p: 2.5 Mbps (design note's per-resolution figures).
        "streaming": {
            "kind": "paced",
            "directions": ["down"],
            "rate_mbps": 2.5,
            "duration_median_min": 10,
            "duration_sigma": 0.8,
            "duration_max_min": 90,
        },
        # Software updates and large downloads: heavy tailed (Pareto, alpha 1.3), 20 MB to
        # 2 GB (assumption in line with file-size studies).
        "download": {
            "kind": "elastic",
            "directions": ["down"],
            "size_dist": "pareto",
            "pareto_alpha": 1.3,
            "size_min_mb": 20,
            "size_max_mb": 2000,
            "patience_s": 3600,
        },
        # Uploads: reports, scans, photos and backups to cloud drives (assumption).
        "upload": {
            "kind": "elastic",
            "directions": ["up"],
            "size_dist": "lognormal",
            "size_median_mb": 10,
            "size_sigma": 1.0,
            "patience_s": 900,
        },
    },
    "kinds": {
        # ~2 sessions per staff member per busy hour: about 0.25 Mbps per user in the busy hour
        # with this mix, within the 0.1-0.5 Mbps per user that enterprise planning uses.
        "office": {
            "sessions_per_user_hour": 2.0,
            "weekday": _OFFICE_WEEKDAY,
            "weekend": _OFFICE_WEEKEND,
            "mix": {
                "web": 0.55,
                "egov": 0.2,
                "video_call": 0.08,
                "streaming": 0.07,
                "download": 0.05,
                "upload": 0.05,
            },
        },
        # Hotspot visitors: social media, streaming; design note: 3-5 users on 5 Mbps nearby.
        "hotspot": {
            "sessions_per_user_hour": 1.5,
            "weekday": _HOTSPOT_WEEKDAY,
            "weekend": _HOTSPOT_WEEKEND,
            "mix": {
                "web": 0.45,
                "streaming": 0.3,
                "video_call": 0.05,
                "download": 0.1,
                "upload": 0.1,
            },
        },
        "subdistrict": {
            "sessions_per_user_hour": 1.5,
            "weekday": _SUBDISTRICT_WEEKDAY,
            "weekend": _SUBDISTRICT_WEEKEND,
            "mix": {
                "web": 0.5,
                "egov": 0.3,
                "video_call": 0.1,
                "streaming": 0.02,
                "download": 0.05,
                "upload": 0.03,
            },
        },
    },
}


def merged(defaults: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge override into a copy of defaults (tables merge, other values replace)."""
    out = dict(defaults)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out
