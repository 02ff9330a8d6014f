"""The circuits of the shaping in force as topology sites, every missing figure an assumption.

A site gets its circuit's name, an id (to_plan.naming), its IPv4 networks (IPv6 prefixes
are noted: a topology holds IPv4 only) and a note saying it was imported. Networks are
handed out in file order, first match first, as RouterOS and tc filters apply them: a later
circuit loses what an earlier one already takes (noted; a circuit left with nothing matches
no traffic). What the file does not give is assumed and listed per site: its kind (office:
the demand mix and day profile), its users and its access link (its largest ceiling), for
`netlab calibrate` or the user to replace.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sim.configs.inforce import Circuit, Notes, ShapingInForce
from sim.configs.to_plan import in_force, naming
from sim.model.topology import Site, SiteKind
from sim.shaping.plan import ShapingPlan

ASSUMED_KIND: SiteKind = "office"
ASSUMED_USERS = 10


@dataclass(frozen=True)
class ImportedSite:
    """A topology site built from a circuit, with what was assumed (key: value and why)."""

    site: Site
    circuit: Circuit
    assumptions: dict[str, str]


def to_sites(inforce: ShapingInForce, plan: ShapingPlan, notes: Notes) -> list[ImportedSite]:
    """One site per circuit, in file order (see the module doc)."""
    ids = naming(inforce).sites
    taken: list[tuple[ipaddress.IPv4Network, str]] = []
    out = []
    for circuit in in_force(inforce):
        site_id = ids[circuit.name]
        subnets = _own_networks(circuit, site_id, taken, notes)
        ceilings = [
            c.ceil for d in ("down", "up") for c in plan.tree(d).leaves if c.site == site_id
        ]
        access = max(ceilings) / 1e6
        assumptions = {
            "kind": f"{ASSUMED_KIND} (the file says nothing of who uses the site)",
            "users": f"{ASSUMED_USERS} (not in the file)",
            "access_mbps": f"{access:g} (its largest ceiling; the link itself is not in the file)",
        }
        note = f"imported from {circuit.origin} ({circuit.name}); assumed: " + ", ".join(
            assumptions
        )
        site = Site(
            id=site_id,
            name=circuit.name[:200] or site_id,
            kind=ASSUMED_KIND,
            users=ASSUMED_USERS,
            access_mbps=access,
            subnets=subnets,
            note=note,
        )
        out.append(ImportedSite(site, circuit, assumptions))
    return out


def _own_networks(
    circuit: Circuit,
    site_id: str,
    taken: list[tuple[ipaddress.IPv4Network, str]],
    notes: Notes,
) -> list[ipaddress.IPv4Network]:
    """The circuit's IPv4 networks less what earlier circuits take (first match wins)."""
    own: list[ipaddress.IPv4Network] = []
    for text in circuit.networks:
        network = ipaddress.ip_network(text, strict=False)
        if not isinstance(network, ipaddress.IPv4Network):
            notes.add(
                f"IPv6 prefixes (e.g. {text} of {circuit.name!r}) are left out: a topology "
                "holds IPv4 networks",
                circuit.origin,
                topic="ipv6",
            )
            continue
        pieces = [network]
        for other, owner in taken:
            if any(p.overlaps(other) for p in pieces):
                notes.add(
                    f"{circuit.name!r} ({text}) overlaps {owner!r} ({other}), which comes first "
                    "and takes the overlap",
                    circuit.origin,
                )
                pieces = [q for p in pieces for q in _less(p, other)]
        own += [p for p in pieces if not any(p.overlaps(o) for o in own)]
    if circuit.networks and not own:
        notes.add(
            f"{circuit.name!r} matches no traffic: earlier queues take all of it", circuit.origin
        )
    taken += [(n, circuit.name) for n in own]
    return own


def _less(
    network: ipaddress.IPv4Network, other: ipaddress.IPv4Network
) -> list[ipaddress.IPv4Network]:
    if not network.overlaps(other):
        return [network]
    if network.subnet_of(other):
        return []
    return list(network.address_exclude(other))
