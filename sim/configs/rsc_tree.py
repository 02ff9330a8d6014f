"""RouterOS queue trees as two class trees, each queue put in the direction it shapes.

A queue tree hangs on `global` or on an interface (its egress), or on another queue; it takes
packets by packet mark. RouterOS does not say which direction a queue shapes, so it is read
from, in order: the queue's own name (download, dl, dw, rx, ingress / upload, ul, up, tx,
egress), its mark's mangle rules (by destination: downloads; by source: uploads), its nearest
ancestor that says; a queue nothing says is taken as downloads, with a note. An inner queue
over leaves of both directions (`All Bandwidth` over Download and Upload) is in both trees.
`limit-at` is the guarantee, `max-limit` the ceiling, `priority` 1..8 netlab's 0..7; the
`no-mark` mark is all traffic no other rule marked. A queue exported by netlab is named by
the class id its comment gives, so an export reads back with its own ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sim.configs.inforce import Circuit, Discipline, Match, Notes, ShapedClass, refuse
from sim.configs.pairing import pair_leaves
from sim.configs.rates import routeros_rate
from sim.configs.rsc_lexer import Expr
from sim.configs.rsc_marks import Marked
from sim.configs.rsc_menus import Item
from sim.model.flow import Direction

_DOWN = re.compile(r"download|ingress|(?<![a-z])(down|dl|dw|dn|rx|in)(?![a-z])", re.I)
_UP = re.compile(r"upload|egress|(?<![a-z])(up|ul|tx|out)(?![a-z])", re.I)
_NETLAB = re.compile(r"^netlab: \w+ (?:site|class) (\w+)$|^netlab: \w+ root \(class (\w+)\)$")


@dataclass(frozen=True)
class _Queue:
    item: Item
    key: str  # its name in the file
    name: str  # its name in the plan (netlab's class id when netlab exported it)
    parent: str | None  # the parent queue's key; None: on global or an interface
    parent_name: str | None
    interface: str | None


def name_direction(text: str) -> Direction | None:
    """The direction a name says (None when it says neither or both)."""
    down, up = bool(_DOWN.search(text)), bool(_UP.search(text))
    return "down" if down and not up else "up" if up and not down else None


def tree_queues(
    items: list[Item], types: dict[str, Discipline], marks: dict[str, Marked], notes: Notes
) -> tuple[list[ShapedClass], list[ShapedClass], list[Circuit]]:
    """The queue trees as (downloads, uploads, circuits)."""
    if not items:
        return [], [], []
    if all(i.disabled for i in items):
        notes.add("every queue-tree entry is disabled=yes: imported as if enabled", items[0].origin)
    queues = _queues(items)
    leaf_dirs = _leaf_directions(queues, marks, notes)
    dirs: dict[str, set[Direction]] = {q.key: set() for q in queues}
    parent_of = {q.key: q.parent for q in queues}
    for leaf, direction in leaf_dirs.items():
        key: str | None = leaf
        while key is not None:
            dirs[key].add(direction)
            key = parent_of[key]
    down = [_class(q, "down", types, marks) for q in queues if "down" in dirs[q.key]]
    up = [_class(q, "up", types, marks) for q in queues if "up" in dirs[q.key]]
    for q in queues:
        if len(dirs[q.key]) == 2:
            notes.add(
                f"queue {q.name!r} carries both directions on RouterOS; netlab gives each "
                "direction its own copy of its limits",
                q.item.origin,
            )
    return down, up, pair_leaves(down, up, notes)


def _queues(items: list[Item]) -> list[_Queue]:
    renamed = {i.text("name"): _own_name(i) for i in items}
    out = []
    for item in items:
        key, parent = item.text("name"), item.args.get("parent", "global")
        if isinstance(parent, Expr):
            out.append(_Queue(item, key, renamed[key], None, None, f"({parent.text})"))
        elif parent in renamed:
            out.append(_Queue(item, key, renamed[key], parent, renamed[parent], None))
        else:
            iface = None if parent == "global" else parent
            out.append(_Queue(item, key, renamed[key], None, None, iface))
    return out


def _own_name(item: Item) -> str:
    found = _NETLAB.match(str(item.args.get("comment", "")))
    return (found.group(1) or found.group(2)) if found else item.text("name")


def _leaf_directions(
    queues: list[_Queue], marks: dict[str, Marked], notes: Notes
) -> dict[str, Direction]:
    parents = {q.parent for q in queues}
    by_key = {q.key: q for q in queues}
    out: dict[str, Direction] = {}
    for q in queues:
        if q.key in parents:
            continue
        direction = _mark_direction(q, marks)
        node: _Queue | None = q
        while direction is None and node is not None:
            direction = name_direction(node.item.text("name"))
            node = by_key.get(node.parent) if node.parent else None
        if direction is None:
            notes.add(
                f"queue {q.name!r}: nothing says which direction it shapes: taken as downloads",
                q.item.origin,
            )
        out[q.key] = direction or "down"
    return out


def _mark_direction(q: _Queue, marks: dict[str, Marked]) -> Direction | None:
    own = name_direction(q.item.text("name"))
    if own is not None:
        return own
    found = [marks[m] for m in _marks(q.item) if m in marks]
    dst = any(m.dst for m in found)
    src = any(m.src for m in found)
    return "down" if dst and not src else "up" if src and not dst else None


def _marks(item: Item) -> list[str]:
    return [m for m in item.text("packet-mark", "").split(",") if m]


def _class(
    q: _Queue, direction: Direction, types: dict[str, Discipline], marks: dict[str, Marked]
) -> ShapedClass:
    item = q.item
    try:
        ceil = routeros_rate(item.text("max-limit", "0"))
        rate = routeros_rate(item.text("limit-at", "0"))
        prio = int(item.text("priority", "8"))
    except ValueError as exc:
        raise refuse(item.origin, f"queue {q.name!r}: {exc}") from None
    if not 1 <= prio <= 8:
        raise refuse(item.origin, f"queue {q.name!r}: priority {prio} is not 1..8")
    queue = item.text("queue", "default-small")
    return ShapedClass(
        name=q.name,
        parent=q.parent_name,
        rate=rate,
        ceil=ceil or None,
        origin=item.origin,
        prio=prio - 1,
        discipline=types.get(queue, Discipline(queue, "unknown")),
        disabled=item.disabled,
        match=_match(q, direction, marks),
    )


def _match(q: _Queue, direction: Direction, marks: dict[str, Marked]) -> Match:
    nets: list[str] = []
    other: list[str] = []
    everything = False
    for mark in _marks(q.item):
        marked = marks.get(mark)
        if mark == "no-mark":
            everything = True
        elif marked is None:
            other.append(f"packet-mark {mark} (set by no mangle rule)")
        else:
            side = marked.dst if direction == "down" else marked.src
            nets += [n for n in side if n not in nets]
            everything = everything or (marked.everything and not side)
            other += marked.other
    interfaces = (q.interface,) if q.interface else ()
    return Match(tuple(nets), interfaces, everything, tuple(other))
