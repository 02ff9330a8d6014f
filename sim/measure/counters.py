"""From readings to intervals: counter wraps, resets, gaps, duplicates and order, all reported.

Nothing is averaged over silently. A counter that went down wrapped (32 or 64 bits) when the
wrapped difference is a plausible rate, else the device reset and that interval is unknown.
A gap (an interval more than twice as long as both its neighbours) is dropped, not spread; a
change of the sampling interval is kept and reported. Every decision becomes an `Event`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sim.measure.formats import Reading

WRAP32 = 2**32
WRAP64 = 2**64
# A wrapped difference is believed when its rate is at most this many times the rate of the
# intervals beside it (and under the link's plausible maximum); else the counter was reset: a
# wrap leaves a normal interval's bytes, a reset an arbitrary part of the counter's range.
WRAP_PLAUSIBLE = 2.0


@dataclass(frozen=True)
class Interval:
    """Bytes an interface received (rx) and sent (tx) over [start, start + seconds); NaN unknown."""

    interface: str
    start: float
    seconds: float
    rx: float
    tx: float
    peak_rx: float = math.nan  # highest 5-minute rate inside, bytes/s (NaN: not given)
    peak_tx: float = math.nan


@dataclass(frozen=True)
class Event:
    """One thing the cleaning did: kind is wrap32, wrap64, reset, gap, duplicate, conflict,
    out-of-order, interval-change or unknown (a value the file marks as missing)."""

    interface: str
    kind: str
    time: float
    line: int
    detail: str


def clean(readings: Iterable[Reading], max_bps: float = 10e9) -> tuple[list[Interval], list[Event]]:
    """Intervals of every interface, in time order, and what was done to get them."""
    by_interface: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_interface[reading.interface].append(reading)
    intervals: list[Interval] = []
    events: list[Event] = []
    for name, rows in by_interface.items():
        rows, found = _ordered(name, rows)
        events += found
        if rows and rows[0].kind == "counter":
            got, found = _from_counters(name, rows, max_bps / 8.0)
        else:
            got, found = _from_rates(name, rows)
        intervals += got
        events += found
    return intervals, events


def _ordered(name: str, rows: list[Reading]) -> tuple[list[Reading], list[Event]]:
    """Sort by time; drop exact duplicates, keep the first of conflicting ones."""
    events = []
    late = [b for a, b in zip(rows, rows[1:], strict=False) if b.time < a.time]
    if late:
        events.append(
            Event(
                name,
                "out-of-order",
                late[0].time,
                late[0].line,
                f"{len(late)} rows out of time order, sorted",
            )
        )
    kept: list[Reading] = []
    for row in sorted(rows, key=lambda r: (r.time, r.line)):
        if kept and row.time == kept[-1].time:
            same = _same(row, kept[-1])
            kind = "duplicate" if same else "conflict"
            detail = (
                "repeated row dropped" if same else f"differs from line {kept[-1].line}, dropped"
            )
            events.append(Event(name, kind, row.time, row.line, detail))
            continue
        kept.append(row)
    return kept, events


def _same(a: Reading, b: Reading) -> bool:
    return all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in ((a.rx, b.rx), (a.tx, b.tx)))


def _gaps(times: list[float]) -> list[bool]:
    """For each step between consecutive times: longer than twice both its neighbours?"""
    steps = np.diff(times)
    out = []
    for i, step in enumerate(steps):
        near = [steps[j] for j in (i - 1, i + 1) if 0 <= j < len(steps)]
        out.append(bool(near) and step > 2.0 * max(near))
    return out


def _from_counters(
    name: str, rows: list[Reading], max_rate: float
) -> tuple[list[Interval], list[Event]]:
    events: list[Event] = []
    times = [r.time for r in rows]
    gaps = _gaps(times)
    deltas = {
        "rx": _deltas(name, "rx", rows, [r.rx for r in rows], max_rate, events),
        "tx": _deltas(name, "tx", rows, [r.tx for r in rows], max_rate, events),
    }
    intervals = []
    previous_step = None
    for i, (a, b) in enumerate(zip(rows, rows[1:], strict=False)):
        step = b.time - a.time
        if gaps[i]:
            events.append(
                Event(name, "gap", a.time, b.line, f"no readings for {step / 60:.0f} min; left out")
            )
            continue
        if previous_step is not None and abs(step - previous_step) > 0.1 * previous_step:
            events.append(
                Event(
                    name,
                    "interval-change",
                    a.time,
                    b.line,
                    f"interval {previous_step:.0f} s -> {step:.0f} s",
                )
            )
        previous_step = step
        intervals.append(Interval(name, a.time, step, deltas["rx"][i], deltas["tx"][i]))
    return intervals, events


def _deltas(
    name: str,
    side: str,
    rows: list[Reading],
    values: list[float | int],
    max_rate: float,
    events: list[Event],
) -> list[float]:
    """Bytes between consecutive counter readings of one direction (NaN: unknown)."""
    steps = np.diff([r.time for r in rows])
    # exact integer differences: 64-bit counters are beyond a float's exact range
    raw = [b - a for a, b in zip(values, values[1:], strict=False)]
    rates = np.array([d / s for d, s in zip(raw, steps, strict=True)], dtype=float)
    width = WRAP64 if max((v for v in values if not math.isnan(v)), default=0) >= WRAP32 else WRAP32
    out = []
    for i, delta in enumerate(raw):
        row = rows[i + 1]
        if math.isnan(delta):
            events.append(Event(name, "unknown", row.time, row.line, f"{side} counter missing"))
        elif delta < 0:
            wrapped = delta + width
            near = [rates[j] for j in (i - 1, i + 1) if 0 <= j < len(rates) and rates[j] >= 0]
            plausible = wrapped / steps[i] <= min(max_rate, WRAP_PLAUSIBLE * max([*near, 1.0]))
            if plausible:
                kind = "wrap32" if width == WRAP32 else "wrap64"
                events.append(Event(name, kind, row.time, row.line, f"{side} counter wrapped"))
                delta = wrapped
            else:
                detail = f"{side} counter fell {-delta:.0f} bytes: reset, interval unknown"
                events.append(Event(name, "reset", row.time, row.line, detail))
                delta = math.nan
        out.append(float(delta))
    return out


def _from_rates(name: str, rows: list[Reading]) -> tuple[list[Interval], list[Event]]:
    """Rates over intervals that end at each row's time; a row without its own interval
    (MRTG, rrdtool fetch) covers the time since the row before (the first: the next's)."""
    events: list[Event] = []
    times = [r.time for r in rows]
    gaps = [False, *_gaps(times)]
    intervals = []
    previous_step = None
    for i, row in enumerate(rows):
        derived = row.step is None
        step = row.step or (
            times[i] - times[i - 1] if i else (times[1] - times[0] if len(rows) > 1 else None)
        )
        if step is None:  # a single row with no interval of its own (never after a gap)
            events.append(
                Event(name, "unknown", row.time, row.line, "interval length unknown; left out")
            )
            continue
        if gaps[i]:
            missing = times[i] - times[i - 1] - (0 if derived else step)
            events.append(
                Event(
                    name,
                    "gap",
                    times[i - 1],
                    row.line,
                    f"no readings for {missing / 60:.0f} min; left out",
                )
            )
            if derived:
                continue
        if (
            previous_step is not None
            and abs(step - previous_step) > 0.1 * previous_step
            and not gaps[i]
        ):
            detail = f"interval {previous_step:.0f} s -> {step:.0f} s"
            events.append(Event(name, "interval-change", row.time, row.line, detail))
        previous_step = step
        if math.isnan(row.rx) or math.isnan(row.tx):
            events.append(Event(name, "unknown", row.time, row.line, "rate marked unknown"))
        intervals.append(
            Interval(
                name, row.time - step, step, row.rx * step, row.tx * step, row.peak_rx, row.peak_tx
            )
        )
    return intervals, events
