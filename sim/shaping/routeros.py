"""A plan as a RouterOS v7 script: packet marks in the forward chain and one queue tree each way.

What RouterOS does with it, and how the script makes that what netlab simulates:

- Marks by interface. Downloads are packets forwarded in from the WAN interface, uploads
  packets forwarded out of it; traffic between offices never crosses the WAN interface, so it
  is never marked and no queue shapes it as internet traffic.
- Uploads behind NAT: marks are set in the forward chain, which runs before src-nat
  (postrouting) and after the reverse of NAT on replies (prerouting), so it sees the sites' own
  addresses both ways. Packet marks are matched per packet, with no connection state to lose;
  connection marks would only save router CPU.
- One catch-all leaf per direction: WAN traffic no site rule marks gets the `-no-site` mark and
  its leaf (guarantee min(1 Mbit/s, 1 % of the root), priority 8), so it stays under the root.
- Priorities on leaves only: RouterOS ignores a parent queue's priority, as the kernel ignores
  an inner class's prio; inner queues carry limit-at and max-limit only.
- Leaf queue type: a pfifo sized as the tc export's (about 200 ms of the ceiling), not
  RouterOS's default-small (10 packets); a leaf that caps each user (`per_user_bps`) gets a PCQ
  type instead, one sub-queue per user address (dst-address for downloads, src-address for
  uploads) held to pcq-rate, RouterOS's default per-address and total limits.
- RouterOS exposes no quantum (see `quantum_notes`).
Trees hang on `global` (the marks already select the traffic), so sites may sit on several
LAN interfaces. Every entry carries a comment or name starting "netlab", by which the script
first removes those of an earlier export.
"""

from __future__ import annotations

import re

from sim.model.flow import Direction
from sim.shaping.deployment import Deployment
from sim.shaping.notes import comment, notes
from sim.shaping.plan import (
    DIRECTIONS,
    ClassTree,
    HtbClass,
    ShapingPlan,
    kernel_quantum,
)
from sim.shaping.planfile import plan_from_dict
from sim.shaping.tc import catch_all, queue_packets

DEFAULT_WAN_INTERFACE = "ether1"  # RouterOS's default configuration puts the WAN here
LABEL = {"down": "download", "up": "upload"}


def to_routeros(plan: ShapingPlan, where: Deployment) -> str:
    """The RouterOS v7 script for plan on the hub `where` describes (see the module doc)."""
    plan = plan_from_dict(plan.to_dict())  # only validated identifiers and numbers
    wan = where.wan_interface or DEFAULT_WAN_INTERFACE
    out = [
        f"# netlab shaping plan {plan.policy!r} as a RouterOS v7 queue tree. Rates: L2 bit/s.",
        f"# Downloads: packets forwarded in from {wan}; uploads: forwarded out to {wan}.",
        "# Marks are set in the forward chain, BEFORE src-nat: uploads keep the sites' own",
        "# source addresses there even when the hub masquerades (no connection marks needed).",
        "# Traffic between offices does not cross the WAN interface: it is not marked or shaped.",
        "# FastTrack bypasses queues: disable it for the shaped sites or nothing is shaped.",
        "# Priority is set on leaf queues only: RouterOS ignores a parent queue's priority.",
    ]
    out += quantum_notes(plan)
    out += notes(plan, where, [], f"the WAN interface is assumed to be {wan}.")
    out += [
        '/queue tree remove [find where comment~"^netlab:"]',
        '/queue type remove [find where name~"^netlab-"]',
        '/ip firewall mangle remove [find where comment~"^netlab:"]',
        "/queue type",
    ]
    leaves = [(d, c) for d in DIRECTIONS for c in _leaves(plan.tree(d))]
    limits = sorted({queue_packets(c.ceil) for _, c in leaves if c.per_user_bps is None})
    out += [_add(name=_fifo(n), kind="pfifo", pfifo_limit=str(n)) for n in limits]
    pcqs = sorted({(d, _bits(c.per_user_bps)) for d, c in leaves if c.per_user_bps is not None})
    out += [_pcq_type(d, rate) for d, rate in pcqs]
    out.append("/ip firewall mangle")
    for direction in DIRECTIONS:
        out += _mangle(plan.tree(direction), direction, wan, where)
    out.append("/queue tree")
    for direction in DIRECTIONS:
        out += _queues(plan.tree(direction), direction)
    return "\n".join(out) + "\n"


def quantum_notes(plan: ShapingPlan) -> list[str]:
    """What RouterOS's missing quantum means, and a WARNING where the plan relies on quanta."""
    out = [
        "# RouterOS has no quantum setting: it picks each queue's quantum itself. Guarantees",
        "# (limit-at), ceilings (max-limit) and priorities are deployed exactly, but spare",
        "# capacity among leaves of one priority is not split by the plan's quantum weights.",
        '# Simulate this deployment with [network] target = "routeros" (equal leaf quanta).',
    ]
    return out + [f"# WARNING: {line}" for line in quantum_losses(plan)]


