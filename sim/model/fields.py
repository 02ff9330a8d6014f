"""Value types that scenario files share: durations, clock times of day, local date-times.

Each is an annotated type whose validator checks the file's value (durations become seconds,
dates datetimes) and, when it is wrong, says how to write it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from sim.model.units import parse_duration

_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")
FIRST_START = dt.datetime(1900, 1, 1)
LAST_START = dt.datetime(2200, 1, 1)


def _duration(value: Any) -> float:
    """A duration as seconds: "90s", "5m", "24h", "10d" or a bare number of seconds."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a duration: {value!r} (use e.g. '30s', '5m', '24h', '10d')")
    return parse_duration(value)


Duration = Annotated[float, BeforeValidator(_duration)]


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
