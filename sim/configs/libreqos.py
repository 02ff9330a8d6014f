"""LibreQoS network.json (nodes) with ShapedDevices.csv (circuits) as the shaping in force.

Nodes are inner classes (tiers): rate and ceil are the node's bandwidth, keys in either
casing (`downloadBandwidthMbps`, `DownloadBandwidthMbps`), `type` in any case, nested under
`children`. Circuits are leaves under their Parent Node: min is the guarantee, max the
ceiling; devices of one Circuit ID are one circuit (an empty Circuit ID: the row alone).
A circuit whose parent node is unknown or empty hangs under the root. The root, LibreQoS's
uplink, is not in these files: it is the sum of the top nodes (or circuits), noted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from sim.configs.inforce import Circuit, Match, Notes, Origin, ShapedClass, ShapingInForce, refuse
from sim.configs.rates import mbps_value
from sim.configs.rsc_marks import networks
from sim.configs.shaped_devices import Device, devices
from sim.configs.text import read_text
from sim.model.errors import ConfigError

ROOT = "libreqos_root"


class _Node(NamedTuple):
    """A network.json node: an inner class with its bandwidth each way (bit/s)."""

    name: str
    parent: str | None  # None: a top node, under the root
    down_bps: float
    up_bps: float
    origin: Origin

    def bps(self, down: bool) -> float:
        return self.down_bps if down else self.up_bps


def read_libreqos(network: Path | None, shaped: Path | None) -> ShapingInForce:
    """The shaping of a LibreQoS network.json and ShapedDevices.csv (either may be None)."""
    notes = Notes()
    nodes: list[_Node] = []
    if network is not None:
        data = _json(network)
        _walk(data, None, str(network), nodes)
    rows = devices(read_text(shaped, "a ShapedDevices.csv"), str(shaped)) if shaped else []
    if not nodes and not rows:
        raise ConfigError(str(network or shaped), "", "no nodes and no circuits")
    down: list[ShapedClass] = []
    up: list[ShapedClass] = []
    circuits = _circuits(rows, {n.name for n in nodes}, notes, down, up)
    top = [n for n in nodes if n.parent is None]
    first = Origin(str(network or shaped), 1)
    for out, is_down in ((down, True), (up, False)):
        total = sum(n.bps(is_down) for n in top) + sum(c.ceil or 0 for c in out if c.parent == ROOT)
        tree = [ShapedClass(ROOT, None, total, total, first)]
        tree += [
            ShapedClass(n.name, n.parent or ROOT, n.bps(is_down), n.bps(is_down), n.origin)
            for n in nodes
        ]
        out[:0] = tree
    notes.add(
        "the uplink is not in LibreQoS's network.json: the root is the sum of the top nodes "
        "(assumed)",
        first,
    )
    files = tuple(str(p) for p in (network, shaped) if p is not None)
    return ShapingInForce(
        "libreqos", files, tuple(down), tuple(up), tuple(circuits), tuple(notes.items)
    )


def _json(path: Path) -> dict[str, Any]:
    text = read_text(path, "a LibreQoS network.json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(path, f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        what = type(data).__name__.replace("list", "a JSON list").replace("dict", "")
        raise ConfigError(path, "", f"expected network.json's object of nodes, not {what}")
    if "Network" in data and isinstance(data["Network"], dict):
        raise ConfigError(
            path, "", "LibreQoS's generated queuingStructure.json: import network.json instead"
        )
    return data


def _walk(nodes: dict[str, Any], parent: str | None, path: str, out: list[_Node]) -> None:
    for name, node in nodes.items():
        if not isinstance(node, dict):
            raise ConfigError(path, name, "a node must be an object")
        keys = {k.lower(): v for k, v in node.items()}
        try:
            down = float(keys["downloadbandwidthmbps"]) * 1e6
            up = float(keys["uploadbandwidthmbps"]) * 1e6
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                path, name, "needs downloadBandwidthMbps and uploadBandwidthMbps"
            ) from None
        out.append(_Node(name, parent, down, up, Origin(path, 1)))
        children = keys.get("children")
        if isinstance(children, dict):
            _walk(children, name, path, out)


def _circuits(
    rows: list[Device],
    nodes: set[str],
    notes: Notes,
    down: list[ShapedClass],
    up: list[ShapedClass],
) -> list[Circuit]:
    groups: dict[str, list[Device]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row.circuit_id or f"\x00{i}", []).append(row)
    out = []
    for key, group in groups.items():
        first = group[0]
        name = first.circuit_name or first.device or key.strip("\x00")
        parent = first.parent if first.parent in nodes else ROOT
        if first.parent and first.parent not in nodes:
            notes.add(
                f"circuit {name!r}: parent node {first.parent!r} is not in network.json: "
                "put under the root",
                first.origin,
            )
        try:
            dmin, umin, dmax, umax = (mbps_value(v or "0") for v in first.rates)
        except ValueError as exc:
            raise refuse(first.origin, f"circuit {name!r}: {exc}") from None
        nets = tuple(n for d in group for a in d.addresses for n in (networks(a) or []))
        match = Match(nets)
        down.append(ShapedClass(name, parent, dmin, dmax or None, first.origin, match=match))
        up.append(ShapedClass(name, parent, umin, umax or None, first.origin, match=match))
        out.append(Circuit(name, nets, first.origin, name, name))
    return out
