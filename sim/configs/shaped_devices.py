"""LibreQoS ShapedDevices.csv in every published layout, as rows of named fields.

Layouts: 12 columns (v1.2: `Download Min` without Mbps, no Comment), 13 (+ Comment), 14
(+ sqm), 15 (+ Parent Node ID and Anchor Node ID after Parent Node). Lines starting with `#`
are comments. Rows are read by the header;
extra fields (unquoted commas in a comment) are joined back into the Comment. When the
first row is shorter than a header with Parent Node ID, the file is read by the 13-column
layout (LibreQoS's own example does this).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from sim.configs.inforce import Origin, refuse

OLD = ["circuit id", "circuit name", "device id", "device name", "parent node", "mac"]
OLD += ["ipv4", "ipv6", "download min", "upload min", "download max", "upload max", "comment"]


@dataclass(frozen=True)
class Device:
    """One device row: the fields a circuit needs."""

    circuit_id: str
    circuit_name: str
    device: str
    parent: str
    addresses: tuple[str, ...]
    rates: tuple[str, str, str, str]  # download min, upload min, download max, upload max
    origin: Origin


def _column(name: str) -> str:
    return name.strip().lower().removesuffix(" mbps").strip()


def devices(text: str, path: str) -> list[Device]:
    """Every device row of the file, in order."""
    rows = [
        (number, row)
        for number, row in enumerate(csv.reader(text.splitlines()), start=1)
        if row and any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")
    ]
    if not rows:
        raise refuse(Origin(path, 1), "no header row (Circuit ID,Circuit Name,...)")
    header = [_column(c) for c in rows[0][1]]
    if "circuit id" not in header or "download max" not in header:
        raise refuse(Origin(path, rows[0][0]), "not a ShapedDevices.csv header")
    layout = header
    if "parent node id" in header and len(rows) > 1 and len(rows[1][1]) < len(header):
        layout = OLD  # the header announces Parent/Anchor Node ID, the rows do not have them
    return [_device(row, layout, Origin(path, number)) for number, row in rows[1:]]


def _device(row: list[str], layout: list[str], origin: Origin) -> Device:
    if len(row) < len(layout) - 1:
        raise refuse(origin, f"{len(row)} fields where the header has {len(layout)}")
    if len(row) > len(layout) and "comment" in layout:
        at = layout.index("comment")
        extra = len(row) - len(layout)
        row = [*row[:at], ",".join(row[at : at + extra + 1]), *row[at + extra + 1 :]]
    fields = dict(zip(layout, row, strict=False))
    addresses = tuple(
        a.strip() for key in ("ipv4", "ipv6") for a in fields.get(key, "").split(",") if a.strip()
    )
    keys = ("download min", "upload min", "download max", "upload max")
    down_min, up_min, down_max, up_max = (fields.get(k, "").strip() for k in keys)
    return Device(
        fields.get("circuit id", "").strip(),
        fields.get("circuit name", "").strip(),
        fields.get("device name", "").strip() or fields.get("device id", "").strip(),
        fields.get("parent node", "").strip(),
        addresses,
        (down_min, up_min, down_max, up_max),
        origin,
    )