def quantum_losses(plan: ShapingPlan) -> list[str]:
    """Where the plan splits spare capacity by quantum, which RouterOS cannot set: one line per
    direction and priority whose leaves differ in quantum (none: it deploys as simulated)."""
    out = []
    for direction in DIRECTIONS:
        leaves = plan.tree(direction).leaves
        for prio in sorted({c.prio for c in leaves}):
            quanta = {kernel_quantum(c) for c in leaves if c.prio == prio}
            if len(quanta) > 1:
                out.append(
                    f"{LABEL[direction]}s at priority {prio + 1} are weighted by"
                    f" quantum ({min(quanta)}..{max(quanta)} bytes) in the plan: on RouterOS"
                    " their spare is not split in those ratios."
                )
    return out


def _leaves(tree: ClassTree) -> list[HtbClass]:
    return [*tree.leaves, catch_all(tree.root)]


def _fifo(packets: int) -> str:
    return f"netlab-fifo-{packets}"


def _pcq(direction: Direction, rate: str) -> str:
    return f"netlab-pcq-{direction}-{rate}"


def _pcq_type(direction: Direction, rate: str) -> str:
    """A PCQ type: one sub-queue per user address, each held to `rate` bits/s."""
    side = "dst-address" if direction == "down" else "src-address"
    return _add(name=_pcq(direction, rate), kind="pcq", pcq_rate=rate, pcq_classifier=side)


def _mark(direction: Direction, site: str | None) -> str:
    return f"netlab-{direction}-{site}" if site is not None else f"netlab-{direction}-no-site"


def _mangle(tree: ClassTree, direction: Direction, wan: str, where: Deployment) -> list[str]:
    """Per site network a rule marking its packets; then the catch-all rule for the rest."""
    side = {"in_interface": wan} if direction == "down" else {"out_interface": wan}
    field = "dst_address" if direction == "down" else "src_address"
    lines = []
    for c in tree.leaves:
        assert c.site is not None
        for network in where.networks[c.site]:
            lines.append(
                _add(
                    chain="forward",
                    action="mark-packet",
                    **side,
                    **{field: network},
                    new_packet_mark=_mark(direction, c.site),
                    passthrough="no",
                    comment=f"netlab: site {c.site} {LABEL[direction]}",
                )
            )
    lines.append(
        _add(
            chain="forward",
            action="mark-packet",
            **side,
            new_packet_mark=_mark(direction, None),
            passthrough="no",
            comment=f"netlab: other {LABEL[direction]}s (no site matched)",
        )
    )
    return lines


def _queue_name(direction: Direction, tree: ClassTree, class_id: str) -> str:
    """Root: netlab-down; others netlab-down-ID (ids have no '-', so names cannot collide)."""
    return f"netlab-{direction}" if class_id == tree.root.id else f"netlab-{direction}-{class_id}"


def _queues(tree: ClassTree, direction: Direction) -> list[str]:
    """The root on `global`, inner queues (no priority), leaves, the catch-all leaf."""
    label = LABEL[direction] + "s"
    root = tree.root
    lines = [
        _add(
            name=_queue_name(direction, tree, root.id),
            parent="global",
            max_limit=_bits(root.ceil),
            comment=f"netlab: {label} root (class {root.id})",
        )
    ]
    for c in tree.classes[1:]:
        assert c.parent is not None
        fields = {
            "name": _queue_name(direction, tree, c.id),
            "parent": _queue_name(direction, tree, c.parent),
            "limit_at": _bits(c.rate),
            "max_limit": _bits(c.ceil),
        }
        if c.site is None:
            lines.append(_add(**fields, comment=f"netlab: {label} class {c.id}"))
        else:
            what = f"{label} site {c.site}"
            lines.append(_leaf(fields, c, _mark(direction, c.site), what, direction))
    other = catch_all(root)
    fields = {
        "name": _mark(direction, None),
        "parent": _queue_name(direction, tree, root.id),
        "limit_at": _bits(other.rate),
        "max_limit": _bits(other.ceil),
    }
    what = f"{label} no site matched"
    return [*lines, _leaf(fields, other, _mark(direction, None), what, direction)]


def _leaf(fields: dict[str, str], c: HtbClass, mark: str, what: str, direction: Direction) -> str:
    queue = (
        _fifo(queue_packets(c.ceil))
        if c.per_user_bps is None
        else _pcq(direction, _bits(c.per_user_bps))
    )
    return _add(
        **fields,
        packet_mark=mark,
        priority=str(c.prio + 1),
        queue=queue,
        comment=f"netlab: {what}",
    )


def _bits(bps: float) -> str:
    return str(max(1, round(bps)))


def _add(**fields: str) -> str:
    """One RouterOS `add` line; keys use '-' (given with '_'), values quoted where needed."""
    parts = ["add"]
    for key, value in fields.items():
        parts.append(f"{key.replace('_', '-')}={_quote(value)}")
    return " ".join(parts)


def _quote(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:-]+", value):
        return value
    escaped = re.sub(r'(["\\$])', r"\\\1", comment(value))
    return f'"{escaped}"'
