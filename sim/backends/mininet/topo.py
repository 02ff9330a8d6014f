"""The regency as a Mininet network: internet host, hub router, a Linux bridge, one host per site.

    nlXXXi (internet) --upstream-- nlXXXh (hub router) --LAN-- nlXXXb0 (bridge) --access-- nlXXXsN

The internet host stands for the provider (10.255.0.1/30); the hub forwards between its WAN side
(eth0, 10.255.0.2/30) and its LAN side (eth1, 10.0.0.1/16); site N is 10.0.x.y (see `site_ip`)
behind the bridge. Link `bw` is in Mbit/s (Mininet's TCLink convention): the upstream link
carries the purchase, each access link the site's inventory figure. The emulation backend uses
plain links and applies all shaping itself (shaper.py): the access links, and the hub's tree,
whose root stands for the upstream link; `bw` is there for Mininet's own CLI.

This module imports only the standard library and Mininet, so Mininet's own tools load it:

    mn --custom sim/backends/mininet/topo.py --topo kotim --switch lxbr --controller none --link tc

(no netem in this kernel: delays are not emulated; Mininet names there start with "nlm").
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mininet.node import Host
from mininet.topo import Topo

WAN_INTERNET = "10.255.0.1"
WAN_HUB = "10.255.0.2"
WAN_PREFIX = 30
LAN_HUB = "10.0.0.1"
LAN_PREFIX = 16
MAX_SITES = 999  # interface names stay within 15 characters (nlXXXb0-eth999)
try:
    REPO = Path(__file__).resolve().parents[3]
except NameError:  # exec'd by `mn --custom` (no __file__): run mn from the repository root
    REPO = Path.cwd()


@dataclass(frozen=True)
class SiteLink:
    """One site's access link: rates in bits/s, latency the round trip to the hub."""

    id: str
    access_bps: float
    latency_ms: float = 0.0


@dataclass(frozen=True)
class NetSpec:
    """What the network is built from: the upstream rate and the served sites, in order."""

    name: str
    upstream_bps: float
    sites: tuple[SiteLink, ...]

    def scaled(self, factor: float) -> NetSpec:
        """Every rate multiplied by factor (for machines too small for the real rates)."""
        return replace(
            self,
            upstream_bps=self.upstream_bps * factor,
            sites=tuple(replace(s, access_bps=s.access_bps * factor) for s in self.sites),
        )


def spec_from_scenario(scenario: Any) -> NetSpec:
    """The served sites of a sim.model.scenario.Scenario and its purchased upstream rate."""
    return NetSpec(
        scenario.name,
        scenario.upstream_bps,
        tuple(SiteLink(s.id, s.access_bps, s.latency_ms) for s in scenario.sites),
    )


def spec_from_topology_file(path: Path | str) -> NetSpec:
    """Reached sites of a topology TOML (read with the standard library; hub link upstream)."""
    data = tomllib.loads(Path(path).read_text())
    sites = tuple(
        SiteLink(s["id"], float(s["access_mbps"]) * 1e6, float(s.get("latency_ms", 0)))
        for s in data["sites"]
        if s.get("reached", True)
    )
    return NetSpec(data["name"], float(data["hub"]["link_mbps"]) * 1e6, sites)


def site_ip(index: int) -> str:
    """Address of the index-th site (0-based) on the LAN: 10.0.0.2, 10.0.0.3, ..."""
    if not 0 <= index < MAX_SITES:
        raise ValueError(f"site index {index} out of range")
    return str(ipaddress.IPv4Address(LAN_HUB) + 1 + index)


@dataclass(frozen=True)
class Names:
    """Host, bridge and interface names of one network, all starting with the run's prefix."""

    prefix: str
    n_sites: int

    @property
    def internet(self) -> str:
        return self.prefix + "i"

    @property
    def hub(self) -> str:
        return self.prefix + "h"

    @property
    def bridge(self) -> str:
        return self.prefix + "b0"

    def site(self, index: int) -> str:
        return f"{self.prefix}s{index}"

    @property
    def hub_wan(self) -> str:
        return self.hub + "-eth0"

    @property
    def hub_lan(self) -> str:
        return self.hub + "-eth1"

    @property
    def internet_intf(self) -> str:
        return self.internet + "-eth0"

    def site_intf(self, index: int) -> str:
        return self.site(index) + "-eth0"

    def port(self, index: int) -> str:
        """The bridge's port towards site `index` (port 0 faces the hub)."""
        return f"{self.bridge}-eth{index + 1}"

    @property
    def hub_port(self) -> str:
        return self.bridge + "-eth0"


