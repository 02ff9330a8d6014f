"""The RouterOS export, structurally: what is deployed is what netlab simulates.

One test per point: priorities on leaves only, a catch-all leaf under each root, marks by the
WAN interface (traffic between offices unmarked), a leaf queue type, what the missing quantum
means, and uploads matched before source NAT (forward chain).
"""

from __future__ import annotations

import re
import shlex

import pytest

from sim.model.topology import Topology
from sim.shaping.deployment import Deployment, deployment
from sim.shaping.export import export
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan, kernel_quantum
from sim.shaping.routeros import to_routeros
from sim.shaping.tc import queue_packets
from tests.test_export import ALL_PLANS, PLAN_IDS, PLANS


def _sections(script: str) -> dict[str, list[dict[str, str]]]:
    """{menu: [fields of each `add` line]}; menus are the `/ip firewall mangle` style lines."""
    sections: dict[str, list[dict[str, str]]] = {}
    menu = None
    for line in script.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("/") and " remove " not in line:
            menu = line
            sections[menu] = []
        elif line.startswith("add "):
            assert menu is not None
            sections[menu].append(dict(t.split("=", 1) for t in shlex.split(line)[1:]))
        else:
            assert line.startswith("/") and " remove [find where " in line, line
    return sections


def _where(plan: ShapingPlan, wan: str = "ether9") -> Deployment:
    return Deployment(deployment(plan).networks, "bridge", wan, True, ())


def _parsed(plan: ShapingPlan, wan: str = "ether9"):
    sections = _sections(to_routeros(plan, _where(plan, wan)))
    assert list(sections) == ["/queue type", "/ip firewall mangle", "/queue tree"]
    return sections["/queue type"], sections["/ip firewall mangle"], sections["/queue tree"]


def _leaves(queues: list[dict[str, str]]) -> list[dict[str, str]]:
    return [q for q in queues if "packet-mark" in q]


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_tree_mirrors_the_plan_with_priorities_on_leaves_only(plan: ShapingPlan) -> None:
    _, _, queues = _parsed(plan)
    by_name = {q["name"]: q for q in queues}
    assert len(by_name) == len(queues)
    for direction in ("down", "up"):
        tree = plan.tree(direction)
        root = by_name[f"netlab-{direction}"]
        assert root["parent"] == "global" and int(root["max-limit"]) == round(tree.root.ceil)
        for c in tree.classes[1:]:
            q = by_name[f"netlab-{direction}-{c.id}"]
            parent = "" if c.parent == tree.root.id else f"-{c.parent}"
            assert q["parent"] == f"netlab-{direction}{parent}"
            assert (int(q["limit-at"]), int(q["max-limit"])) == (round(c.rate), round(c.ceil))
            if c.site is None:  # RouterOS ignores a parent's priority: none is written
                assert "priority" not in q and "packet-mark" not in q
            else:
                assert q["priority"] == str(c.prio + 1)
                assert q["packet-mark"] == f"netlab-{direction}-{c.site}"


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_catch_all_leaf_keeps_unmatched_traffic_under_the_root(plan: ShapingPlan) -> None:
    _, mangle, queues = _parsed(plan)
    for direction, side in (("down", "in-interface"), ("up", "out-interface")):
        mark = f"netlab-{direction}-no-site"
        [leaf] = [q for q in queues if q.get("packet-mark") == mark]
        assert leaf["parent"] == f"netlab-{direction}" and leaf["priority"] == "8"
        root = plan.tree(direction).root
        assert int(leaf["limit-at"]) == round(min(1e6, root.rate / 100))
        assert int(leaf["max-limit"]) == round(root.ceil)
        rules = [r for r in mangle if side in r]
        assert rules[-1]["new-packet-mark"] == mark  # after every site's rule ...
        assert "dst-address" not in rules[-1] and "src-address" not in rules[-1]  # ... the rest
        assert all(r["new-packet-mark"] != mark for r in rules[:-1])


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_marks_by_wan_interface_before_source_nat(plan: ShapingPlan) -> None:
    _, mangle, queues = _parsed(plan, wan="sfp-wan")
    networks = _where(plan).networks
    for rule in mangle:
        # forward runs before src-nat: uploads still carry the sites' own source addresses
        assert rule["chain"] == "forward" and rule["action"] == "mark-packet"
        assert rule["passthrough"] == "no" and rule["comment"].startswith("netlab: ")
        down = rule.get("in-interface") == "sfp-wan"
        up = rule.get("out-interface") == "sfp-wan"
        assert down != up, rule  # exactly one side: LAN-to-LAN traffic matches neither
        site = rule["new-packet-mark"].split("-", 2)[2]
        if site != "no-site":
            field, other = (
                ("dst-address", "src-address") if down else ("src-address", "dst-address")
            )
            assert rule[field] in networks[site] and other not in rule
    marks = {r["new-packet-mark"] for r in mangle}
    assert marks == {q["packet-mark"] for q in _leaves(queues)}


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_every_leaf_has_a_fifo_sized_like_the_tc_export(plan: ShapingPlan) -> None:
    types, _, queues = _parsed(plan)
    kinds = {t["name"]: t for t in types}
    assert all(t["kind"] == "pfifo" for t in types)
    leaves = _leaves(queues)
    assert {q["queue"] for q in leaves} == set(kinds)
    for q in leaves:
        assert int(kinds[q["queue"]]["pfifo-limit"]) == queue_packets(float(q["max-limit"]))
    assert all("queue" not in q for q in queues if "packet-mark" not in q)


