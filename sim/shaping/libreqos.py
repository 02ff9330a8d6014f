"""A plan as LibreQoS's two files: network.json (the tiers as nodes) and ShapedDevices.csv
(the sites as circuits), in the layout LibreQoS 1.4 and 1.5 read.

How the plan maps, and what LibreQoS cannot hold (said in the CSV's `#` header lines, which
LibreQoS skips):

- One tree for both directions: every node and circuit carries a download and an upload
  figure, so the plan's two trees must have the same classes, parents and sites (netlab's
  policies give that); a plan whose trees differ is refused.
- The plan's root is the one top node, named by its id, at the root's ceiling, so all sites
  stay under the purchase; LibreQoS's own uplink (`/etc/lqos.conf`, uplink_bandwidth_mbps and
  downlink_bandwidth_mbps) must be at least that. Inner classes are nodes
  (`downloadBandwidthMbps`, `uploadBandwidthMbps`: their ceilings, `type` "site").
- LibreQoS gives a node no guarantee of its own (it sets the node's HTB rate from its
  ceiling), every class the same priority and its own quanta: the plan's inner guarantees,
  priorities and quantum weights are not deployed, and the header says which the plan has.
- Each leaf is a circuit: Circuit ID and Name are the site id, one device holds the site's
  networks (IPv4 and IPv6 columns), Parent Node is its parent class, min is the guarantee and
  max the ceiling, in Mbit/s with decimals (LibreQoS 1.5 reads decimals, at least 0.1 for a
  min and 0.2 for a max; older versions integers).
- A per-user cap (`per_user_bps`) has no column: LibreQoS shapes a circuit as one class.
"""

from __future__ import annotations

import csv
import io
import json

from sim.shaping.deployment import Deployment
from sim.shaping.notes import comment, notes
from sim.shaping.plan import DIRECTIONS, ClassTree, HtbClass, ShapingPlan
from sim.shaping.planfile import plan_from_dict

NETWORK_JSON = "network.json"
SHAPED_DEVICES = "ShapedDevices.csv"
HEADER = [
    "Circuit ID",
    "Circuit Name",
    "Device ID",
    "Device Name",
    "Parent Node",
    "MAC",
    "IPv4",
    "IPv6",
    "Download Min Mbps",
    "Upload Min Mbps",
    "Download Max Mbps",
    "Upload Max Mbps",
    "Comment",
]
MIN_MBPS, MIN_MAX_MBPS = 0.1, 0.2  # LibreQoS 1.5 refuses a circuit's min and max below these


def to_libreqos(plan: ShapingPlan, where: Deployment) -> dict[str, str]:
    """network.json and ShapedDevices.csv (file name -> text) for plan on the sites `where` says."""
    plan = plan_from_dict(plan.to_dict())  # only validated identifiers and numbers
    _same_shape(plan)
    return {
        NETWORK_JSON: json.dumps(_nodes(plan, plan.down.root.id), indent=2) + "\n",
        SHAPED_DEVICES: _devices(plan, where),
    }


def _same_shape(plan: ShapingPlan) -> None:
    """LibreQoS holds one tree for both directions: refuse a plan whose trees differ."""
    shapes = [[(c.id, c.parent, c.site) for c in plan.tree(d).classes] for d in DIRECTIONS]
    if shapes[0] != shapes[1]:
        raise ValueError(
            "LibreQoS keeps one tree for both directions, and this plan's download and upload "
            "trees differ (classes, parents or sites): export it to tc or mikrotik instead"
        )


def _mbps(bps: float) -> float:
    """bits/s as Mbit/s to the bit (six decimals), written without a needless fraction."""
    value = round(bps / 1e6, 6)
    return int(value) if value == int(value) else value


def _nodes(plan: ShapingPlan, class_id: str) -> dict[str, object]:
    """The node of an inner class and the nodes under it, as network.json nests them."""
    down, up = plan.down.by_id(class_id), plan.up.by_id(class_id)
    node: dict[str, object] = {
        "downloadBandwidthMbps": _mbps(down.ceil),
        "uploadBandwidthMbps": _mbps(up.ceil),
        "type": "site",
    }
    inner = [c.id for c in plan.down.children(class_id) if c.site is None]
    if inner:
        node["children"] = {k: v for cid in inner for k, v in _nodes(plan, cid).items()}
    return {class_id: node}


def _devices(plan: ShapingPlan, where: Deployment) -> str:
    """The CSV: header comments, the column header, one row per site."""
    text = io.StringIO()
    for line in _header(plan, where):
        text.write(line + "\n")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    for down in plan.down.leaves:
        assert down.site is not None
        up = plan.up.by_id(down.id)
        networks = where.networks[down.site]
        v4 = ", ".join(n for n in networks if ":" not in n)
        v6 = ", ".join(n for n in networks if ":" in n)
        rates = [down.rate, up.rate, down.ceil, up.ceil]
        row = [down.site, down.site, down.site, down.site, down.parent, "", v4, v6]
        writer.writerow([*row, *(_mbps(r) for r in rates), f"netlab class {down.id}"])
    return text.getvalue()


def _header(plan: ShapingPlan, where: Deployment) -> list[str]:
    """`#` lines: what the files hold, what LibreQoS does not take from the plan, warnings."""
    root = plan.down.root
    out = [
        f"# netlab shaping plan {plan.policy!r} for LibreQoS: {SHAPED_DEVICES} (sites as",
        f"# circuits) with {NETWORK_JSON} (node {root.id!r}: the purchase; tiers under it).",
        "# Rates: L2 Mbit/s; min = guarantee, max = ceiling. Set lqos.conf's downlink/uplink",
        f"# bandwidth to at least {_mbps(root.ceil)}/{_mbps(plan.up.root.ceil)} Mbit/s.",
    ]
    return out + [f"# {line}" for line in _not_deployed(plan)] + notes(plan, where, [], "")


def _not_deployed(plan: ShapingPlan) -> list[str]:
    """What the plan has that LibreQoS's files cannot carry, one line each."""
    out: list[str] = []
    trees = [plan.tree(d) for d in DIRECTIONS]
    if any(c.rate < c.ceil for t in trees for c in _inner(t)[1:]):
        out.append("NOT DEPLOYED: guarantees of inner classes (LibreQoS derives a node's rate).")
    if len({c.prio for t in trees for c in t.leaves}) > 1:
        out.append("NOT DEPLOYED: priorities (LibreQoS gives every circuit the same).")
    if len({c.quantum for t in trees for c in t.leaves}) > 1:
        out.append("NOT DEPLOYED: quantum weights (LibreQoS derives quanta from rates).")
    capped = sorted({c.id for t in trees for c in t.leaves if c.per_user_bps is not None})
    if capped:
        shown = comment(", ".join(capped[:5]) + (", ..." if len(capped) > 5 else ""))
        out.append(f"NOT DEPLOYED: per-user caps of {shown} (a circuit is one class).")
    low = [
        c for t in trees for c in t.leaves if c.rate < MIN_MBPS * 1e6 or c.ceil < MIN_MAX_MBPS * 1e6
    ]
    if low:
        out.append(
            f"WARNING: {len(low)} circuit figures under LibreQoS 1.5's least ({MIN_MBPS} min,"
            f" {MIN_MAX_MBPS} max Mbit/s): raise them or LibreQoS refuses those rows."
        )
    return out


def _inner(tree: ClassTree) -> list[HtbClass]:
    return [c for c in tree.classes if c.site is None]
