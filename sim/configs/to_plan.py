"""The shaping in force as a ShapingPlan, validated like any plan file.

Per direction: disabled queues are left out (unless all are); leaves that are no circuit
(catch-alls, queues matching no traffic) are left out with a note, and inner classes left
without children with them; several top classes hang under a root at the uplink (given,
else the largest top ceiling, noted); a class with no ceiling takes its parent's, no
guarantee is NO_GUARANTEE_BPS; a circuit without a leaf in a direction gets an unshaped one
(no guarantee, the root's ceiling); prio counts on leaves only; a PCQ leaf's pcq-rate is its
per-user cap (`per_user_bps`). Guarantees that oversubscribe a parent, and what netlab models
only approximately (PCQ's limits and burst, leaf queue kinds), are noted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypedDict

from sim.configs.ids import unique_ids
from sim.configs.inforce import Circuit, Notes, Origin, ShapedClass, ShapingInForce
from sim.configs.libreqos import ROOT as LIBREQOS_ROOT
from sim.model.errors import ConfigError
from sim.model.flow import Direction
from sim.shaping.plan import DIRECTIONS, ShapingPlan
from sim.shaping.planfile import PlanError, plan_from_dict
from sim.shaping.policies import NO_GUARANTEE_BPS

POLICY = "deployed"
LABEL = {"down": "downloads", "up": "uploads"}
ROOT_ID = "root"


class _Entry(TypedDict):
    """One class of the plan, as plan_from_dict reads it."""

    id: str
    parent: str | None
    rate_bps: float
    ceil_bps: float
    prio: int
    quantum: int | None
    site: str | None
    per_user_bps: float | None


@dataclass(frozen=True)
class Naming:
    """Site id per circuit name, and class id per class name in each direction."""

    sites: dict[str, str]  # circuit name -> site id
    leaf_site: dict[tuple[str, str], str]  # (direction, leaf class name) -> site id


def in_force(inforce: ShapingInForce) -> list[Circuit]:
    """The circuits whose queues are in force (all of them when every queue is disabled)."""
    classes = [*inforce.down, *inforce.up]
    if all(c.disabled for c in classes):
        return list(inforce.circuits)
    off = {(d, c.name) for d in DIRECTIONS for c in inforce.tree(d) if c.disabled}
    return [c for c in inforce.circuits if ("down", c.down) not in off or ("up", c.up) not in off]


def naming(inforce: ShapingInForce) -> Naming:
    """Site ids of the circuits in force, and which leaf carries each."""
    circuits = in_force(inforce)
    sites = unique_ids([c.name for c in circuits], 16)
    leaf_site: dict[tuple[str, str], str] = {}
    for c in circuits:
        for direction, leaf in (("down", c.down), ("up", c.up)):
            if leaf is not None:
                leaf_site[(direction, leaf)] = sites[c.name]
    return Naming(sites, leaf_site)


def to_plan(
    inforce: ShapingInForce, uplink_bps: float | None = None
) -> tuple[ShapingPlan, list[str]]:
    """The plan (policy `deployed`) and the notes of the conversion, as lines."""
    notes = Notes()
    notes.extend(inforce.notes)
    names = naming(inforce)
    entries: dict[Direction, list[_Entry]] = {}
    kept = {d: _kept(inforce.tree(d), d, names, notes) for d in DIRECTIONS}
    order = sorted(DIRECTIONS, key=lambda d: not kept[d])  # a direction with queues first
    for direction in order:
        given = uplink_bps
        if not kept[direction] and given is None and kept[order[0]]:
            given = float(entries[order[0]][0]["ceil_bps"])
            notes.add(
                f"no {LABEL[direction]} queues: {LABEL[direction]} are unshaped, modelled at "
                f"the other direction's root ({given / 1e6:g} Mbit/s, assumed)"
            )
        entries[direction] = _classes(kept[direction], direction, names, given, inforce, notes)
    try:
        plan = plan_from_dict({"policy": POLICY, "warnings": [], **entries})
    except PlanError as exc:
        raise ConfigError(inforce.files[0], exc.key, f"the imported plan: {exc.problem}") from None
    return plan, [str(n) for n in notes.items]


def _kept(
    tree: tuple[ShapedClass, ...], direction: Direction, names: Naming, notes: Notes
) -> list[ShapedClass]:
    """The classes in force: enabled, leaves that are circuits, inner classes over them."""
    classes = list(tree)
    if any(not c.disabled for c in classes):
        off = {c.name for c in classes if c.disabled}
        for c in classes:
            if c.disabled:
                notes.add(f"queue {c.name!r} is disabled: left out", c.origin, f"off {c.name}")
        classes = [c for c in classes if not _under(c, off, classes)]
    while True:
        parents = {c.parent for c in classes}
        dropped = [
            c
            for c in classes
            if c.name not in parents
            and (direction, c.name) not in names.leaf_site
            and c.parent is not None
        ]
        if not dropped:
            return classes
        for c in dropped:
            notes.add(_why_dropped(c, direction), c.origin)
        classes = [c for c in classes if c not in dropped]


def _under(c: ShapedClass, off: set[str], classes: list[ShapedClass]) -> bool:
    by_name = {k.name: k for k in classes}
    node: ShapedClass | None = c
    while node is not None:
        if node.name in off:
            return True
        node = by_name.get(node.parent) if node.parent else None
    return False


def _why_dropped(c: ShapedClass, direction: Direction) -> str:
    if c.match.everything:
        return (
            f"{direction}: queue {c.name!r} takes the traffic no site matched: left out "
            "(netlab adds its own catch-all under the root)"
        )
    if not c.match.known:
        return f"{direction}: queue {c.name!r} matches no traffic netlab can place: left out"
    return f"{direction}: queue {c.name!r} is no site's leaf: left out"


def _ordered(classes: list[ShapedClass]) -> list[ShapedClass]:
    """Parents before children, file order otherwise."""
    out: list[ShapedClass] = []
    placed: set[str | None] = {None}
    pending = list(classes)
    while pending:
        progressed = False
        for c in list(pending):  # one scan in file order: a parents-first file keeps its order
            if c.parent in placed:
                out.append(c)
                placed.add(c.name)
                pending.remove(c)
                progressed = True
        if not progressed:
            first = pending[0]
            raise ConfigError(
                first.origin.path,
                f"line {first.origin.line}",
                f"queue {first.name!r}: its parent is not a queue here",
            )
    return out


def _uplink_node(classes: list[ShapedClass], leaves: set[str]) -> list[ShapedClass]:
    """LibreQoS's root (the uplink, summed over the top nodes) over one top node and nothing
    else is that node (its rate and ceiling): the node is the root (so netlab's own export,
    one node for its root, reads back as the same tree)."""
    kids = [c for c in classes if c.parent == LIBREQOS_ROOT]
    if len(kids) != 1 or kids[0].name in leaves or classes[0].name != LIBREQOS_ROOT:
        return classes
    if (kids[0].rate, kids[0].ceil) != (classes[0].rate, classes[0].ceil):
        return classes
    return [replace(c, parent=None) if c is kids[0] else c for c in classes[1:]]


def _root(
    top: list[ShapedClass],
    uplink: float | None,
    origin: Origin,
    notes: Notes,
    label: str,
    sites: set[str],
) -> tuple[float, ShapedClass | None]:
    """The root's ceiling, and the top class that is the root (None: a root is added)."""
    if len(top) == 1 and top[0].name not in sites and (top[0].ceil or uplink):
        return float(top[0].ceil or uplink or 0), top[0]
    ceilings = [c.ceil for c in top if c.ceil]
    if uplink is None and not ceilings:
        raise ConfigError(
            origin.path,
            f"line {origin.line}",
            f"{label}: no queue gives a total rate (max-limit 0 or none is a placeholder): "
            "give the uplink rate",
        )
    if uplink is None:
        uplink = max(ceilings)
        notes.add(
            f"{label}: no queue covers all traffic: the uplink is assumed to be "
            f"{uplink / 1e6:g} Mbit/s, the largest top queue's ceiling (give it to change)",
            origin,
        )
    return float(uplink), None


