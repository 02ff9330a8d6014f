"""Site inventory: the hub (the communications office), its upstream and the shaped sites."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from sim.model.filekind import expect_kind
from sim.model.loading import Strict, read_toml, validate
from sim.model.units import MAX_MBPS, mbps

# Identifiers become Mininet host names, tc comments and CSV keys: keep them short and inert.
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,15}$")]
SiteKind = Literal["office", "hotspot", "subdistrict"]
# Bounds on sizes: one simulated user each, one class each; past them a run never ends.
MAX_USERS = 100_000
MAX_SITES = 1000
MAX_LATENCY_MS = 10_000.0
SITE_KINDS: tuple[SiteKind, ...] = ("office", "hotspot", "subdistrict")
# A Linux interface name (at most 15 characters), also accepted as a RouterOS interface name.
Interface = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,15}$")]


class LastMile(Strict):
    """An alternative access for a site the fibre does not reach (VSAT, LTE, radio)."""

    id: Identifier
    mbps: float = Field(gt=0, le=MAX_MBPS)
    latency_ms: float = Field(ge=0, le=MAX_LATENCY_MS)
    loss_pct: float = Field(default=0.0, ge=0, lt=100)
    monthly_cost_idr: float = Field(ge=0, le=1e15)
    note: str = ""


class Site(Strict):
    """One shaped site: a government office (OPD), a public hotspot or a sub-district office."""

    id: Identifier
    name: str
    kind: SiteKind
    users: int = Field(
        gt=0, le=MAX_USERS, description="people who use the site's internet on a normal day"
    )
    access_mbps: float | None = Field(default=None, gt=0, le=MAX_MBPS)
    latency_ms: float = Field(default=1.0, ge=0, le=MAX_LATENCY_MS)
    essential: bool = False
    reached: bool = True
    lastmile: list[LastMile] = []
    # Where exports deploy (sim/shaping/deployment.py); nothing simulated depends on it, so it is
    # left out of dumps (and of the sweep index's identity of a point).
    subnets: list[Annotated[IPv4Network, Field(strict=False)]] = Field(  # "10.20.1.0/24"
        default=[],
        max_length=1000,
        exclude=True,
        description="the site's networks as the hub sees its traffic (before NAT)",
    )
    # Where `netlab import-counters` finds the site's traffic, left out of dumps like subnets.
    counters: Interface | None = Field(
        default=None, exclude=True, description="the hub's interface towards the site (counters)"
    )
    note: str = ""

    @model_validator(mode="after")
    def _access_matches_reach(self) -> Site:
        if self.reached and self.access_mbps is None:
            raise ValueError(f"site {self.id!r} is reached but has no access_mbps")
        if not self.reached and not self.lastmile:
            raise ValueError(f"site {self.id!r} is unreached and lists no lastmile options")
        return self

    @property
    def access_bps(self) -> float:
        assert self.access_mbps is not None, "unreached site has no access link"
        return mbps(self.access_mbps)


class Hub(Strict):
    """The shaping point: Diskominfo's router and its physical link to the provider."""

    id: Identifier = "hub"
    name: str
    link_mbps: float = Field(
        gt=0, le=MAX_MBPS, description="physical capacity of the provider link"
    )
    # Where exports deploy, left out of dumps like Site.subnets.
    lan_interface: Interface | None = Field(default=None, exclude=True, description="to sites")
    wan_interface: Interface | None = Field(default=None, exclude=True, description="to provider")
    nat: bool | None = Field(
        default=None, strict=True, exclude=True, description="the hub masquerades to the provider"
    )
    counters: Interface | None = Field(
        default=None, exclude=True, description="the upstream's counters (else wan_interface)"
    )

    @model_validator(mode="after")
    def _interfaces_differ(self) -> Hub:
        if self.lan_interface is not None and self.lan_interface == self.wan_interface:
            raise ValueError("lan_interface and wan_interface must differ")
        return self


class Topology(Strict):
    """A whole inventory, as loaded from topologies/*.toml."""

    name: Identifier
    description: str = ""
    hub: Hub
    sites: list[Site] = Field(min_length=1, max_length=MAX_SITES)

    @model_validator(mode="after")
    def _unique_ids(self) -> Topology:
        seen: set[str] = set()
        for site in self.sites:
            if site.id in seen:
                raise ValueError(f"site id {site.id!r} appears twice")
            seen.add(site.id)
        return self

    @model_validator(mode="after")
    def _subnets_disjoint(self) -> Topology:
        owner: dict[IPv4Network, str] = {}
        for i, site in enumerate(self.sites):
            for network in site.subnets:
                for other, other_site in owner.items():
                    if network.overlaps(other):
                        raise ValueError(
                            f"sites[{i}].subnets: {network} overlaps {other} of site "
                            f"{other_site!r}: a packet must belong to one site"
                        )
                owner[network] = site.id
        return self

    def site(self, site_id: str) -> Site:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)

    @property
    def served(self) -> list[Site]:
        """Sites with an access link (reached, or connected by a last-mile option)."""
        return [site for site in self.sites if site.reached]


def load_topology(path: Path) -> Topology:
    """Load and validate a topology file (raises ConfigError)."""
    expect_kind(path, "topology")  # a scenario given for it says so, not "unknown key"
    return validate(path, read_toml(path), Topology)
