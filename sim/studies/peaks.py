"""Daily 5-minute peaks against a ceiling: the peak demand on the days a link was held at its
ceiling, estimated from the other days.

A day's highest 5-minute rate (MRTG keeps it in every consolidated row, back two years) at or
above CENSOR_SHARE of the ceiling is right-censored: the demand was at least that, how much
more is not in the counters. The log of a day's peak is taken as normal over the days and
fitted by maximum likelihood with the censored days counted as such (the EM algorithm for a
censored normal, Tobit); a censored day's peak demand is then the fitted mean above the
censoring point, E[X | X >= c], with a 90 % interval from a bootstrap over days.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from sim.studies.hours import CENSOR_SHARE

RESAMPLES = 200
LEVEL = 0.90
METHOD = (
    "log of each day's 5-minute peak normal over the days, fitted by censored maximum "
    f"likelihood (EM); mean above the ceiling; {LEVEL:.0%} interval from {RESAMPLES} bootstrap "
    "resamples of the days"
)


@dataclass(frozen=True)
class PeakEstimate:
    """The censored days' peak demand (bits/s on the wire) and its interval."""

    days: int  # days with a known peak
    censored: list[dt.date]  # days whose peak was at the ceiling
    estimate_bps: float
    interval_bps: tuple[float, float]


def _phi(x: float) -> float:
    return math.exp(-x * x / 2.0) / math.sqrt(2.0 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _censored_normal(y: np.ndarray, censored: np.ndarray, point: float) -> tuple[float, float]:
    """Mean and deviation of a normal from `y`, the censored ones known only to be >= point."""
    seen = y[~censored]
    mu = float(seen.mean()) if len(seen) else point
    sd = max(float(seen.std()), 1e-3) if len(seen) > 1 else 1.0
    for _ in range(200):
        alpha = (point - mu) / sd
        ratio = _phi(alpha) / max(1.0 - _cdf(alpha), 1e-300)
        first = np.where(censored, mu + sd * ratio, y)
        second = np.where(censored, mu**2 + sd**2 + sd * (point + mu) * ratio, y**2)
        new_mu = float(first.mean())
        new_sd = math.sqrt(max(float(second.mean()) - new_mu**2, 1e-12))
        if abs(new_mu - mu) < 1e-9 and abs(new_sd - sd) < 1e-9:
            break
        mu, sd = new_mu, new_sd
    return mu, sd


def _mean_above(mu: float, sd: float, point: float) -> float:
    """E[X | ln X >= point] for ln X normal(mu, sd)."""
    alpha = (point - mu) / sd
    tail = max(1.0 - _cdf(alpha), 1e-300)
    return math.exp(mu + sd**2 / 2.0) * _cdf(sd - alpha) / tail


def censored_peaks(peaks: dict[dt.date, float], ceiling_bps: float) -> PeakEstimate | None:
    """The estimate, or None when no day's peak reached the ceiling (nothing censored)."""
    days = sorted(day for day, peak in peaks.items() if peak > 0)
    values = np.array([peaks[day] * 8.0 for day in days])  # bits/s
    point = math.log(CENSOR_SHARE * ceiling_bps)
    censored = np.log(np.maximum(values, 1.0)) >= point
    if not censored.any():
        return None
    logs = np.log(np.maximum(values, 1.0))
    estimate = _mean_above(*_censored_normal(logs, censored, point), point)
    rng = np.random.default_rng(1)
    samples = []
    for _ in range(RESAMPLES):
        pick = rng.integers(0, len(days), size=len(days))
        samples.append(_mean_above(*_censored_normal(logs[pick], censored[pick], point), point))
    tail = (1.0 - LEVEL) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    chosen = [day for day, flag in zip(days, censored, strict=True) if flag]
    return PeakEstimate(len(days), chosen, estimate, (float(low), float(high)))
