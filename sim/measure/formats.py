"""Readers of the counter files network teams have: MRTG logs, RRD exports, RouterOS, CSV.

Each reader returns `Reading`s (one row of one interface) and nothing else: cleaning (wraps,
resets, gaps, duplicates, order) is `sim.measure.counters`'s job, so every format gets the same
treatment. Parsing uses the standard library only: csv, json and xml.etree read these small
text files exactly, and a bad row must be reported by its line number, which a dataframe reader
(pandas, pyarrow) loses. Times are Unix seconds (UTC); a file's local clock (WIB by default)
is converted here.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, TypeGuard

from sim.model.errors import ConfigError

FORMATS = ("mrtg", "rrd-xport", "rrd-fetch", "mikrotik", "csv")
Format = Literal["mrtg", "rrd-xport", "rrd-fetch", "mikrotik", "csv"]


def is_format(name: str) -> TypeGuard[Format]:
    """Whether `name` is one of FORMATS."""
    return name in FORMATS


# Indonesia keeps no daylight saving, so its three zones are fixed offsets.
ZONES = {"WIB": 7, "WITA": 8, "WIT": 9, "UTC": 0}


@dataclass(frozen=True)
class Reading:
    """One row: cumulative byte counters (`counter`) or a mean rate in bytes/s over `step` s.

    rx is what the interface received, tx what it sent (NaN: unknown). For a rate, `step` is
    the interval the mean covers and `time` its end; None when the file does not say.
    """

    line: int
    time: float
    interface: str
    rx: float | int
    tx: float | int
    kind: Literal["counter", "rate"]
    step: float | None = None
    peak_rx: float = math.nan  # the highest 5-minute rate inside a rate's interval (MRTG max)
    peak_tx: float = math.nan


def parse_zone(text: str) -> dt.tzinfo:
    """WIB, WITA, WIT, UTC or +HH:MM to a fixed offset."""
    if text.upper() in ZONES:
        return dt.timezone(dt.timedelta(hours=ZONES[text.upper()]), text.upper())
    match = re.fullmatch(r"([+-])(\d\d):?(\d\d)", text)
    if not match:
        raise ValueError(f"unknown time zone {text!r} (use WIB, WITA, WIT, UTC or +HH:MM)")
    sign = -1 if match[1] == "-" else 1
    return dt.timezone(sign * dt.timedelta(hours=int(match[2]), minutes=int(match[3])))


def read(path: Path, fmt: Format, zone: dt.tzinfo, interface: str | None = None) -> list[Reading]:
    """Every reading of one file; bad input raises ConfigError naming the file and the line.

    Files that hold one interface (MRTG, RRD) are named by `interface`, else by the file's stem.
    A `.gz` file is read uncompressed.
    """
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {exc.__class__.__name__}") from None
    name = interface or path.name.split(".")[0]
    readers: dict[str, Callable[[str, str, dt.tzinfo], list[Reading]]] = {
        "mrtg": _mrtg,
        "rrd-xport": _rrd_xport,
        "rrd-fetch": _rrd_fetch,
        "mikrotik": _mikrotik,
        "csv": _generic_csv,
    }
    try:
        readings = readers[fmt](text, name, zone)
    except _LineError as exc:
        raise ConfigError(path, f"line {exc.line}", exc.problem) from None
    if not readings:
        raise ConfigError(path, "", f"no readings found (is it a {fmt} file?)")
    return readings


class _LineError(Exception):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line, self.problem = line, problem


def _number(text: str, line: int, what: str) -> float | int:
    """A float from a file; unknown markers (nan, -nan, U, empty) are NaN."""
    text = text.strip()
    if text.lower() in ("", "nan", "-nan", "u", "null", "none"):
        return math.nan
    try:
        # 64-bit counters pass 2**53, beyond a float's exact integers: keep them as int
        value = int(text) if text.isdigit() else float(text)
    except ValueError:
        raise _LineError(line, f"{what} is not a number: {text!r}") from None
    if value < 0 or math.isinf(value):
        raise _LineError(line, f"{what} must be a non-negative number, got {text!r}")
    return value


def _mrtg(text: str, name: str, zone: dt.tzinfo) -> list[Reading]:
    """MRTG `.log`: line 1 `time in out` (counters now); then `time avg_in avg_out max_in
    max_out`, newest first, in bytes/s over the gap to the next (older) row."""
    rows: list[tuple[int, list[float | int]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if number == 1:
            if len(fields) != 3:
                raise _LineError(
                    1, "the first line of an MRTG log is 'time in_counter out_counter'"
                )
            continue
        if len(fields) != 5:
            raise _LineError(
                number, f"expected 5 fields (time avg_in avg_out max_in max_out), got {len(fields)}"
            )
        values = [_number(f, number, what) for f, what in zip(fields, MRTG_FIELDS, strict=True)]
        rows.append((number, values))
    for (number, (time, *_)), (_, (older, *_)) in zip(rows, rows[1:], strict=False):
        if older >= time:
            raise _LineError(number, "MRTG rows must go from newest to oldest")
    return [
        Reading(number, v[0], name, v[1], v[2], "rate", None, float(v[3]), float(v[4]))
        for number, v in rows[::-1]
    ]


MRTG_FIELDS = ("time", "avg_in", "avg_out", "max_in", "max_out")


def _rrd_xport(text: str, name: str, zone: dt.tzinfo) -> list[Reading]:
    """`rrdtool xport` XML or `--json`: rates by row, `step` from the meta data; a row's time
    ends its interval, as RRD labels its points; the first two legend entries are in (rx) and
    out (tx)."""
    if text.lstrip().startswith("{"):
        return _rrd_json(text, name)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise _LineError(exc.position[0], f"not valid XML: {exc}") from None
    step = root.findtext("meta/step")
    start = root.findtext("meta/start")
    if step is None or start is None:
        raise _LineError(1, "no <meta><start> and <step>: not rrdtool xport output")
    out = []
    time = float(start)
    for index, row in enumerate(root.iter("row")):
        values = [v.text or "" for v in row.findall("v")]
        if len(values) < 2:
            raise _LineError(1, f"row {index + 1} has fewer than 2 <v> values (in, out)")
        stamp = row.findtext("t")
        time = float(stamp) if stamp is not None else float(start) + (index + 1) * float(step)
        rx, tx = (_number(v, 1, f"row {index + 1} value") for v in values[:2])
        out.append(Reading(index + 1, time, name, rx, tx, "rate", float(step)))
    return out


def _rrd_json(text: str, name: str) -> list[Reading]:
    # rrdtool before 1.6 leaves keys unquoted ({about: '...', meta: {start: ...}})
    fixed = re.sub(r"([{,]\s*)([A-Za-z_]+)\s*:", r'\1"\2":', text).replace("'", '"')
    try:
        data = json.loads(fixed)
        meta = data["meta"]
        start, step, rows = float(meta["start"]), float(meta["step"]), data["data"]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise _LineError(1, f"not rrdtool xport JSON output: {exc}") from None
    out = []
    for index, row in enumerate(rows):
        values = ["nan" if v is None else str(v) for v in row]
        if len(values) < 2:
            raise _LineError(1, f"data row {index + 1} has fewer than 2 values (in, out)")
        rx, tx = (_number(v, 1, f"data row {index + 1}") for v in values[:2])
        out.append(Reading(index + 1, start + (index + 1) * step, name, rx, tx, "rate", step))
    return out


def _rrd_fetch(text: str, name: str, zone: dt.tzinfo) -> list[Reading]:
    """`rrdtool fetch FILE AVERAGE`: a header of DS names, then `time: in out`."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or ":" not in line:
            continue
        stamp, _, rest = line.partition(":")
        values = rest.split()
        if len(values) < 2:
            raise _LineError(number, "expected 'time: in out'")
        time = _number(stamp, number, "time")
        rx, tx = _number(values[0], number, "in"), _number(values[1], number, "out")
        out.append(Reading(number, time, name, rx, tx, "rate"))
    return out


