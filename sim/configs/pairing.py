"""Leaves of the two directions paired into circuits (sites), for formats with one tree per
direction (queue trees, tc): a download leaf and an upload leaf with the same networks, or
the same name once direction words and punctuation are dropped (`http-dw` and `http_up`),
are one circuit. A leaf taking all traffic (a catch-all) is no circuit, unless the file has
nothing else: then its leaves, whatever they select, are the circuits (with a note).
"""

from __future__ import annotations

import re

from sim.configs.inforce import Circuit, Notes, ShapedClass

_DIRECTION_WORDS = re.compile(
    r"download|upload|ingress|egress|(?<![a-z])(down|dl|dw|dn|rx|in|up|ul|tx|out)(?![a-z])"
)


def stem(name: str) -> str:
    """The name without direction words and punctuation, lower case."""
    return re.sub(r"[^a-z0-9]", "", _DIRECTION_WORDS.sub("", name.lower()))


def leaves(tree: list[ShapedClass] | tuple[ShapedClass, ...]) -> list[ShapedClass]:
    inner = {c.parent for c in tree}
    return [c for c in tree if c.name not in inner]


def pair_leaves(down: list[ShapedClass], up: list[ShapedClass], notes: Notes) -> list[Circuit]:
    """The circuits of two trees (see the module doc)."""
    downs = [c for c in leaves(down) if not c.match.everything]
    ups = [c for c in leaves(up) if not c.match.everything]
    if not downs and not ups:
        downs, ups = leaves(down), leaves(up)
        if downs or ups:
            notes.add(
                "no queue selects traffic by address: each leaf queue is imported as a site "
                "of its own (what it selects is in its note)",
                (downs or ups)[0].origin,
            )
    out: list[Circuit] = []
    for c in downs:
        partner = next(
            (u for u in ups if c.match.networks and u.match.networks == c.match.networks), None
        ) or next((u for u in ups if stem(u.name) and stem(u.name) == stem(c.name)), None)
        if partner is not None:
            ups.remove(partner)
        name = c.name if partner is None or partner.name == c.name else _pair_name(c.name)
        networks = c.match.networks or (partner.match.networks if partner else ())
        up_name = partner.name if partner else None
        out.append(Circuit(name, networks, c.origin, c.name, up_name, c.match.interfaces))
    out += [Circuit(u.name, u.match.networks, u.origin, None, u.name) for u in ups]
    return out


def _pair_name(down: str) -> str:
    cleaned = _DIRECTION_WORDS.sub("", down.lower()).strip(" -_")
    return re.sub(r"[-_ ]{2,}", "_", cleaned) or down
