"""Diurnal activity: when sessions start, as a piecewise-constant rate over the hours of each day.

A site's profile is its kind's, changed by what calibration fitted for the site (its scale and
hourly weights). With the scenario's `[calendar]` in use, holidays and collective leave are
lived as weekends and office hours bend for Friday prayer and Ramadan (sim/demand/calendar.py);
without it every Monday to Friday is a working day.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.demand.calendar import Calendar, national
from sim.model.demand import KindProfile
from sim.model.scenario import Scenario
from sim.model.topology import Site

YEAR_DAYS = 365.0


def site_profile(scenario: Scenario, site: Site) -> KindProfile:
    """The site's kind profile with its calibration (scale, fitted hours, mix) applied."""
    profile = scenario.spec.demand.kinds[site.kind]
    fitted = scenario.spec.calibration.sites.get(site.id)
    if fitted is None:
        return profile
    return profile.model_copy(
        update={
            "sessions_per_user_hour": profile.sessions_per_user_hour * fitted.scale,
            "weekday": fitted.weekday or profile.weekday,
            "weekend": fitted.weekend or profile.weekend,
            "mix": {n: w * fitted.mix.get(n, 1.0) for n, w in profile.mix.items()},
        }
    )


def scenario_calendar(scenario: Scenario) -> Calendar | None:
    """The scenario's working calendar, or None when it lives plain weekdays and weekends."""
    spec = scenario.spec.calendar
    if not spec.use:
        return None
    calendar = national(tuple(spec.extra_holidays))
    fitted = scenario.spec.calibration.friday_prayer_factor
    return calendar if fitted is None else calendar.with_friday_factor(fitted)


def site_clock(scenario: Scenario, site: Site) -> SessionClock:
    profile = site_profile(scenario, site)
    demand = scenario.spec.demand
    calendar = scenario_calendar(scenario)
    return SessionClock(
        profile, demand.growth, scenario.start, calendar, site.kind, demand.growth_per_year
    )


class SessionClock:
    """Session arrivals for one user: a Poisson process whose rate follows the hour of the day.

    `day_rates(day)` gives sessions per second in each hour of day `day` counted from the
    Monday of the start's week (the weekday or weekend profile, bent by the calendar); sim time
    0 is `start`, `offset` seconds after that Monday's midnight.
    Gaps are drawn exactly (inverting the integrated rate), so quiet hours cost nothing.
    `yearly` (`[demand] growth_per_year`) grows the rates by that factor a year, compounded
    day by day from the start's date.
    """

    def __init__(
        self,
        profile: KindProfile,
        growth: float,
        start: dt.datetime,
        calendar: Calendar | None = None,
        kind: str = "office",
        yearly: float = 1.0,
    ) -> None:
        per_hour = profile.sessions_per_user_hour * growth
        self.weekday = [w * per_hour / 3600.0 for w in profile.weekday]
        self.weekend = [w * per_hour / 3600.0 for w in profile.weekend]
        monday = start - dt.timedelta(days=start.weekday())
        monday = monday.replace(hour=0, minute=0, second=0, microsecond=0)
        self.first_day = monday.date()
        self.offset = (start - monday).total_seconds()
        self.calendar, self.kind = calendar, kind
        self.start_day = start.date()
        self.yearly = yearly  # growth over a year, compounded daily from the start's date
        self.idle = not any(self.weekday + self.weekend)
        self._days: dict[int, list[float]] = {}

    def day_rates(self, day: int) -> list[float]:
        """Sessions per user-second in each hour of day `day` (0: the start week's Monday)."""
        rates = self._days.get(day)
        if rates is None:
            date = self.first_day + dt.timedelta(days=day)
            if self.calendar is None:
                rates = self.weekday if date.weekday() < 5 else self.weekend
            else:
                working = self.calendar.uses_weekday_profile(date)
                base = self.weekday if working else self.weekend
                factors = self.calendar.factors(date, self.kind)
                rates = [r * f for r, f in zip(base, factors, strict=True)]
            if self.yearly != 1.0:
                grown = self.yearly ** ((date - self.start_day).days / YEAR_DAYS)
                rates = [r * grown for r in rates]
            self._days[day] = rates
        return rates

    @property
    def rates(self) -> list[float]:
        """The first week's 168 hourly rates, Monday 00:00 first."""
        return [rate for day in range(7) for rate in self.day_rates(day)]

    def next_gap(self, now: float, rng: np.random.Generator) -> float:
        """Seconds from `now` until this user's next session starts (inf if never)."""
        if self.idle:
            return math.inf
        hazard = rng.exponential()
        t = now + self.offset
        hour = int(t // 3600.0)
        elapsed = 0.0
        while True:
            rate = self.day_rates(hour // 24)[hour % 24]
            left = (hour + 1) * 3600.0 - t
            if rate * left >= hazard:
                return elapsed + hazard / rate
            hazard -= rate * left
            elapsed += left
            t += left
            hour += 1
