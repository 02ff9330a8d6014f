"""What `netlab calibrate` finds, typed: each site's `SiteFit` (its fitted demand and how well
it reproduces the measurements), the `UpstreamFit` of the sites only the upstream measures, and
the `Calibration` around them (sim/analysis/calibrate.py
fits them; sim/report/calibration.py draws them). Each has `to_json` and `from_json`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sim.model.topology import Site


@dataclass(frozen=True)
class Figures:
    """A site's load figures over working days: busiest hour (mean), 95th percentile of the
    5-minute rates, mean daily volume; offered goodput, Mbit/s and GB."""

    busy_hour_mbps: float
    p95_mbps: float
    daily_gb: float


@dataclass
class SiteFit:
    """One site's fitted demand and how well it reproduces the measurements."""

    site: Site
    scale: float
    weekday: list[float]
    weekend: list[float] | None
    hours: list[str]  # per weekday hour: "fitted" or "estimated"
    censored_samples: int
    samples: int
    measured: Figures
    fitted: Figures
    measured_hourly: np.ndarray  # mean working-day Mbit/s per hour (censored hours: a floor)
    fitted_hourly: np.ndarray
    residual_mbps: float  # RMS of model minus measured over every uncensored day and hour

    @property
    def censored(self) -> bool:
        return self.censored_samples > 0

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data; the site by its id, the hourly rates as lists."""
        return {
            "site": self.site.id,
            "scale": self.scale,
            "weekday": self.weekday,
            "weekend": self.weekend,
            "hours": self.hours,
            "censored_samples": int(self.censored_samples),
            "samples": int(self.samples),
            "measured": asdict(self.measured),
            "fitted": asdict(self.fitted),
            "measured_hourly": self.measured_hourly.tolist(),
            "fitted_hourly": self.fitted_hourly.tolist(),
            "residual_mbps": self.residual_mbps,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], sites: dict[str, Site]) -> SiteFit:
        """Read back to_json's data, finding the site among `sites` (by id)."""
        return cls(
            **{
                **data,
                "site": sites[data["site"]],
                "measured": Figures(**data["measured"]),
                "fitted": Figures(**data["fitted"]),
                "measured_hourly": np.array(data["measured_hourly"], dtype=float),
                "fitted_hourly": np.array(data["fitted_hourly"], dtype=float),
            }
        )


@dataclass
class UpstreamFit:
    """The sites no counter measures, fitted to the upstream's counters less the measured
    sites': how, with what, and the regency's busy hour with its interval."""

    per_kind: bool  # one scale per site kind (their shapes of the day told them apart) or one
    scales: dict[str, float]  # site kind -> scale on its assumed session rate
    sites: list[str]  # the sites fitted from the aggregate
    ceiling_mbps: float  # the upstream's ceiling (L2): the purchase, or the hub's link
    measured_hourly: np.ndarray  # working-day mean Mbit/s per hour (goodput; censored: a floor)
    fitted_hourly: np.ndarray  # the model's total over every site, same days
    censored_hours: list[int]  # working-day hours with samples at or near the ceiling
    censored_busy_share: float  # share of the busy hour's samples at or near the ceiling
    busy_hour: int
    busy_hour_mbps: float  # the model's busy-hour total: offered download, goodput
    interval_mbps: tuple[float, float]  # its 90 % interval
    interval_method: str
    identifiability: list[str]  # what the data can and cannot tell, in plain words
    background_mbps: float = 0.0  # constant on the upstream, no site's: the hub's own traffic
    peak_days: int = 0  # days with a known 5-minute peak
    peak_censored_days: list[str] = field(default_factory=list)  # ISO dates: peak at the ceiling
    peak_mbps: float | None = None  # those days' 5-minute peak demand, on the wire
    peak_interval_mbps: list[float] | None = None
    peak_method: str = ""

    @property
    def censored(self) -> bool:
        return bool(self.censored_hours) or bool(self.peak_censored_days)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data; hourly rates as lists."""
        return {
            **asdict(self),
            "measured_hourly": self.measured_hourly.tolist(),
            "fitted_hourly": self.fitted_hourly.tolist(),
            "interval_mbps": list(self.interval_mbps),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UpstreamFit:
        """Read back to_json's data."""
        return cls(
            **{
                **data,
                "measured_hourly": np.array(data["measured_hourly"], dtype=float),
                "fitted_hourly": np.array(data["fitted_hourly"], dtype=float),
                "interval_mbps": tuple(data["interval_mbps"]),
            }
        )


@dataclass
class Calibration:
    """Every site's fit, the days measured and the upstream's unexplained traffic."""

    sites: list[SiteFit]
    days: list[dt.date]
    workdays: list[dt.date]
    upstream_hourly: np.ndarray | None = None  # measured, mean working-day Mbit/s per hour
    sites_hourly: np.ndarray | None = None  # the sites' measured sum, same
    notes: list[str] = field(default_factory=list)
    upstream: UpstreamFit | None = None  # the unmeasured sites fitted to the upstream
    zone: str = "WIB"  # the local clock of the hourly profile

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data: sites by id, dates in ISO form, hourly rates as lists."""
        return {
            "sites": [fit.to_json() for fit in self.sites],
            "days": [day.isoformat() for day in self.days],
            "workdays": [day.isoformat() for day in self.workdays],
            "upstream_hourly": _listed(self.upstream_hourly),
            "sites_hourly": _listed(self.sites_hourly),
            "notes": self.notes,
            "upstream": None if self.upstream is None else self.upstream.to_json(),
            "zone": self.zone,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], sites: Iterable[Site]) -> Calibration:
        """Read back to_json's data, finding each fit's site among `sites` (a scenario's)."""
        by_id = {site.id: site for site in sites}
        return cls(
            sites=[SiteFit.from_json(fit, by_id) for fit in data["sites"]],
            days=[dt.date.fromisoformat(day) for day in data["days"]],
            workdays=[dt.date.fromisoformat(day) for day in data["workdays"]],
            upstream_hourly=_array(data["upstream_hourly"]),
            sites_hourly=_array(data["sites_hourly"]),
            notes=data["notes"],
            upstream=None if data["upstream"] is None else UpstreamFit.from_json(data["upstream"]),
            zone=data["zone"],
        )


def _listed(values: np.ndarray | None) -> list[float] | None:
    return None if values is None else values.tolist()


def _array(values: list[float] | None) -> np.ndarray | None:
    return None if values is None else np.array(values, dtype=float)
