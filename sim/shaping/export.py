"""Deployable forms of a ShapingPlan: JSON, a Linux tc script (HTB + u32), a RouterOS queue tree.

    export(plan, "tc" | "mikrotik" | "json")   the entry point for `netlab export`
    to_json / plan_from_dict / load_plan_file  the plan as a file, and back (validated)
    to_tc_script                               POSIX sh: HTB classes and u32 filters per direction
    to_mikrotik                                RouterOS v7: /ip firewall mangle + /queue tree

Downloads are shaped where they leave the hub towards the sites (its LAN side), classified by
destination address; uploads where they leave towards the provider (its WAN side), classified
by source address (DESIGN.md §2). Rates are L2 bits/s and quanta bytes, as in the plan.

The tc script follows what the kernel's HTB really does (DESIGN.md §4): burst and cburst hold
50 ms of the rate and the ceiling (at least 15 kB), every class has its explicit quantum, and
the root is whatever the plan says (policies already shape it a little below the purchase).

Site addresses come from the caller (`site_id -> "10.x.y.z/nn"`); without an inventory,
`default_site_addresses` gives placeholders (10.0.N.0/24) that an engineer must replace.

Nothing unvalidated reaches a script: the plan is re-validated (identifiers only), device names
and addresses are checked, free text (warnings) is reduced to printable ASCII in comments, and
every shell token is quoted with shlex.quote anyway.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.model.errors import ConfigError
from sim.shaping.plan import (
    DIRECTIONS,
    MIN_QUANTUM,
    ClassTree,
    HtbClass,
    ShapingPlan,
    kernel_quantum,
)

FORMATS: tuple[str, ...] = ("tc", "mikrotik", "json")

BURST_S = 0.05  # burst/cburst hold this much time of the rate/ceil ...
MIN_BURST = 15_000  # ... and at least this many bytes (DESIGN.md §4)
QUEUE_S = 0.2  # a leaf's FIFO holds about this much time of its ceiling ...
QUEUE_PACKETS = (100, 1000)  # ... within these bounds (packets of FRAME bytes)
FRAME = 1514
MAX_RATE_BPS = 1e11  # 100 Gbit/s: 50 ms of it still fits tc's 32-bit burst

# Unclassified traffic (ARP, the hub's own traffic, any address no filter matches) goes to a
# small leaf under the root, minor id 0xfffe: the top of the 16-bit minor space, far from the
# plan's classes (numbered up from 1:2), and not 0xffff, because each leaf's FIFO takes its
# class minor as handle and ffff: is the conventional ingress handle. It is guaranteed only
# min(1 Mbit/s, 1 % of the root), which may oversubscribe the root by that much (the kernel
# does not hold guarantees to the parent; DESIGN.md §4), and borrows up to the root's ceiling
# at priority 7, so it gets what the sites leave unused. The RouterOS export does the same
# with a `packet-mark=no-mark` queue when the interfaces are named.
DEFAULT_MINOR = 0xFFFE
DEFAULT_PRIO = 7
DEFAULT_RATE_BPS = 1e6
DEFAULT_RATE_SHARE = 0.01

DEFAULT_LAN_DEV = "eth1"  # the emulated hub's LAN side (sim/backends/mininet/topo.py)
DEFAULT_WAN_DEV = "eth0"  # ... and its WAN side

_DEVICE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")  # a Linux interface name, nothing to expand
_INTERFACE = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")  # a RouterOS interface name we accept
_POLICY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
_CLASS_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
_SITE_ID = re.compile(r"^[a-z][a-z0-9_]{0,15}$")  # sim.model.topology.Identifier
_PLAN_KEYS = ("policy", "warnings", *DIRECTIONS)
_CLASS_KEYS = ("id", "parent", "rate_bps", "ceil_bps", "prio", "quantum", "site")
_OVERSUBSCRIBED = 1e-6  # relative slack on "children's guarantees <= parent's rate"


class PlanError(ValueError):
    """Bad plan data; `key` is the dotted path of the offending value (e.g. `down[3].ceil_bps`)."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)


# ---------------------------------------------------------------------------------------------
# JSON


def to_json(plan: ShapingPlan) -> str:
    """The plan as JSON text (ShapingPlan.to_dict), read back by plan_from_dict."""
    return json.dumps(plan.to_dict(), indent=2, allow_nan=False) + "\n"