def _classes(
    kept: list[ShapedClass],
    direction: Direction,
    names: Naming,
    uplink: float | None,
    inforce: ShapingInForce,
    notes: Notes,
) -> list[_Entry]:
    classes = _ordered(kept)
    if inforce.fmt == "libreqos":
        classes = _uplink_node(classes, {n for d, n in names.leaf_site if d == direction})
    label = "downloads" if direction == "down" else "uploads"
    origin = classes[0].origin if classes else Origin(inforce.files[0], 1)
    top = [c for c in classes if c.parent is None]
    leaf_ids = {
        c.name: names.leaf_site[(direction, c.name)]
        for c in classes
        if (direction, c.name) in names.leaf_site
    }
    root_ceil, root = _root(top, uplink, origin, notes, label, set(leaf_ids))
    inner = [c.name for c in classes if c.name not in leaf_ids]
    ids = unique_ids(inner, 32, set(leaf_ids.values()) | ({ROOT_ID} if root is None else set()))
    ids |= leaf_ids
    root_id = ids[root.name] if root is not None else ROOT_ID
    out: list[_Entry] = [] if root is not None else [_entry(ROOT_ID, None, root_ceil, root_ceil)]
    ceil_of: dict[str | None, float] = {None: root_ceil}
    for c in classes:
        ceil = c.ceil or ceil_of[c.parent]
        if c is root:
            ceil = root_ceil
        ceil_of[c.name] = ceil
        rate = c.rate if c.rate > 0 else (ceil if c is root else NO_GUARANTEE_BPS)
        if rate > ceil:
            notes.add(f"{label}: {c.name!r}: guarantee above its ceiling: cut to it", c.origin)
            rate = ceil
        parent = ids[c.parent] if c.parent else (None if c is root else root_id)
        leaf = c.name in leaf_ids
        out.append(
            _entry(
                ids[c.name],
                parent,
                rate,
                ceil,
                (c.prio or 0) if leaf else 0,
                c.quantum if leaf else None,
                leaf_ids.get(c.name),
                _per_user(c) if leaf else None,
            )
        )
    out += _unshaped(out, names, root_id, root_ceil, label, notes)
    unset = {ids[c.name] for c in classes if c.rate <= 0 and c.name not in leaf_ids}
    _inner_rates(out, unset - {root_id})
    _oversubscribed(out, classes, ids, label, notes)
    _approximations(classes, direction, notes)
    return out


