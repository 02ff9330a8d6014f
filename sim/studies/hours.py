"""A site's (or the upstream's) measurements by local day and clock hour, censored samples marked.

The fit works on clock hours of the site's local day (the `--tz` clock): each interval's bytes
go to the hour it starts in. Intervals longer than an hour (MRTG's and RRD's consolidated rows)
are left out and counted: spread over the hours they cover they would flatten the day's shape.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from sim.measure.sites import SiteInterval

# A 5-minute rate at or above this share of the ceiling is the shaper's, not the demand's.
CENSOR_SHARE = 0.97
# An hour needs this much of itself measured to count.
MIN_COVERAGE = 0.5
MBIT = 1e6


@dataclass
class Hours:
    """A site's measurements by local day and hour."""

    goodput: dict[tuple[dt.date, int], float]  # bytes/s, mean over what was measured
    covered: dict[tuple[dt.date, int], float]  # seconds measured
    censored: set[tuple[dt.date, int]]
    rates: list[tuple[dt.date, float]]  # every interval's goodput rate, bytes/s
    samples: int = 0
    censored_samples: int = 0
    up_down: list[float] = field(default_factory=lambda: [0.0, 0.0])  # uncensored bytes
    long_intervals: int = 0  # left out: longer than an hour
    peaks: dict[dt.date, float] = field(default_factory=dict)  # a day's highest 5-min rate, L2


def bin_hours(
    rows: list[SiteInterval],
    zone: dt.tzinfo,
    overhead: float,
    ceil_bps: float,
    share: float = CENSOR_SHARE,
) -> Hours:
    """Goodput per local day and hour; a sample at `share` of `ceil_bps` or above censors it,
    as does a 5-minute peak inside it (MRTG's max) at CENSOR_SHARE or above."""
    sums: dict[tuple[dt.date, int], float] = defaultdict(float)
    covered: dict[tuple[dt.date, int], float] = defaultdict(float)
    hours = Hours({}, covered, set(), [])
    for row in rows:
        if math.isnan(row.down) or row.seconds <= 0:
            continue
        local = dt.datetime.fromtimestamp(row.start, zone)
        key = (local.date(), local.hour)
        rate = row.down / row.seconds
        peak = rate if math.isnan(row.peak_down) or row.seconds <= 300 else row.peak_down
        hours.peaks[key[0]] = max(hours.peaks.get(key[0], 0.0), peak)
        if row.seconds > 3600.0:
            hours.long_intervals += 1
            continue
        hours.samples += 1
        if rate * 8.0 >= share * ceil_bps or peak * 8.0 >= CENSOR_SHARE * ceil_bps:
            hours.censored.add(key)
            hours.censored_samples += 1
        sums[key] += row.down / overhead
        covered[key] += row.seconds
        hours.rates.append((local.date(), rate / overhead))
        if not math.isnan(row.up) and rate * 8.0 < share * ceil_bps:
            hours.up_down[0] += row.up
            hours.up_down[1] += row.down
    hours.goodput = {k: sums[k] / covered[k] for k in sums if covered[k] >= MIN_COVERAGE * 3600}
    return hours


def workday_mean(hours: Hours, workdays: list[dt.date]) -> np.ndarray:
    """Mean goodput Mbit/s per hour over the working days measured (NaN: never measured)."""
    out = np.full(24, np.nan)
    for hour in range(24):
        values = [hours.goodput[(d, hour)] for d in workdays if (d, hour) in hours.goodput]
        if values:
            out[hour] = np.mean(values) * 8.0 / MBIT
    return out
