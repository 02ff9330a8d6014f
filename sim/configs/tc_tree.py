"""Linux HTB classes, leaf qdiscs and u32 address filters as the shaping in force.

Both tc readers (scripts, `tc ... show` output) produce these records. Each device carries
one tree (its egress). A device is a download tree when its address filters match
destinations, an upload tree when they match sources; when filters do not say, the first
device is downloads and the second uploads, and a single device shapes both (notes say so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.configs.inforce import (
    Discipline,
    Match,
    Notes,
    Origin,
    ShapedClass,
    ShapingInForce,
)
from sim.configs.pairing import pair_leaves
from sim.model.errors import ConfigError


@dataclass(frozen=True)
class TcClass:
    dev: str
    classid: str  # "1:10"
    parent: str | None  # a classid, None under the qdisc
    rate: float
    ceil: float | None
    prio: int | None
    quantum: int | None
    origin: Origin
    name: str | None = None  # netlab's class id, from its export's comment


@dataclass(frozen=True)
class TcFilter:
    dev: str
    side: str  # "dst" or "src"
    network: str
    flowid: str
    origin: Origin


@dataclass
class TcRecords:
    """What the files said, per device in order of appearance."""

    classes: list[TcClass] = field(default_factory=list)
    filters: list[TcFilter] = field(default_factory=list)
    leaf_qdiscs: dict[tuple[str, str], str] = field(default_factory=dict)  # (dev, class): kind
    devices: list[str] = field(default_factory=list)

    def device(self, dev: str) -> None:
        if dev not in self.devices:
            self.devices.append(dev)


def shaping(records: TcRecords, files: tuple[str, ...], notes: Notes) -> ShapingInForce:
    """The two trees and circuits of the records (see the module doc)."""
    devices = [d for d in records.devices if any(c.dev == d for c in records.classes)]
    if not devices:
        raise ConfigError(files[0], "", "no HTB class (tc class add ... htb): nothing shapes")
    trees = {dev: _tree(dev, records) for dev in devices}
    down_dev, up_dev = _directions(devices, records, notes)
    down, up = trees[down_dev], trees[up_dev]
    circuits = pair_leaves(down, up, notes)
    return ShapingInForce("tc", files, tuple(down), tuple(up), tuple(circuits), tuple(notes.items))


def _directions(devices: list[str], records: TcRecords, notes: Notes) -> tuple[str, str]:
    sides = {d: {f.side for f in records.filters if f.dev == d} for d in devices}
    downs = [d for d in devices if sides[d] == {"dst"}]
    ups = [d for d in devices if sides[d] == {"src"}]
    rest = [d for d in devices if d not in downs and d not in ups]
    if len(devices) > 2:
        notes.add(f"{len(devices)} devices with HTB trees: the first two are imported")
    down = (downs + rest + ups)[0]
    up = next((d for d in ups + rest + downs if d != down), down)
    if up == down:
        notes.add(
            f"one device ({down}) shapes: its tree is taken for both directions (assumed)",
            topic="one-device",
        )
    elif not (sides[down] or sides[up]):
        notes.add(f"no address filters say which way: {down} taken as downloads, {up} uploads")
    return down, up


def _tree(dev: str, records: TcRecords) -> list[ShapedClass]:
    """The classes of one device, parents first, with their filters' networks."""
    classes = [c for c in records.classes if c.dev == dev]
    name_of = {c.classid: c.name or c.classid for c in classes}
    out: list[ShapedClass] = []
    for c in classes:
        nets = [f.network for f in records.filters if f.dev == dev and f.flowid == c.classid]
        everything = "0.0.0.0/0" in nets
        kind = records.leaf_qdiscs.get((dev, c.classid))
        out.append(
            ShapedClass(
                name=name_of[c.classid],
                parent=name_of.get(c.parent) if c.parent else None,
                rate=c.rate,
                ceil=c.ceil,
                origin=c.origin,
                prio=c.prio,
                quantum=c.quantum,
                discipline=Discipline(kind, kind) if kind else None,
                match=Match(tuple(n for n in nets if n != "0.0.0.0/0"), (), everything),
            )
        )
    return out
