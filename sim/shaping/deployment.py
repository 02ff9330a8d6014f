"""Where a plan is deployed: each site's networks, the hub's interfaces and whether it NATs.

Real figures come from the topology (`subnets` of a site; `lan_interface`, `wan_interface`,
`nat` of the hub: docs/scenario-reference.md). What the topology does not say is filled with a
placeholder and named in `placeholders`, so every export can flag it: site N (in plan order)
gets 10.A.B.0/24 with N = 256 A + B, skipping networks that overlap a real subnet.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sim.model.topology import Topology
from sim.shaping.plan import DIRECTIONS, ShapingPlan

PLACEHOLDER_SPACE = ipaddress.IPv4Network("10.0.0.0/8")


@dataclass(frozen=True)
class Deployment:
    """The sites' networks and the hub's interfaces; `placeholders` lists what was assumed."""

    networks: dict[str, tuple[str, ...]]
    lan_interface: str | None
    wan_interface: str | None
    nat: bool
    placeholders: tuple[str, ...]  # "addresses of 2 sites (a, b)", "nat", ...


def plan_sites(plan: ShapingPlan) -> list[str]:
    """The plan's sites in plan order: downloads' leaves, then any only in uploads."""
    seen: dict[str, None] = {}
    for direction in DIRECTIONS:
        for c in plan.tree(direction).leaves:
            assert c.site is not None
            seen.setdefault(c.site, None)
    return list(seen)


def deployment(plan: ShapingPlan, topology: Topology | None = None) -> Deployment:
    """The deployment of plan from the topology (validated there), placeholders where silent."""
    given = {s.id: tuple(str(n) for n in s.subnets) for s in (topology.sites if topology else [])}
    sites = plan_sites(plan)
    missing = [s for s in sites if not given.get(s)]
    networks = {s: given[s] for s in sites if s not in missing}
    networks |= _placeholder_networks(missing, networks)
    hub = topology.hub if topology is not None else None
    placeholders = []
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        sites_word = "site" if len(missing) == 1 else "sites"
        placeholders.append(f"addresses of {len(missing)} {sites_word} ({shown})")
    for key in ("lan_interface", "wan_interface", "nat"):
        if hub is None or getattr(hub, key) is None:
            placeholders.append(key)
    return Deployment(
        {s: networks[s] for s in sites},
        hub.lan_interface if hub else None,
        hub.wan_interface if hub else None,
        True if hub is None or hub.nat is None else hub.nat,
        tuple(placeholders),
    )


def _placeholder_networks(
    sites: list[str], real: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    taken = [ipaddress.IPv4Network(t) for texts in real.values() for t in texts]
    candidates = PLACEHOLDER_SPACE.subnets(new_prefix=24)
    next(candidates)  # 10.0.0.0/24 is left to the hub
    out: dict[str, tuple[str, ...]] = {}
    for site in sites:
        network = next(candidates, None)
        while network is not None and any(network.overlaps(t) for t in taken):
            network = next(candidates, None)
        if network is None:
            raise ValueError("more sites than placeholder networks in 10.0.0.0/8")
        out[site] = (str(network),)
    return out