def load_plan_file(path: Path | str) -> ShapingPlan:
    """Read a JSON plan file; a missing, malformed or invalid file raises ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a directory, expected a JSON plan file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "", "not UTF-8 text, expected a JSON plan file") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            path, "", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise ConfigError(path, "", f"not valid JSON: {exc}") from None
    try:
        return plan_from_dict(data)
    except PlanError as exc:
        raise ConfigError(path, exc.key, exc.problem) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def plan_from_dict(data: Any) -> ShapingPlan:
    """The inverse of ShapingPlan.to_dict, validated; bad data raises PlanError (a ValueError).

    Checks: known keys only; a policy name; per direction a non-empty class list whose first
    class is the root (parent null) and whose parents come before their children; unique
    identifiers; 0 < rate <= ceil <= 100 Gbit/s; prio 0..7; a positive integer quantum; a site
    only on a leaf (not the root), each site once; children's guarantees within their parent's
    rate (ShapingPlan's rule: the plan scales oversubscribed guarantees, DESIGN.md §4).
    A child's ceiling above its parent's is allowed (policies warn about it; HTB clips it).
    """
    if not isinstance(data, dict):
        raise PlanError("", f"expected an object with keys {', '.join(_PLAN_KEYS)}")
    _no_unknown_keys(data, _PLAN_KEYS, "")
    for key in ("policy", *DIRECTIONS):
        if key not in data:
            raise PlanError(key, "required key is missing")
    policy = data["policy"]
    if not isinstance(policy, str) or not _POLICY.match(policy):
        raise PlanError("policy", f"not a policy name: {policy!r}")
    warnings = data.get("warnings", [])
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise PlanError("warnings", "expected a list of strings")
    trees = {d: _tree_from_list(data[d], d) for d in DIRECTIONS}
    return ShapingPlan(policy, trees["down"], trees["up"], tuple(warnings))


def _no_unknown_keys(data: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in data:
        if key not in known:
            path = f"{where}.{key}" if where else str(key)
            raise PlanError(path, f"unknown key (known: {', '.join(known)})")


def _tree_from_list(items: Any, direction: str) -> ClassTree:
    if not isinstance(items, list):
        raise PlanError(direction, "expected a list of classes, root first")
    if not items:
        raise PlanError(direction, "no root: the tree has no classes")
    classes: list[HtbClass] = []
    index: dict[str, int] = {}
    sites: dict[str, str] = {}
    for i, item in enumerate(items):
        where = f"{direction}[{i}]"
        c = _class_from_dict(item, where)
        if c.id in index:
            raise PlanError(f"{where}.id", f"class {c.id!r} appears twice")
        if i == 0 and c.parent is not None:
            raise PlanError(f"{where}.parent", "no root: the first class must have parent null")
        if i > 0 and c.parent is None:
            raise PlanError(f"{where}.parent", "only the first class (the root) has no parent")
        if c.parent is not None and c.parent not in index:
            later = any(isinstance(x, dict) and x.get("id") == c.parent for x in items[i + 1 :])
            problem = "must come after its parent" if later else "unknown class"
            raise PlanError(f"{where}.parent", f"{problem} {c.parent!r}")
        if c.parent is not None and classes[index[c.parent]].site is not None:
            raise PlanError(
                f"{where}.parent", f"class {c.parent!r} carries a site's traffic: it must be a leaf"
            )
        if c.site is not None:
            if i == 0:
                raise PlanError(f"{where}.site", "the root cannot carry a site's traffic")
            if c.site in sites:
                raise PlanError(f"{where}.site", f"site {c.site!r} is also on {sites[c.site]!r}")
            sites[c.site] = c.id
        index[c.id] = i
        classes.append(c)
    for i, c in enumerate(classes):
        total = sum(k.rate for k in classes if k.parent == c.id)
        if total > c.rate * (1 + _OVERSUBSCRIBED):
            raise PlanError(
                f"{direction}[{i}].rate_bps",
                f"guarantees under {c.id!r} sum to {total:.0f} bit/s, above its rate "
                f"{c.rate:.0f} (scale them down: DESIGN.md §4)",
            )
    return ClassTree(tuple(classes))


def _class_from_dict(item: Any, where: str) -> HtbClass:
    if not isinstance(item, dict):
        raise PlanError(where, "expected an object (a class)")
    _no_unknown_keys(item, _CLASS_KEYS, where)
    for key in ("id", "rate_bps", "ceil_bps"):
        if key not in item:
            raise PlanError(f"{where}.{key}", "required key is missing")
    class_id = item["id"]
    if not isinstance(class_id, str) or not _CLASS_ID.match(class_id):
        raise PlanError(f"{where}.id", f"not an identifier ([A-Za-z][A-Za-z0-9_]*): {class_id!r}")
    parent = item.get("parent")
    if parent is not None and (not isinstance(parent, str) or not _CLASS_ID.match(parent)):
        raise PlanError(f"{where}.parent", f"not a class identifier: {parent!r}")
    rate = _rate(item["rate_bps"], f"{where}.rate_bps")
    ceil = _rate(item["ceil_bps"], f"{where}.ceil_bps")
    if ceil < rate:
        raise PlanError(f"{where}.ceil_bps", f"ceil {ceil:.0f} is below rate {rate:.0f}")
    prio = _integer(item.get("prio", 0), f"{where}.prio", 0, 7)
    quantum = item.get("quantum")
    if quantum is not None:
        quantum = _integer(quantum, f"{where}.quantum", 1, 2**32 - 1)
    site = item.get("site")
    if site is not None and (not isinstance(site, str) or not _SITE_ID.match(site)):
        raise PlanError(f"{where}.site", f"not a site identifier ([a-z][a-z0-9_]*): {site!r}")
    return HtbClass(class_id, parent, rate, ceil, prio, quantum, site)


def _rate(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanError(key, f"expected a number of bits/s, got {value!r}")
    rate = float(value)
    if not math.isfinite(rate) or rate <= 0:
        raise PlanError(key, f"must be a positive number of bits/s, got {value!r}")
    if rate > MAX_RATE_BPS:
        raise PlanError(key, f"{rate:.0f} bit/s is above {MAX_RATE_BPS:.0f}")
    return rate


def _integer(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PlanError(key, f"expected an integer in {low}..{high}, got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# addresses and shared helpers


def default_site_addresses(plan: ShapingPlan) -> dict[str, str]:
    """PLACEHOLDER addresses so exports work without an inventory: site N gets 10.A.B.0/24.

    Sites are numbered from 1 in plan order (downloads' leaves, then any only in uploads):
    site 1 is 10.0.1.0/24, site 256 is 10.1.0.0/24. Replace them with the sites' real subnets
    before deploying a script.
    """
    sites = _plan_sites(plan)
    if len(sites) > 0xFFFF:
        raise ValueError("more sites than placeholder addresses (65535)")
    return {site: f"10.{n >> 8}.{n & 0xFF}.0/24" for n, site in enumerate(sites, start=1)}


def _plan_sites(plan: ShapingPlan) -> list[str]:
    seen: dict[str, None] = {}
    for direction in DIRECTIONS:
        for c in plan.tree(direction).leaves:
            assert c.site is not None
            seen.setdefault(c.site, None)
    return list(seen)


def _checked_plan(plan: ShapingPlan) -> ShapingPlan:
    """Re-validate a plan built in code: only identifiers and sound numbers reach a script."""
    return plan_from_dict(plan.to_dict())


def _checked_addresses(plan: ShapingPlan, site_addresses: Mapping[str, str]) -> dict[str, str]:
    """Each plan site's network as "a.b.c.d/n"; missing, malformed or overlapping: ValueError."""
    networks: dict[str, ipaddress.IPv4Network] = {}
    for site in _plan_sites(plan):
        if site not in site_addresses:
            raise ValueError(f"site_addresses: no address for site {site!r}")
        text = site_addresses[site]
        try:
            network = ipaddress.IPv4Network(str(text), strict=True)
        except ValueError as exc:
            raise ValueError(
                f"site_addresses.{site}: {text!r} is not an IPv4 network "
                f"(use 10.0.1.0/24 for a subnet or 10.0.1.5/32 for one host): {exc}"
            ) from None
        for other, seen in networks.items():
            if network.overlaps(seen):
                raise ValueError(f"site_addresses.{site}: {network} overlaps {other}'s {seen}")
        networks[site] = network
    return {site: f"{n.network_address}/{n.prefixlen}" for site, n in networks.items()}


def _check_name(name: str, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(name, str) or not pattern.match(name):
        raise ValueError(f"{what} {name!r} does not match {pattern.pattern}")
    return name


def _notes(plan: ShapingPlan, placeholder: bool) -> list[str]:
    """Comment lines every export carries: the placeholder warning and the plan's warnings."""
    out = []
    if placeholder:
        out += [
            "# WARNING: the site addresses below are PLACEHOLDERS (10.0.N.0/24) from netlab's",
            "# default_site_addresses: replace them with the sites' real subnets.",
        ]
    return out + [f"# plan warning: {_comment(w)}" for w in plan.warnings]


def _comment(text: str) -> str:
    """Free text reduced to something inert in a `#` comment of sh or RouterOS script."""
    return re.sub(r"[^A-Za-z0-9 _.,:;()/%+=<>'-]", "?", text)


def _mbit(bps: float) -> str:
    return f"{bps / 1e6:.3f} Mbit/s"


def burst_bytes(rate_bps: float) -> int:
    """HTB burst (or cburst, from the ceiling): 50 ms of the rate, at least 15 kB."""
    return max(MIN_BURST, math.ceil(rate_bps * BURST_S / 8))


def queue_packets(ceil_bps: float) -> int:
    """A leaf FIFO's length: about 200 ms of the ceiling in full frames, 100..1000 packets."""
    low, high = QUEUE_PACKETS
    return max(low, min(high, int(ceil_bps * QUEUE_S / 8 / FRAME)))


def default_class(root: HtbClass) -> HtbClass:
    """The catch-all leaf for unclassified traffic (see DEFAULT_MINOR)."""
    rate = min(DEFAULT_RATE_BPS, root.rate * DEFAULT_RATE_SHARE)
    return HtbClass("unclassified", root.id, rate, root.ceil, DEFAULT_PRIO, MIN_QUANTUM)


def class_minors(tree: ClassTree) -> dict[str, int]:
    """tc minor number per class id: root 1, then 2, 3, ... in plan order (parents first)."""
    if len(tree.classes) >= DEFAULT_MINOR - 1:
        raise ValueError(f"too many classes for one HTB tree ({len(tree.classes)})")
    return {c.id: i + 1 for i, c in enumerate(tree.classes)}


# ---------------------------------------------------------------------------------------------
# Linux tc


def to_tc_script(
    plan: ShapingPlan,
    lan_dev: str = DEFAULT_LAN_DEV,
    wan_dev: str = DEFAULT_WAN_DEV,
    site_addresses: Mapping[str, str] | None = None,
) -> str:
    """A runnable POSIX sh script putting the plan in force with tc (HTB + u32 filters).

    Per direction (downloads on lan_dev by destination, uploads on wan_dev by source): delete
    and re-add the root HTB qdisc (`default fffe`), one `tc class add` per plan class (root 1:1,
    the others 1:2, 1:3, ... in plan order) with rate, ceil, prio, quantum, burst and cburst,
    a pfifo under each leaf, the catch-all class 1:fffe, and one u32 filter per site leaf.
    site_addresses None: placeholders from default_site_addresses (the script says so).
    """
    plan = _checked_plan(plan)
    _check_name(lan_dev, _DEVICE, "lan_dev")
    _check_name(wan_dev, _DEVICE, "wan_dev")
    if lan_dev == wan_dev:
        raise ValueError("lan_dev and wan_dev must differ (one HTB root per device)")
    placeholder = site_addresses is None
    addresses = _checked_addresses(
        plan, default_site_addresses(plan) if site_addresses is None else site_addresses
    )
    out = [
        "#!/bin/sh",
        f"# netlab shaping plan {plan.policy!r} as Linux tc: HTB classes and u32 filters.",
        f"# Downloads: shaped leaving {lan_dev} (towards the sites), by destination address.",
        f"# Uploads: shaped leaving {wan_dev} (towards the provider), by source address.",
        "# Rates are L2 bits/s. burst/cburst hold 50 ms of rate/ceil (at least 15000 bytes) and",
        "# quantum is explicit: with tc's defaults HTB misses ceilings and splits spare equally.",
        "# Unclassified traffic goes to 1:fffe (tiny guarantee, priority 7, borrows to the root).",
        "# If the hub masquerades (SNAT) on the WAN side, source addresses there are already",
        "# translated: shape uploads on an IFB fed from the LAN side's ingress instead.",
    ]
    out += _notes(plan, placeholder)
    out += ["set -e", ""]
    for direction, dev, match in (("down", lan_dev, "dst"), ("up", wan_dev, "src")):
        out += _tc_direction(plan.tree(direction), direction, dev, match, addresses)
    return "\n".join(out) + "\n"


def _sh(*tokens: str) -> str:
    return " ".join(shlex.quote(t) for t in tokens)


def _tc_direction(
    tree: ClassTree, direction: str, dev: str, match: str, addresses: dict[str, str]
) -> list[str]:
    minors = class_minors(tree)
    parents = {c.parent for c in tree.classes}
    label = "downloads" if direction == "down" else "uploads"
    lines = [
        f"# ---- {label} on {dev}: {len(tree.classes)} classes, {len(tree.leaves)} sites ----",
        _sh(*f"tc qdisc del dev {dev} root".split()) + " 2>/dev/null || true",
        _sh(*f"tc qdisc add dev {dev} root handle 1: htb default {DEFAULT_MINOR:x}".split()),
    ]
    # Every token below is a validated identifier, address or number (no whitespace), so
    # splitting the f-strings yields exactly the intended arguments; _sh quotes them anyway.
    fallback = default_class(tree.root)
    for c in [*tree.classes, fallback]:
        minor = DEFAULT_MINOR if c is fallback else minors[c.id]
        parent = "1:" if c.parent is None else f"1:{minors[c.parent]:x}"
        what = "unclassified traffic" if c is fallback else f"class {c.id}"
        if c.site is not None:
            what += f" (site {c.site}, {addresses[c.site]})"
        lines.append(f"# {what}: rate {_mbit(c.rate)}, ceil {_mbit(c.ceil)}, prio {c.prio}")
        lines.append(
            _sh(
                *f"tc class add dev {dev} parent {parent} classid 1:{minor:x} htb"
                f" rate {_bits(c.rate)} ceil {_bits(c.ceil)} prio {c.prio}"
                f" quantum {kernel_quantum(c)}"
                f" burst {burst_bytes(c.rate)} cburst {burst_bytes(c.ceil)}".split()
            )
        )
        if c.id not in parents or c is fallback:
            lines.append(
                _sh(
                    *f"tc qdisc add dev {dev} parent 1:{minor:x} handle {minor:x}:"
                    f" pfifo limit {queue_packets(c.ceil)}".split()
                )
            )
    for c in tree.leaves:
        assert c.site is not None
        lines.append(f"# site {c.site} -> class {c.id}")
        lines.append(
            _sh(
                *f"tc filter add dev {dev} parent 1: protocol ip prio 1 u32"
                f" match ip {match} {addresses[c.site]} flowid 1:{minors[c.id]:x}".split()
            )
        )
    return [*lines, ""]


def _bits(bps: float) -> str:
    return f"{max(1, round(bps))}bit"


# ---------------------------------------------------------------------------------------------
# MikroTik RouterOS v7


def to_mikrotik(
    plan: ShapingPlan,
    site_addresses: Mapping[str, str] | None = None,
    lan_interface: str | None = None,
    wan_interface: str | None = None,
) -> str:
    """A RouterOS v7 script: packet marks per site and direction, and one queue tree each way.

    Mangle rules in the forward chain mark downloads by dst-address and uploads by src-address
    (forward sees the sites' own addresses, before source NAT). Each direction's top queue
    (max-limit = the plan's root ceiling) hangs on its interface when given, else on `global`;
    below it one queue per plan class, parents first, with limit-at = rate, max-limit = ceil
    and priority = HTB prio + 1 (RouterOS 1 is highest, 8 lowest); leaves take the site's mark.
    With an interface named, a `packet-mark=no-mark` queue takes unmarked traffic (as tc's
    1:fffe). Rates are plain integers in bits/s. Entries carry comments starting "netlab:",
    by which the script first removes those of an earlier export.
    """
    plan = _checked_plan(plan)
    interfaces = {"down": lan_interface, "up": wan_interface}
    for direction, name in interfaces.items():
        if name is not None:
            _check_name(name, _INTERFACE, f"{direction} interface")
    placeholder = site_addresses is None
    addresses = _checked_addresses(
        plan, default_site_addresses(plan) if site_addresses is None else site_addresses
    )
    out = [
        f"# netlab shaping plan {plan.policy!r} as a RouterOS v7 queue tree.",
        "# Rates are L2 bits/s. Queues only see traffic that FastTrack does not bypass:",
        "# disable FastTrack for the shaped sites or these queues will not act.",
    ]
    out += _notes(plan, placeholder)
    out += [
        '/queue tree remove [find where comment~"^netlab:"]',
        '/ip firewall mangle remove [find where comment~"^netlab:"]',
        "/ip firewall mangle",
    ]
    for direction in DIRECTIONS:
        field = "dst-address" if direction == "down" else "src-address"
        label = "download" if direction == "down" else "upload"
        for c in plan.tree(direction).leaves:
            assert c.site is not None
            out.append(
                _ros(
                    "add",
                    chain="forward",
                    action="mark-packet",
                    **{field: addresses[c.site]},
                    new_packet_mark=_mark(direction, c.site),
                    passthrough="no",
                    comment=f"netlab: site {c.site} {label}",
                )
            )
    out.append("/queue tree")
    for direction in DIRECTIONS:
        out += _ros_direction(plan.tree(direction), direction, interfaces[direction])
    return "\n".join(out) + "\n"


def _mark(direction: str, site: str) -> str:
    return f"netlab-{direction}-{site}"


def _queue_name(direction: str, tree: ClassTree, class_id: str) -> str:
    """Root: netlab-down; others netlab-down-ID (ids have no '-', so names cannot collide)."""
    return f"netlab-{direction}" if class_id == tree.root.id else f"netlab-{direction}-{class_id}"


def _ros_direction(tree: ClassTree, direction: str, interface: str | None) -> list[str]:
    label = "downloads" if direction == "down" else "uploads"
    root = tree.root
    lines = [
        _ros(
            "add",
            name=_queue_name(direction, tree, root.id),
            parent=interface or "global",
            max_limit=_ros_bits(root.ceil),
            comment=f"netlab: {label} root (class {root.id})",
        )
    ]
    for c in tree.classes[1:]:
        assert c.parent is not None
        fields: dict[str, str] = {
            "name": _queue_name(direction, tree, c.id),
            "parent": _queue_name(direction, tree, c.parent),
        }
        if c.site is not None:
            fields["packet_mark"] = _mark(direction, c.site)
        fields |= {
            "limit_at": _ros_bits(c.rate),
            "max_limit": _ros_bits(c.ceil),
            "priority": str(c.prio + 1),
            "comment": f"netlab: {label} "
            + (f"site {c.site}" if c.site is not None else f"class {c.id}"),
        }
        lines.append(_ros("add", **fields))
    if interface is not None:
        fallback = default_class(root)
        lines.append(
            _ros(
                "add",
                name=f"netlab-{direction}-unmarked-traffic",
                parent=_queue_name(direction, tree, root.id),
                packet_mark="no-mark",
                limit_at=_ros_bits(fallback.rate),
                max_limit=_ros_bits(fallback.ceil),
                priority=str(fallback.prio + 1),
                comment=f"netlab: {label} unmarked traffic",
            )
        )
    return lines


def _ros_bits(bps: float) -> str:
    return str(max(1, round(bps)))


def _ros(command: str, **fields: str) -> str:
    """One RouterOS `add` line; keys use '-' (given with '_'), values quoted where needed."""
    parts = [command]
    for key, value in fields.items():
        parts.append(f"{key.replace('_', '-')}={_ros_quote(value)}")
    return " ".join(parts)


def _ros_quote(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:-]+", value):
        return value
    escaped = re.sub(r'(["\\$])', r"\\\1", _comment(value))
    return f'"{escaped}"'


# ---------------------------------------------------------------------------------------------
# entry point


def export(
    plan: ShapingPlan,
    fmt: str,
    site_addresses: Mapping[str, str] | None = None,
    lan_dev: str | None = None,
    wan_dev: str | None = None,
) -> str:
    """The plan in one of FORMATS ("tc", "mikrotik", "json") as text.

    site_addresses None: placeholder addresses (default_site_addresses), flagged in the script.
    lan_dev/wan_dev: the hub's LAN- and WAN-side interfaces; for tc they default to eth1/eth0,
    for RouterOS None hangs both trees on `global`.
    """
    if fmt == "json":
        return to_json(_checked_plan(plan))
    if fmt == "tc":
        return to_tc_script(
            plan, lan_dev or DEFAULT_LAN_DEV, wan_dev or DEFAULT_WAN_DEV, site_addresses
        )
    if fmt == "mikrotik":
        return to_mikrotik(plan, site_addresses, lan_dev, wan_dev)
    raise ValueError(f"unknown export format {fmt!r} (formats: {', '.join(FORMATS)})")
