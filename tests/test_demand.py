"""The demand model's random parts against their specification."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from sim.demand.profiles import SessionClock
from sim.demand.users import draw_size
from sim.model.demand import DEFAULT_DEMAND, AppSpec, KindProfile


def test_session_clock_follows_the_weekly_profile() -> None:
    """Arrivals per hour of the week match the profile (Poisson, 4 standard deviations)."""
    profile = KindProfile(**DEFAULT_DEMAND["kinds"]["office"])
    start = dt.datetime(2022, 2, 1, 0, 0)  # a Tuesday
    clock = SessionClock(profile, growth=1.5, start=start)
    rng = np.random.default_rng(5)
    weeks = 40
    counts = np.zeros(168)
    now = 0.0
    while True:
        now += clock.next_gap(now, rng)
        if now >= weeks * 7 * 86400:
            break
        counts[int((now + clock.offset) // 3600) % 168] += 1
    expected = np.array(clock.rates) * 3600 * weeks
    day = [profile.weekday] * 5 + [profile.weekend] * 2
    assert expected == pytest.approx(np.array([w for d in day for w in d]) * 2.0 * 1.5 * weeks)
    assert np.all(np.abs(counts - expected) <= 4 * np.sqrt(expected) + 1)
    assert counts[24 + 9] > 10 * counts[24 + 3]  # Tuesday 09:00 busy, 03:00 quiet


def test_lognormal_sizes_have_their_median_and_pareto_its_bounds() -> None:
    rng = np.random.default_rng(2)
    web = AppSpec(**DEFAULT_DEMAND["apps"]["web"])
    sizes = np.array([draw_size(web, rng) for _ in range(20_000)])
    assert np.median(sizes) == pytest.approx(web.size_median_mb * 1e6, rel=0.03)
    download = AppSpec(**DEFAULT_DEMAND["apps"]["download"])
    sizes = np.array([draw_size(download, rng) for _ in range(20_000)])
    assert sizes.min() >= download.size_min_mb * 1e6
    assert sizes.max() <= download.size_max_mb * 1e6
    # Pareto tail: P(X > x) = (min/x)^alpha below the clip
    x = 4 * download.size_min_mb * 1e6
    tail = (sizes > x).mean()
    assert tail == pytest.approx(math.pow(0.25, download.pareto_alpha), rel=0.08)