class Router(Host):
    """A host that forwards IPv4 between its interfaces (the hub)."""

    def config(self, **params: Any) -> dict[str, Any]:
        result = super().config(**params)
        self.cmd("sysctl -qw net.ipv4.ip_forward=1")
        return result


class NetlabTopo(Topo):
    """internet -- hub -- bridge -- one host per site (see the module docstring)."""

    def build(self, spec: NetSpec | None = None, prefix: str = "nlm") -> None:
        if spec is None:
            raise ValueError("NetlabTopo needs a NetSpec")
        if len(spec.sites) > MAX_SITES:
            raise ValueError(f"at most {MAX_SITES} sites")
        names = Names(prefix, len(spec.sites))
        self.names = names
        self.spec = spec
        internet = self.addHost(
            names.internet, ip=f"{WAN_INTERNET}/{WAN_PREFIX}", defaultRoute=f"via {WAN_HUB}"
        )
        hub = self.addHost(names.hub, cls=Router, ip=f"{WAN_HUB}/{WAN_PREFIX}")
        bridge = self.addSwitch(names.bridge, dpid="0" * 15 + "1")
        self.addLink(
            internet,
            hub,
            intfName1=names.internet_intf,
            intfName2=names.hub_wan,
            params2={"ip": f"{WAN_HUB}/{WAN_PREFIX}"},
            bw=spec.upstream_bps / 1e6,
        )
        self.addLink(
            hub,
            bridge,
            intfName1=names.hub_lan,
            intfName2=names.hub_port,
            params1={"ip": f"{LAN_HUB}/{LAN_PREFIX}"},
        )
        for index, site in enumerate(spec.sites):
            host = self.addHost(
                names.site(index),
                ip=f"{site_ip(index)}/{LAN_PREFIX}",
                defaultRoute=f"via {LAN_HUB}",
            )
            self.addLink(
                host,
                bridge,
                intfName1=names.site_intf(index),
                intfName2=names.port(index),
                bw=site.access_bps / 1e6,
            )


def _topology_topo(filename: str) -> Any:
    return lambda: NetlabTopo(spec=spec_from_topology_file(REPO / "topologies" / filename))


# `mn --custom sim/backends/mininet/topo.py --topo kotim` (see the module docstring)
topos = {
    "kotim": _topology_topo("kotim.toml"),
    "small": _topology_topo("small.toml"),
    "tiny": _topology_topo("tiny.toml"),
}


BRIDGE_NF = ("arptables", "iptables", "ip6tables")


def quiet_bridges() -> dict[str, str]:
    """Set net.bridge.bridge-nf-call-*tables=0 (bridged frames skip netfilter); return old values.

    The settings exist only when br_netfilter is loaded; without it bridges skip netfilter anyway.
    """
    old = {}
    for table in BRIDGE_NF:
        path = Path(f"/proc/sys/net/bridge/bridge-nf-call-{table}")
        if path.exists():
            old[table] = path.read_text().strip()
            if old[table] != "0":
                path.write_text("0\n")
    return old


def start_network(spec: NetSpec, prefix: str) -> Any:
    """Build and start the Mininet network (LinuxBridge, no controller); returns the Mininet.

    The caller stops it (`net.stop()`) and, after a crash, cleanup.py removes what is left.
    """
    from mininet.log import setLogLevel
    from mininet.net import Mininet
    from mininet.nodelib import LinuxBridge

    setLogLevel("error")
    quiet_bridges()
    topo = NetlabTopo(spec=spec, prefix=prefix)
    net = Mininet(
        topo=topo,
        switch=LinuxBridge,
        controller=None,
        build=False,
        autoSetMacs=False,
        waitConnected=False,
    )
    net.names = topo.names
    try:
        net.build()
        net.start()
    except BaseException:
        net.stop()
        raise
    return net