def _weighted(*quanta: int | None) -> ShapingPlan:
    leaves = [HtbClass(f"s{i}", "root", 1e6, 10e6, 0, q, f"s{i}") for i, q in enumerate(quanta)]
    tree = ClassTree((HtbClass("root", None, 10e6, 10e6), *leaves))
    return ShapingPlan("p", tree, tree)


def test_quantum_comment_and_warning_where_the_plan_weights_by_quantum() -> None:
    equal = to_routeros(_weighted(100_000, 100_000), _where(_weighted(100_000, 100_000)))
    assert "# RouterOS has no quantum setting" in equal and "WARNING: downloads" not in equal
    plan = _weighted(100_000, 300_000)
    text = to_routeros(plan, _where(plan))
    assert "# WARNING: downloads at priority 1 are weighted by quantum (100000..300000" in text
    assert "# WARNING: uploads at priority 1" in text
    for name, plan in PLANS:
        text = to_routeros(plan, _where(plan))
        unequal = any(
            len({kernel_quantum(c) for c in plan.down.leaves if c.prio == p}) > 1 for p in range(8)
        )
        assert ("# WARNING: downloads at priority" in text) == unequal, name


def test_nat_is_explained_and_real_addresses_are_used() -> None:
    plan = next(p for name, p in PLANS if "small-htb-priority" in name)
    topology = Topology.model_validate(
        {
            "name": "t",
            "hub": {
                "name": "h",
                "link_mbps": 100,
                "lan_interface": "bridge1",
                "wan_interface": "pppoe-out1",
                "nat": True,
            },
            "sites": [
                {
                    "id": c.site,
                    "name": c.site,
                    "kind": "office",
                    "users": 1,
                    "access_mbps": 10,
                    "subnets": [f"192.168.{i}.0/24"],
                }
                for i, c in enumerate(plan.down.leaves)
            ],
        }
    )
    text = export(plan, "mikrotik", deployment(plan, topology))
    assert "BEFORE src-nat" in text and "PLACEHOLDERS" not in text
    assert "in-interface=pppoe-out1 dst-address=192.168.0.0/24" in text
    assert "out-interface=pppoe-out1 src-address=192.168.0.0/24" in text
    placeholder = export(plan, "mikrotik")
    assert re.search(r"WARNING: PLACEHOLDERS.*addresses of 8 sites.*wan_interface", placeholder)
    assert "in-interface=ether1 dst-address=10.0.1.0/24" in placeholder
