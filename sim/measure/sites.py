"""Interfaces to sites, and the measured data set netlab keeps (`measured.csv`).

Counters are read on the hub: on its interface towards a site, what the hub sends (tx) is the
site's download and what it receives (rx) its upload; on the upstream it is the other way
round. A topology names the interfaces (`counters` of a site or of the hub, the hub's
`wan_interface`), a mapping file (`interface = "site id"`) adds or overrides.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

from sim.measure.counters import Interval
from sim.model.errors import ConfigError
from sim.model.loading import read_toml
from sim.model.topology import Topology

COLUMNS = ("site", "start", "seconds", "down_bytes", "up_bytes", "down_peak_bps")
# measured.csv as netlab wrote it before peaks were kept: still read
OLD_COLUMNS = COLUMNS[:5]


@dataclass(frozen=True)
class SiteInterval:
    """Bytes down and up of one site (or of the hub's upstream: site is the hub's id)."""

    site: str
    start: float
    seconds: float
    down: float
    up: float
    peak_down: float = math.nan  # highest 5-minute download rate inside, bytes/s (MRTG's max)


def interface_map(topology: Topology, mapping: Path | None) -> dict[str, str]:
    """interface -> site id (the hub's id for the upstream)."""
    out = {s.counters: s.id for s in topology.sites if s.counters}
    upstream = topology.hub.counters or topology.hub.wan_interface
    if upstream:
        out[upstream] = topology.hub.id
    if mapping is None:
        return out
    known = {s.id for s in topology.sites} | {topology.hub.id}
    for interface, site in read_toml(mapping).items():
        if not isinstance(site, str) or site not in known:
            raise ConfigError(mapping, interface, f"names no site of topology {topology.name!r}")
        out[interface] = site
    return out


def unmapped_problem(names: list[str], interfaces: dict[str, str], hub: str) -> str:
    """Why a file's interfaces give nothing: they map to no site. Names what the scenario
    knows and the two ways to map them."""
    known = ", ".join(f"{name} ({site})" for name, site in sorted(interfaces.items()))
    first = names[0] if names else "NAME"
    return (
        f"{', '.join(map(repr, names))} maps to no site; the scenario knows "
        f'{known or "no interface"}; map it with --map FILE ({first} = "site id", or '
        f'= "{hub}" for the upstream) or set `counters = "{first}"` on the site or on the '
        "hub (the upstream) in the topology"
    )


def to_sites(
    intervals: list[Interval], interfaces: dict[str, str], hub: str
) -> tuple[list[SiteInterval], list[str]]:
    """Site intervals, and the interfaces no site claims (left out, reported)."""
    rows, unmapped = [], set()
    for item in intervals:
        site = interfaces.get(item.interface)
        if site is None:
            unmapped.add(item.interface)
            continue
        upstream = site == hub
        down, up = (item.rx, item.tx) if upstream else (item.tx, item.rx)
        peak = item.peak_rx if upstream else item.peak_tx
        rows.append(SiteInterval(site, item.start, item.seconds, down, up, peak))
    return sorted(rows, key=lambda r: (r.site, r.start)), sorted(unmapped)


def write_measured(path: Path, rows: list[SiteInterval], zone: dt.tzinfo) -> None:
    """measured.csv: one row a site and interval, local times with their offset."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            start = dt.datetime.fromtimestamp(row.start, zone).isoformat()
            peak = "" if math.isnan(row.peak_down) else f"{row.peak_down * 8.0:.0f}"
            writer.writerow(
                [row.site, start, f"{row.seconds:g}", _bytes(row.down), _bytes(row.up), peak]
            )


def _bytes(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.0f}"


def read_measured(path: Path) -> list[SiteInterval]:
    """Read measured.csv back (empty byte cells are unknown); bad rows name their line."""
    if path.is_dir():
        path = path / "measured.csv"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {exc.__class__.__name__}") from None
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) not in (COLUMNS, OLD_COLUMNS):
        raise ConfigError(path, "line 1", f"header must be {','.join(COLUMNS)}")
    rows = []
    for record in reader:
        try:
            rows.append(
                SiteInterval(
                    record["site"],
                    dt.datetime.fromisoformat(record["start"]).timestamp(),
                    float(record["seconds"]),
                    float(record["down_bytes"] or "nan"),
                    float(record["up_bytes"] or "nan"),
                    float(record.get("down_peak_bps") or "nan") / 8.0,
                )
            )
        except (ValueError, TypeError) as exc:
            raise ConfigError(path, f"line {reader.line_num}", str(exc)) from None
    return rows
