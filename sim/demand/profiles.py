"""Diurnal activity: when sessions start, as a piecewise-constant rate over the hours of a week."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.model.demand import KindProfile

WEEK_HOURS = 168


class SessionClock:
    """Session arrivals for one user: a Poisson process whose rate follows the hour of the week.

    `rates[h]` is sessions per second in hour h of the week (Monday 00:00 is h = 0); sim time 0
    is `start`. Gaps are drawn exactly (inverting the integrated rate), so quiet hours cost
    nothing: no thinning, no wasted events.
    """

    def __init__(self, profile: KindProfile, growth: float, start: dt.datetime) -> None:
        per_hour = profile.sessions_per_user_hour * growth
        day = [profile.weekday] * 5 + [profile.weekend] * 2
        self.rates = [w * per_hour / 3600.0 for weights in day for w in weights]
        monday = start - dt.timedelta(days=start.weekday())
        monday = monday.replace(hour=0, minute=0, second=0, microsecond=0)
        self.offset = (start - monday).total_seconds()
        self.idle = not any(self.rates)

    def next_gap(self, now: float, rng: np.random.Generator) -> float:
        """Seconds from `now` until this user's next session starts (inf if never)."""
        if self.idle:
            return math.inf
        hazard = rng.exponential()
        t = now + self.offset
        hour = int(t // 3600.0)
        elapsed = 0.0
        while True:
            rate = self.rates[hour % WEEK_HOURS]
            left = (hour + 1) * 3600.0 - t
            if rate * left >= hazard:
                return elapsed + hazard / rate
            hazard -= rate * left
            elapsed += left
            t += left
            hour += 1
