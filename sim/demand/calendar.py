"""The working calendar: which days are working days and how office hours bend on them.

Data, not code: `calendar_id.toml` beside this module lists Indonesia's national holidays,
collective leave (each day with its name) and Ramadan by year (2022 onward), Friday prayer and
Ramadan office hours. A holiday or collective-leave day is lived as a weekend; on Fridays
offices pause for prayer; in Ramadan office activity outside the shorter working hours drops.
Hotspots keep their profile on every day but weekends and holidays (visitors are not office
staff).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Literal

DATA = Path(__file__).with_name("calendar_id.toml")
OFFICE_KINDS = ("office", "subdistrict")
REGIONAL = "Libur daerah"  # the name of a scenario's extra (regional) holiday
DayType = Literal["workday", "friday", "ramadan", "weekend", "holiday"]


@dataclass(frozen=True)
class Calendar:
    """Holidays (national, collective leave, regional), Ramadan days and the hour factors."""

    holidays: frozenset[dt.date]
    ramadan: frozenset[dt.date]
    friday: tuple[float, float, float]  # start hour, end hour (fractions), factor
    ramadan_hours: tuple[float, float, float]
    years: frozenset[int]
    names: Mapping[dt.date, str] = field(default_factory=dict, compare=False)

    def day_type(self, date: dt.date) -> DayType:
        """What kind of day `date` is for an office."""
        if date in self.holidays:
            return "holiday"
        if date.weekday() >= 5:
            return "weekend"
        if date in self.ramadan:
            return "ramadan"
        return "friday" if date.weekday() == 4 else "workday"

    def holiday_name(self, date: dt.date) -> str | None:
        """The name of the holiday or collective leave on `date`, None on other days."""
        return self.names.get(date) if date in self.holidays else None

    def with_friday_factor(self, factor: float) -> Calendar:
        """This calendar with office activity during Friday prayer at `factor` (fitted)."""
        start, end, _ = self.friday
        return replace(self, friday=(start, end, factor))

    def uses_weekday_profile(self, date: dt.date) -> bool:
        return self.day_type(date) in ("workday", "friday", "ramadan")

    def factors(self, date: dt.date, kind: str) -> list[float]:
        """Per hour of `date`, the share of the profile's activity that happens (1: all)."""
        day = self.day_type(date)
        if kind not in OFFICE_KINDS or day in ("weekend", "holiday", "workday"):
            return [1.0] * 24
        factors = [1.0] * 24
        if date.weekday() == 4:
            start, end, factor = self.friday
            factors = [f * _inside(h, start, end, factor) for h, f in enumerate(factors)]
        if day == "ramadan":
            start, end, factor = self.ramadan_hours
            factors = [f * _outside(h, start, end, factor) for h, f in enumerate(factors)]
        return factors


def covered(hour: int, start: float, end: float) -> float:
    """Share of clock hour `hour` inside [start, end)."""
    return max(0.0, min(hour + 1, end) - max(hour, start))


def _inside(hour: int, start: float, end: float, factor: float) -> float:
    """The hour's factor when [start, end) runs at `factor` and the rest as usual."""
    return 1.0 - covered(hour, start, end) * (1.0 - factor)


def _outside(hour: int, start: float, end: float, factor: float) -> float:
    """The hour's factor when [start, end) runs as usual and the rest at `factor`."""
    return factor + covered(hour, start, end) * (1.0 - factor)


def _hours(text: str) -> float:
    hours, minutes = text.split(":")
    return int(hours) + int(minutes) / 60.0


@cache
def national(extra: tuple[dt.date, ...] = ()) -> Calendar:
    """Indonesia's calendar from calendar_id.toml, with extra (regional) holidays."""
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    holidays, ramadan = set(extra), set[dt.date]()
    names = dict.fromkeys(extra, REGIONAL)
    for year in data["years"].values():
        names.update((dt.date.fromisoformat(d), n) for d, n in year["names"].items())
        holidays.update(dt.date.fromisoformat(d) for d in year["holidays"])
        holidays.update(dt.date.fromisoformat(d) for d in year["collective_leave"])
        first, last = (dt.date.fromisoformat(d) for d in year["ramadan"])
        ramadan.update(first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    friday, hours = data["friday_prayer"], data["ramadan_hours"]
    return Calendar(
        frozenset(holidays),
        frozenset(ramadan),
        (_hours(friday["start"]), _hours(friday["end"]), float(friday["factor"])),
        (_hours(hours["start"]), _hours(hours["end"]), float(hours["factor"])),
        frozenset(int(y) for y in data["years"]),
        names,
    )
