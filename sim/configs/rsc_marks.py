"""What RouterOS packet marks select: `/ip firewall mangle` mark-packet rules and the
`/ip firewall address-list` entries they refer to.

A mark's traffic is described by the addresses its rules match: by destination (traffic to
those addresses: downloads) or by source (uploads). A rule with no address condition marks
everything that reaches it. Conditions netlab does not model (protocol, ports, connection
marks, a command expression) are named in the mark's `other`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from sim.configs.inforce import Notes, Origin
from sim.configs.rsc_lexer import Expr
from sim.configs.rsc_menus import Item

_ADDRESS_KEYS = {"dst-address": "dst", "src-address": "src"}
_LIST_KEYS = {"dst-address-list": "dst", "src-address-list": "src"}
_NEUTRAL = {"action", "chain", "new-packet-mark", "passthrough", "comment", "disabled", "log"}
_NEUTRAL |= {"log-prefix", "in-interface", "out-interface", "packet-mark"}


@dataclass
class Marked:
    """The traffic one packet mark selects."""

    dst: list[str] = field(default_factory=list)  # networks matched as destination
    src: list[str] = field(default_factory=list)
    everything: bool = False  # a rule with no address condition
    other: list[str] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)


def networks(text: str) -> list[str] | None:
    """`a.b.c.d`, `a.b.c.d/n`, `a-b` ranges, IPv6: normalised networks; None if not one."""
    try:
        if "-" in text and "/" not in text:
            first, last = (ipaddress.ip_address(t) for t in text.split("-", 1))
            return [str(n) for n in ipaddress.summarize_address_range(first, last)]
        return [str(ipaddress.ip_network(text, strict=False))]
    except ValueError:
        return None


def address_lists(items: list[Item], notes: Notes) -> dict[str, list[str]]:
    """Each address list's networks (enabled entries; a host name is noted and skipped)."""
    lists: dict[str, list[str]] = {}
    for item in items:
        if item.disabled:
            continue
        name, address = str(item.args.get("list", "")), item.args.get("address", "")
        found = networks(address) if isinstance(address, str) else None
        if found is None:
            notes.add(
                f"address-list {name} holds host names (e.g. {address!s}), resolved by the "
                "router at run time: left out",
                item.origin,
                topic=f"hostname {name}",
            )
            continue
        lists.setdefault(name, []).extend(found)
    return lists


def packet_marks(mangle: list[Item], lists: dict[str, list[str]], notes: Notes) -> dict:
    """{mark: Marked} from the enabled mark-packet rules (all of them when all are disabled)."""
    rules = [i for i in mangle if i.args.get("action") == "mark-packet"]
    enabled = [r for r in rules if not r.disabled] or rules
    out: dict[str, Marked] = {}
    for rule in enabled:
        mark = rule.args.get("new-packet-mark")
        if not isinstance(mark, str):
            continue
        marked = out.setdefault(mark, Marked())
        marked.origins.append(rule.origin)
        _add_rule(marked, rule, lists)
    return out


def _add_rule(marked: Marked, rule: Item, lists: dict[str, list[str]]) -> None:
    addressed = False
    for key, value in rule.args.items():
        side = _ADDRESS_KEYS.get(key) or _LIST_KEYS.get(key)
        if side is not None:
            addressed = True
            text = value.text if isinstance(value, Expr) else value
            found = _lookup(key, text, lists)
            if found is None:
                marked.other.append(f"{key}={text} (at {rule.origin})")
            else:
                getattr(marked, side).extend(n for n in found if n not in getattr(marked, side))
        elif key not in _NEUTRAL:
            text = value.text if isinstance(value, Expr) else value
            marked.other.append(f"{key}={text}")
    if not addressed:
        marked.everything = True


def _lookup(key: str, text: str, lists: dict[str, list[str]]) -> list[str] | None:
    if text.startswith("!") or text.startswith("["):
        return None
    if key in _LIST_KEYS:
        return lists.get(text)
    return networks(text)
