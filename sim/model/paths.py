"""Every site's path to the content: round-trip time and loss, and per application its TCP path.

RTT = the site's latency_ms (for a connected site, its last-mile option's) + the scenario's
[network] upstream_rtt_ms; loss = the connected last-mile option's loss_pct (0 on the
provider's own access). Both are stated assumptions of the topology and the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.scenario import Scenario
from sim.model.tcp import TcpPath, tcp_path

KB = 1024.0


@dataclass(frozen=True, slots=True)
class SitePath:
    """One site's round trip (seconds) and packet loss (fraction)."""

    rtt_s: float
    loss: float


def site_paths(scenario: Scenario) -> dict[str, SitePath]:
    """RTT and loss of every served site of the scenario."""
    upstream = scenario.spec.network.upstream_rtt_ms
    loss = _lastmile_loss(scenario)
    return {
        site.id: SitePath((site.latency_ms + upstream) / 1000.0, loss.get(site.id, 0.0))
        for site in scenario.sites
    }


def tcp_paths(scenario: Scenario) -> dict[tuple[str, str], TcpPath]:
    """The TCP path of every (site, elastic application) of the scenario."""
    network = scenario.spec.network
    apps = [name for name, app in scenario.spec.demand.apps.items() if app.kind == "elastic"]
    out = {}
    for site_id, path in site_paths(scenario).items():
        for app in apps:
            window = network.receive_window_kb.get(app, network.default_receive_window_kb)
            out[site_id, app] = tcp_path(
                rtt_s=path.rtt_s,
                loss=path.loss,
                mss_bytes=network.mss_bytes,
                window_bytes=window * KB,
                connections=network.tcp_connections.get(app, 1),
                w1=network.initial_window,
                handshake_rtts=network.handshake_rtts,
                gamma=1.0 + 1.0 / network.segments_per_ack,
            )
    return out


def _lastmile_loss(scenario: Scenario) -> dict[str, float]:
    """Loss (fraction) of each connected site's chosen last-mile option."""
    out = {}
    for site in scenario.inventory.sites:
        chosen = scenario.spec.connect.get(site.id)
        for option in site.lastmile:
            if option.id == chosen:
                out[site.id] = option.loss_pct / 100.0
    return out
