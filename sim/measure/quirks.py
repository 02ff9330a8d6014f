"""Quirks of real counter logs that no single row shows: a log that stopped updating long ago,
and MRTG rows written as 0 while the counter on line 1 kept rising.

MRTG keeps the interface's counters on line 1 and rewrites the file at every poll, leaving the
previous one as `.old`. Given both, line 1 of each says what the interface really carried
between the two polls; where the rows of that span say 0 although the counter rose, MRTG
discarded the samples (a rate above its MaxBytes) and wrote 0, not unknown: that direction's
zero rows are read as unknown. Each finding is an `Event`, as the cleaning's are.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

from sim.measure.counters import Event
from sim.measure.formats import Reading

STALE_AFTER_S = 2 * 86400.0  # a log whose newest reading is older than this is reported


def staleness(name: str, readings: list[Reading], now: float) -> Event | None:
    """An event when the newest reading is more than STALE_AFTER_S before `now`."""
    newest = max(readings, key=lambda r: r.time)
    age = now - newest.time
    if age <= STALE_AFTER_S:
        return None
    when = dt.datetime.fromtimestamp(newest.time, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    detail = f"newest reading {when}, {age / 86400.0:.0f} days before this import: log stopped?"
    return Event(name, "stale", newest.time, newest.line, detail)


def mrtg_counters(path: Path) -> tuple[float, int, int] | None:
    """Line 1 of an MRTG log (time, in counter, out counter); None if it is not one."""
    try:
        with path.open(encoding="utf-8") as handle:
            fields = handle.readline().split()
    except (OSError, UnicodeDecodeError):
        return None
    if len(fields) != 3 or not all(f.isdigit() for f in fields):
        return None
    return float(fields[0]), int(fields[1]), int(fields[2])


def zero_rows(
    name: str, heads: list[tuple[float, int, int]], readings: list[Reading]
) -> tuple[list[Reading], list[Event]]:
    """Zero rows against a rising counter (line 1 of a .log and its .old): that direction's
    zero rows become unknown (NaN), with an event saying how much the counter rose."""
    events, unknown = [], set()
    heads = sorted(heads)
    for (t0, *before), (t1, *after) in zip(heads, heads[1:], strict=False):
        for side, index in (("rx", 0), ("tx", 1)):
            rose = after[index] - before[index]
            inside = [r for r in readings if t0 < r.time <= t1]
            values = [getattr(r, side) for r in inside]
            if rose <= 0 or t1 <= t0 or not values or any(v != 0 for v in values):
                continue
            unknown.add(side)
            detail = (
                f"{side} rows read 0 while the counter on line 1 rose {rose / 1e9:.2f} GB in "
                f"{t1 - t0:.0f} s ({rose / (t1 - t0) / 1e6:.2f} MB/s): MRTG wrote 0 for samples "
                "it discarded (MaxBytes below the real rate?); its zero rows read as unknown"
            )
            events.append(Event(name, "zero-rows", t1, inside[0].line, detail))
    if not unknown:
        return readings, events
    out = [
        replace(
            r,
            rx=math.nan if "rx" in unknown and r.rx == 0 else r.rx,
            tx=math.nan if "tx" in unknown and r.tx == 0 else r.tx,
        )
        for r in readings
    ]
    return out, events


def log_quirks(
    by_file: dict[Path, list[Reading]], mrtg: bool, swap: bool, now: float
) -> tuple[list[Reading], list[Event]]:
    """Every file's readings after the checks above (zero rows only for MRTG, line 1 swapped
    with the rows when asked), and the events found, stale files first."""
    events = [
        e
        for rows in by_file.values()
        if rows
        for e in [staleness(rows[0].interface, rows, now)]
        if e
    ]
    by_interface: dict[str, list[Reading]] = {}
    heads: dict[str, list[tuple[float, int, int]]] = {}
    for path, rows in by_file.items():
        for row in rows:
            by_interface.setdefault(row.interface, []).append(row)
        head = mrtg_counters(path) if mrtg and rows else None
        if head is not None:
            time, rx, tx = head
            heads.setdefault(rows[0].interface, []).append((time, tx, rx) if swap else head)
    out: list[Reading] = []
    for name, rows in by_interface.items():
        fixed, found = zero_rows(name, heads.get(name, []), rows)
        out += fixed
        events += found
    return out, events
