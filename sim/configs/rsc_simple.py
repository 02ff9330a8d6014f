"""RouterOS simple queues as two class trees: uploads and downloads from the target's side.

How RouterOS applies them, and so how they are read: every simple queue is an HTB class
under `global`, in list order; a packet takes the first queue whose target (and packet
marks) match, so a later queue overlapping an earlier one loses the overlap. Pairs are
`upload/download` as seen from the target: upload is traffic from the target, download
traffic to it. `limit-at` is the guarantee, `max-limit` the ceiling (0: none), `priority`
1..8 (8 lowest) is netlab's prio 0..7, `queue=up/down` names the queue types. Burst and the
`total-*` settings are modelled approximately and named once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.configs.inforce import Circuit, Discipline, Match, Notes, ShapedClass, refuse
from sim.configs.rates import routeros_pair
from sim.configs.rsc_marks import Marked, networks
from sim.configs.rsc_menus import Item


@dataclass(frozen=True)
class SimpleTrees:
    """The two trees and the circuits (leaf queues) of a file's simple queues."""

    down: list[ShapedClass]
    up: list[ShapedClass]
    circuits: list[Circuit]


def simple_queues(
    items: list[Item], types: dict[str, Discipline], marks: dict[str, Marked], notes: Notes
) -> SimpleTrees:
    """The simple queues as trees (all of them when every one is disabled, with a note)."""
    if items and all(i.disabled for i in items):
        notes.add("every simple queue is disabled=yes: imported as if enabled", items[0].origin)
    names = {i.text("name") for i in items}
    down: list[ShapedClass] = []
    up: list[ShapedClass] = []
    for item in items:
        name, parent = item.text("name"), item.text("parent", "none")
        if parent not in ("none", "") and parent not in names:
            raise refuse(item.origin, f"queue {name!r}: parent {parent!r} is no simple queue")
        _approximations(item, notes)
        match = _match(item, marks, notes)
        for side, out in ((0, up), (1, down)):
            out.append(_class(item, side, None if parent in ("none", "") else parent, types, match))
    parents = {c.parent for c in down}
    circuits = [
        Circuit(c.name, c.match.networks, c.origin, c.name, c.name, c.match.interfaces)
        for c in down
        if c.name not in parents and not c.match.everything
    ]
    return SimpleTrees(down, up, circuits)


def _class(
    item: Item, side: int, parent: str | None, types: dict[str, Discipline], match: Match
) -> ShapedClass:
    """One direction of a simple queue (side 0: upload, 1: download)."""
    try:
        ceil = routeros_pair(item.text("max-limit", "0/0"))[side]
        rate = routeros_pair(item.text("limit-at", "0/0"))[side]
        prios = item.text("priority", "8/8").split("/")
        prio = int(prios[side] if len(prios) == 2 else prios[0])
    except ValueError as exc:
        raise refuse(item.origin, f"queue {item.text('name')!r}: {exc}") from None
    if not 1 <= prio <= 8:
        raise refuse(item.origin, f"queue {item.text('name')!r}: priority {prio} is not 1..8")
    queue_names = item.text("queue", "default-small/default-small").split("/")
    queue = queue_names[side] if len(queue_names) == 2 else queue_names[0]
    return ShapedClass(
        name=item.text("name"),
        parent=parent,
        rate=rate,
        ceil=ceil or None,
        origin=item.origin,
        prio=prio - 1,
        discipline=types.get(queue, Discipline(queue, "unknown")),
        disabled=item.disabled,
        match=match,
    )


def _match(item: Item, marks: dict[str, Marked], notes: Notes) -> Match:
    """The target's networks and interfaces (`target=""`: everything), and packet marks."""
    targets = [t for t in item.text("target", "").split(",") if t]
    nets: list[str] = []
    interfaces: list[str] = []
    for target in targets:
        found = networks(target)
        if found is None:
            interfaces += [target] if target not in interfaces else []
        else:
            nets += [n for n in found if n not in nets]
    other: list[str] = []
    packet_marks = [m for m in item.text("packet-marks", "").split(",") if m]
    for mark in packet_marks:
        marked = marks.get(mark)
        if marked is None:
            other.append(f"packet-mark {mark} (set by no mangle rule)")
            continue
        if not targets:
            nets += [n for n in [*marked.dst, *marked.src] if n not in nets]
        other += marked.other
    if item.args.get("dst"):
        other.append(f"dst={item.text('dst')}")
    everything = not targets and not packet_marks
    return Match(tuple(nets), tuple(interfaces), everything, tuple(other))


def _approximations(item: Item, notes: Notes) -> None:
    if any(k.startswith("burst-") for k in item.args):
        notes.add(
            "simple-queue burst (burst-limit/-threshold/-time) is not modelled: each queue is "
            "held to its max-limit",
            item.origin,
            topic="burst",
        )
    if any(k.startswith("total-") for k in item.args):
        notes.add(
            "simple-queue total-* limits (both directions together) are not modelled: each "
            "direction is limited on its own",
            item.origin,
            topic="total",
        )
