"""Real addresses: topology keys (subnets, hub interfaces, NAT) validated, used by the exports,
placeholders only where absent and flagged; `netlab export` of scenarios, plan files and the
optimiser's recommendation.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.model.topology import load_topology
from sim.shaping.deployment import deployment
from sim.shaping.export import export
from sim.shaping.schedule import compile_schedule
from tests.test_export import _sh_n

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "scenarios" / "example-small.toml"

TOPOLOGY = """
name = "t"
[hub]
name = "hub"
link_mbps = 100
{hub}
[[sites]]
id = "a"
name = "A"
kind = "office"
users = 2
access_mbps = 10
{a}
[[sites]]
id = "b"
name = "B"
kind = "office"
users = 1
access_mbps = 10
{b}
"""


def _topology(tmp_path: Path, hub: str = "", a: str = "", b: str = "") -> Path:
    path = tmp_path / "t.toml"
    path.write_text(TOPOLOGY.format(hub=hub, a=a, b=b))
    return path


@pytest.mark.parametrize(
    ("hub", "a", "b", "key", "problem"),
    [
        ("", 'subnets = ["10.0.1.5/24"]', "", "sites[0].subnets[0]", "not a valid IPv4 network"),
        ("", 'subnets = ["fe80::/64"]', "", "sites[0].subnets[0]", "IPv4"),
        ("", 'subnets = "10.0.1.0/24"', "", "sites[0].subnets", "valid list"),
        ("", 'subnets = ["10.0.0.0/16"]', 'subnets = ["10.0.3.0/24"]', "", "overlaps"),
        ('lan_interface = "eth0; reboot"', "", "", "hub.lan_interface", "pattern"),
        ('wan_interface = "a-name-longer-than-15"', "", "", "hub.wan_interface", "pattern"),
        ('lan_interface = "eth0"\nwan_interface = "eth0"', "", "", "hub", "must differ"),
        ('nat = "yes"', "", "", "hub.nat", "boolean"),
    ],
)
def test_bad_addresses_name_the_key(tmp_path, hub, a, b, key, problem) -> None:
    path = _topology(tmp_path, hub, a, b)
    with pytest.raises(ConfigError, match=problem) as caught:
        load_topology(path)
    assert caught.value.key == key


def test_placeholders_only_where_the_topology_is_silent(tmp_path: Path) -> None:
    path = _topology(tmp_path, 'wan_interface = "ether1"', a='subnets = ["10.0.1.0/24"]')
    scenario = load_scenario(SMALL)
    plan = compile_schedule(scenario).otherwise
    plan = plan.__class__(plan.policy, _only(plan.down), _only(plan.up))
    where = deployment(plan, load_topology(path))
    assert where.networks == {"a": ("10.0.1.0/24",), "b": ("10.0.2.0/24",)}  # skips a's
    assert where.placeholders == ("addresses of 1 site (b)", "lan_interface", "nat")
    assert where.wan_interface == "ether1" and where.lan_interface is None
    assert where.nat  # unknown: assume the hub masquerades (uploads then matched before NAT)


def _only(tree):
    """The tree cut down to sites a and b (renamed from the first two leaves)."""
    root, first, second = tree.root, *tree.leaves[:2]
    a = first.__class__("a", root.id, first.rate, first.ceil, first.prio, first.quantum, "a")
    b = second.__class__("b", root.id, second.rate, second.ceil, second.prio, None, "b")
    return tree.__class__((root, a, b))


def test_small_topology_deploys_its_own_addresses(tmp_path: Path) -> None:
    scenario = load_scenario(SMALL)
    plan = compile_schedule(scenario).otherwise
    where = deployment(plan, scenario.topology)
    assert where.networks["setda"] == ("10.20.1.0/24", "10.20.2.0/24")
    assert where.placeholders == ("addresses of 1 site (kec_seranau)",)
    tc = export(plan, "tc", where)
    _sh_n(tc, tmp_path)
    assert tc.count("match ip dst 10.20.2.0/24 flowid 1:") == 1
    assert "tc qdisc add dev ifb-netlab root handle 1: htb default 0" in tc  # nat = true
    assert "match ip src 10.20.2.0/24 flowid 1:" in tc
    ros = export(plan, "mikrotik", where)
    assert "in-interface=ether1 dst-address=10.20.2.0/24 new-packet-mark=netlab-down-setda" in ros


def test_without_nat_uploads_are_shaped_on_the_wan_side(tmp_path: Path) -> None:
    path = _topology(tmp_path, 'lan_interface = "br0"\nwan_interface = "wan"\nnat = false')
    plan = compile_schedule(load_scenario(SMALL)).otherwise
    plan = plan.__class__(plan.policy, _only(plan.down), _only(plan.up))
    tc = export(plan, "tc", deployment(plan, load_topology(path)))
    _sh_n(tc, tmp_path)
    assert "tc qdisc add dev wan root handle 1: htb default 0" in tc
    assert "ifb" not in tc and "ingress feeds" not in tc and "handle ffff: ingress" not in tc
    assert "(no NAT on the hub)" in tc


# ---------------------------------------------------------------------------------------------
# netlab export


def test_export_a_scenario_with_its_addresses(netlab, tmp_path: Path) -> None:
    out = tmp_path / "small.sh"
    result = netlab("export", str(SMALL), "--format", "tc", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "placeholders in the output: addresses of 1 site (kec_seranau)" in result.stderr
    assert "match ip dst 10.20.1.0/24" in out.read_text()
    _sh_n(out.read_text(), tmp_path)
    bad = netlab("export", str(SMALL), "--topology", str(ROOT / "topologies" / "small.toml"))
    assert bad.returncode == 2 and "--topology: only for a JSON plan" in bad.stderr


def test_export_the_optimisers_recommendation(netlab, tmp_path: Path) -> None:
    """recommendation.json as the optimiser writes it today, in a run folder with its manifest."""
    plan_json = tmp_path / "plan.json"
    assert netlab("export", str(SMALL), "-f", "json", "-o", str(plan_json)).returncode == 0
    run = tmp_path / "run"
    run.mkdir()
    plan = json.loads(plan_json.read_text())
    (run / "manifest.json").write_text(json.dumps({"seed": 1, "plans": [plan]}))
    (run / "recommendation.json").write_text(
        json.dumps({"feasible": True, "policy": plan["policy"], "mbps": 100.0, "split": []})
    )
    topology = str(ROOT / "topologies" / "small.toml")
    # htb-weighted splits by quantum: RouterOS scripts of it are written only when forced
    from_scenario = netlab("export", str(SMALL), "-f", "mikrotik", "--force")
    recommendation = str(run / "recommendation.json")
    from_run = netlab("export", recommendation, "-f", "mikrotik", "-t", topology, "--force")
    assert from_run.returncode == 0, from_run.stderr
    assert from_run.stdout == from_scenario.stdout
    (run / "manifest.json").write_text(json.dumps({"plans": [plan | {"down": []}]}))
    bad = netlab("export", str(run / "recommendation.json"))
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith(
        "manifest.json: plans[0].down: no root: the tree has no classes"
    )