def _rows(
    text: str, required: tuple[str, ...]
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [column for column in required if column not in header]
    if missing:
        raise _LineError(
            1, f"header lacks column(s) {', '.join(missing)} (has: {', '.join(header)})"
        )
    rows = []
    for record in reader:
        clean = {k.strip(): (v or "").strip() for k, v in record.items() if k is not None}
        rows.append((reader.line_num, clean))
    return header, rows


def _stamp(text: str, line: int, zone: dt.tzinfo) -> float:
    """Epoch seconds, ISO 8601 (with or without offset) or RouterOS v6 `mar/06/2023 08:00:00`."""
    if re.fullmatch(r"\d{9,11}(\.\d+)?", text):
        return float(text)
    try:
        if re.match(r"[a-z]{3}/\d\d/\d{4}", text):
            when = dt.datetime.strptime(text.title(), "%b/%d/%Y %H:%M:%S")
        else:
            when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _LineError(line, f"not a time: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return when.timestamp()


def _mikrotik(text: str, name: str, zone: dt.tzinfo) -> list[Reading]:
    """A RouterOS log of `/interface` counters: `time,name,rx-byte,tx-byte` (more allowed)."""
    _, rows = _rows(text, ("time", "name", "rx-byte", "tx-byte"))
    return [
        Reading(
            line,
            _stamp(row["time"], line, zone),
            row["name"],
            _number(row["rx-byte"], line, "rx-byte"),
            _number(row["tx-byte"], line, "tx-byte"),
            "counter",
        )
        for line, row in rows
    ]


def _generic_csv(text: str, name: str, zone: dt.tzinfo) -> list[Reading]:
    """netlab's CSV: `timestamp,interface,rx_bytes,tx_bytes` (counters) or
    `timestamp,interface,rx_bps,tx_bps[,seconds]` (mean bit rates over the interval ending at
    `timestamp`)."""
    header, rows = _rows(text, ("timestamp", "interface"))
    counters = "rx_bytes" in header and "tx_bytes" in header
    if not counters and not ("rx_bps" in header and "tx_bps" in header):
        raise _LineError(1, "header needs rx_bytes,tx_bytes (counters) or rx_bps,tx_bps (rates)")
    out = []
    for line, row in rows:
        time = _stamp(row["timestamp"], line, zone)
        if counters:
            rx, tx = (_number(row[c], line, c) for c in ("rx_bytes", "tx_bytes"))
            out.append(Reading(line, time, row["interface"], rx, tx, "counter"))
            continue
        rx, tx = (_number(row[c], line, c) / 8.0 for c in ("rx_bps", "tx_bps"))
        step = _number(row["seconds"], line, "seconds") if row.get("seconds") else None
        out.append(Reading(line, time, row["interface"], rx, tx, "rate", step))
    return out


def swapped(readings: list[Reading]) -> list[Reading]:
    """The readings with in and out exchanged: a log whose `in` is what the network sent
    (a port facing the router rather than the provider, or MRTG set up so)."""
    return [replace(r, rx=r.tx, tx=r.rx, peak_rx=r.peak_tx, peak_tx=r.peak_rx) for r in readings]
