"""The demand model's expected offered load, in closed form: what calibration fits.

Per site and clock hour: users x session rate (the site's clock, calendar included) x bytes
a session offers, down and up. A user starts no session while in one, so the rate of session
starts is the clock's rate l slowed to l / (1 + l D), D the mean length of a session (think
times, paced durations; transfers at the site's access rate). Sizes are clipped as
`sim.demand.users.draw_size` clips them, so the figures are the simulator's expectations.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from sim.demand.profiles import site_clock, site_profile
from sim.model.demand import AppSpec, DemandSpec, KindProfile
from sim.model.scenario import Scenario
from sim.model.topology import Site

MB = 1e6


@dataclass(frozen=True)
class SessionLoad:
    """What one session of a site offers on average: bytes down, bytes up, seconds long."""

    down: float
    up: float
    seconds: float


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def clipped_lognormal_mean(median: float, sigma: float, low: float, high: float) -> float:
    """E[min(max(X, low), high)] for X lognormal with this median and shape."""
    if sigma == 0:
        return min(max(median, low), high)
    mu = math.log(median)
    za, zb = (math.log(low) - mu) / sigma, (math.log(high) - mu) / sigma
    middle = median * math.exp(sigma**2 / 2) * (_phi(zb - sigma) - _phi(za - sigma))
    return low * _phi(za) + middle + high * (1.0 - _phi(zb))


def clipped_pareto_mean(low: float, alpha: float, high: float) -> float:
    """E[min(X, high)] for X Pareto with minimum `low` and shape `alpha` (> 1)."""
    return low + low**alpha * (high ** (1 - alpha) - low ** (1 - alpha)) / (1 - alpha)


def transfer_bytes(app: AppSpec) -> float:
    """Mean bytes of one elastic transfer, as draw_size draws them."""
    if app.size_dist == "pareto":
        return clipped_pareto_mean(app.size_min_mb, app.pareto_alpha, app.size_max_mb) * MB
    return (
        clipped_lognormal_mean(app.size_median_mb, app.size_sigma, app.size_min_mb, app.size_max_mb)
        * MB
    )


def session_load(spec: DemandSpec, profile: KindProfile, access_bps: float) -> SessionLoad:
    """Mean bytes and length of a session drawn from the profile's mix."""
    total = sum(profile.mix.values())
    down = up = seconds = 0.0
    for name, weight in profile.mix.items():
        app, share = spec.apps[name], weight / total
        if app.kind == "paced":
            length = 60.0 * clipped_lognormal_mean(
                app.duration_median_min, app.duration_sigma, 1e-9, app.duration_max_min
            )
            each = app.rate_mbps * 1e6 * length / 8.0
            down += share * each * app.directions.count("down")
            up += share * each * app.directions.count("up")
            seconds += share * length
            continue
        size = transfer_bytes(app) * app.transfers_mean
        down_share = app.directions.count("down") / len(app.directions)
        down += share * size * down_share
        up += share * size * (1.0 - down_share)
        thinking = (app.transfers_mean - 1.0) * app.think_mean_s
        seconds += share * (thinking + size * 8.0 / access_bps)
    return SessionLoad(down, up, seconds)


def clock_rates(scenario: Scenario, site: Site, days: list[dt.date]) -> np.ndarray:
    """The site's clock: sessions per user-second in each hour of `days`, shape (days, 24)."""
    clock = site_clock(scenario, site)
    return np.array([clock.day_rates((date - clock.first_day).days) for date in days])


def site_session(scenario: Scenario, site: Site) -> SessionLoad:
    """What one session of the site offers, its calibration applied."""
    return session_load(scenario.spec.demand, site_profile(scenario, site), site.access_bps)


def hourly_load(scenario: Scenario, site: Site, days: list[dt.date]) -> np.ndarray:
    """Expected offered bytes (goodput) per clock hour of `days`: shape (days, 24, 2), down/up."""
    session = site_session(scenario, site)
    rate = clock_rates(scenario, site, days).reshape(len(days), 24)  # per user-second
    starts = site.users * rate / (1.0 + rate * session.seconds) * 3600.0
    return np.stack([starts * session.down, starts * session.up], axis=-1)


def sessions_for(load: np.ndarray, site: Site, session: SessionLoad) -> np.ndarray:
    """Inverse of hourly_load: the clock's session rate (per user-hour) giving `load` (down)."""
    starts = load / session.down / 3600.0 / site.users  # per user-second, after slowing
    slowed = np.minimum(starts * session.seconds, 0.95)
    return starts / (1.0 - slowed) * 3600.0