def _entry(
    cid: str,
    parent: str | None,
    rate: float,
    ceil: float,
    prio: int = 0,
    quantum: int | None = None,
    site: str | None = None,
    per_user: float | None = None,
) -> _Entry:
    return {
        "id": cid,
        "parent": parent,
        "rate_bps": float(rate),
        "ceil_bps": float(ceil),
        "prio": prio,
        "quantum": quantum,
        "site": site,
        "per_user_bps": per_user,
    }


def _per_user(c: ShapedClass) -> float | None:
    """A PCQ leaf's cap per address (pcq-rate), None without one."""
    d = c.discipline
    return d.per_address.rate if d is not None and d.per_address is not None else None


def _unshaped(
    out: list[_Entry],
    names: Naming,
    root_id: str,
    root_ceil: float,
    label: str,
    notes: Notes,
) -> list[_Entry]:
    """A leaf for each circuit with none in this direction: unshaped, as on the router."""
    have = {e["site"] for e in out}
    taken = {e["id"] for e in out}
    missing = [s for s in names.sites.values() if s not in have and s not in taken]
    if missing:
        notes.add(
            f"{label}: {len(missing)} site(s) have no queue ({', '.join(missing[:3])}...): "
            "given an unshaped leaf (no guarantee, the root's ceiling)",
        )
    return [_entry(s, root_id, NO_GUARANTEE_BPS, root_ceil, 7, None, s) for s in missing]


def _inner_rates(out: list[_Entry], unset: set[str]) -> None:
    """An inner class the file gives no guarantee: its children's, up to its ceiling (what
    RouterOS and HTB deliver: a child's guarantee holds whatever its parent's)."""
    for entry in reversed(out):
        if entry["id"] in unset:
            kids = sum(float(e["rate_bps"]) for e in out if e["parent"] == entry["id"])
            entry["rate_bps"] = max(NO_GUARANTEE_BPS, min(float(entry["ceil_bps"]), kids))


def _oversubscribed(
    out: list[_Entry],
    classes: list[ShapedClass],
    ids: dict[str, str],
    label: str,
    notes: Notes,
) -> None:
    origin = {ids[c.name]: c.origin for c in classes}
    for parent in out:
        kids = [e for e in out if e["parent"] == parent["id"]]
        total = sum(float(e["rate_bps"]) for e in kids)
        rate = float(parent["rate_bps"])
        if kids and total > rate * (1 + 1e-9):
            notes.add(
                f"{label}: OVERSUBSCRIBED: the guarantees of {len(kids)} queues under "
                f"{parent['id']} sum to {total / 1e9:.3g} Gbit/s, {total / rate:.3g} times its "
                f"rate ({rate / 1e6:g} Mbit/s): they cannot all be delivered at once",
                origin.get(str(parent["id"])),
            )


def _approximations(classes: list[ShapedClass], direction: Direction, notes: Notes) -> None:
    """Notes on leaf queues: PCQ's per-address sharing, and kinds modelled as fair sharing."""
    user_side = "dst-address" if direction == "down" else "src-address"
    parents = {c.parent for c in classes}
    for c in classes:
        d = c.discipline
        if d is None or c.name in parents:  # an inner queue's type queues nothing
            continue
        if d.per_address is not None:
            rate = d.per_address.rate
            notes.add(
                f"PCQ ({d.name}) shares its queue per address: simulated as each user held to "
                f"{rate / 1e6:g} Mbit/s (per_user_bps; netlab's users have one transfer at a "
                "time)"
                if rate
                else f"PCQ ({d.name}) without pcq-rate: equal shares per address, which the "
                "leaf's fair sharing among its users gives",
                c.origin,
                topic=f"pcq {d.name}",
            )
            classifier = d.per_address.classifier
            if rate and classifier and not any(k.startswith(user_side) for k in classifier):
                notes.add(
                    f"PCQ ({d.name}) classifies {LABEL[direction]} by {','.join(classifier)}, "
                    f"not by the users' {user_side}: its cap is applied per user (approximate)",
                    c.origin,
                    topic=f"pcq-side {d.name} {direction}",
                )
            if d.per_address.limit:
                notes.add(
                    "PCQ queue limits (pcq-limit) are not modelled", c.origin, topic="pcq-limit"
                )
        elif d.kind in ("cake", "fq_codel", "sfq", "red"):
            notes.add(
                f"leaf queue kind {d.kind} ({d.name}) is modelled as flows sharing the class "
                "fairly, without its AQM or per-flow details",
                c.origin,
                topic=f"kind-{d.kind}",
            )
