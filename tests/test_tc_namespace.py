"""The exported tc script and the emulator build the same tree: both applied in one namespace.

The script (`netlab export --format tc`) runs on one pair of veth devices, the emulator's
Shaper on another, for the same plan; `tc -d class show`, `tc qdisc show` and `tc filter show`
must print the same lines. Then the script on a routed hub between two offices and an
internet host: uploads taken from the LAN's ingress (before NAT) and downloads land in the
sending site's leaf, office-to-office traffic in neither tree. Needs root (namespaces), and
mnexec (the Shaper enters a namespace with it) and ping, like the emulation tests.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from sim.backends.mininet.shaper import Shaper, parse_classes
from sim.model.scenario import load_scenario
from sim.shaping.deployment import Deployment
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan
from sim.shaping.schedule import compile_schedule
from sim.shaping.tc_script import IFB_DEV, to_tc_script
from tests.netns import veth_namespace

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.emulation


def _scenario_plan(name: str) -> ShapingPlan:
    return compile_schedule(load_scenario(ROOT / "scenarios" / f"{name}.toml")).plans[0]


def _small_quanta_plan() -> ShapingPlan:
    """Two tiers, explicit leaf quanta 10 kB : 30 kB (scaled on export) and a kernel default."""
    classes = (
        HtbClass("root", None, 100e6, 100e6),
        HtbClass("tier_a", "root", 60e6, 100e6),
        HtbClass("a", "tier_a", 30e6, 100e6, 1, 10_000, "a"),
        HtbClass("b", "tier_a", 30e6, 80e6, 1, 30_000, "b"),
        HtbClass("c", "root", 20e6, 50e6, 2, None, "c"),
    )
    return ShapingPlan("hand-made", ClassTree(classes), ClassTree(classes))


PLANS = {
    "kotim-baseline": lambda: _scenario_plan("kotim-baseline"),
    "example-small": lambda: _scenario_plan("example-small"),
    "small-quanta": _small_quanta_plan,
}


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr.strip()}"
    return done.stdout


@pytest.fixture
def namespace():
    """A fresh namespace with veth devices s-lan/s-wan and e-lan/e-wan; removed after."""
    with veth_namespace("s-lan", "s-wan", "e-lan", "e-wan") as where:
        yield where


def _show(ns: str, what: str, dev: str) -> list[str]:
    """What tc prints about dev, without the device's name and reference count."""
    text = _run(["ip", "netns", "exec", ns, "tc", "-d", what, "show", "dev", dev])
    lines = (re.sub(r" refcnt \d+", "", line.replace(dev, "DEV")) for line in text.splitlines())
    return sorted(line.strip() for line in lines if line.strip())


@pytest.mark.parametrize("nat", [False, True], ids=["no-nat", "nat"])
@pytest.mark.parametrize("name", list(PLANS))
def test_exported_script_builds_the_emulators_tree(namespace, name, nat, tmp_path) -> None:
    ns, pid = namespace
    plan = PLANS[name]()
    sites = sorted({c.site for d in ("down", "up") for c in plan.tree(d).leaves if c.site})
    ips = {site: f"10.0.{1 + i // 250}.{1 + i % 250}" for i, site in enumerate(sites)}
    where = Deployment({s: (f"{ip}/32",) for s, ip in ips.items()}, "s-lan", "s-wan", nat, ())
    script = tmp_path / "plan.sh"
    script.write_text(to_tc_script(plan, where))
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    _run(["ip", "netns", "exec", ns, "sh", str(script)])
    _run(["ip", "netns", "exec", ns, "sh", str(script)])  # again: it replaces what it put there
    shapers = {"down": Shaper(pid, "e-lan", "dst", ips), "up": Shaper(pid, "e-wan", "src", ips)}
    for direction, shaper in shapers.items():
        shaper.apply(plan.tree(direction))
    up_dev = IFB_DEV if nat else "s-wan"
    for script_dev, emulator_dev in (("s-lan", "e-lan"), (up_dev, "e-wan")):
        classes = _show(ns, "class", script_dev)
        assert len(classes) == len(plan.down.classes) + 1  # and the catch-all leaf
        assert classes == _show(ns, "class", emulator_dev)
        qdiscs = [q for q in _show(ns, "qdisc", script_dev) if not q.startswith("qdisc ingress")]
        assert qdiscs == _show(ns, "qdisc", emulator_dev)
        assert _show(ns, "filter", script_dev) == _show(ns, "filter", emulator_dev)
    if nat:  # uploads reach the IFB from the LAN's ingress; nothing shapes the WAN side
        show = ["ip", "netns", "exec", ns, "tc", "filter", "show", "dev", "s-lan", "ingress"]
        ingress = _run(show)
        assert ingress.count(f"Redirect to device {IFB_DEV}") == 1
        assert ingress.count("*flowid ffff:1") == len(sites)  # to a site: stays on the LAN
        assert "htb" not in _run(["ip", "netns", "exec", ns, "tc", "qdisc", "show", "dev", "s-wan"])


def _ns(ns: str, *argv: str) -> str:
    return _run(["ip", "netns", "exec", ns, *argv])


@pytest.fixture
def routed():
    """Namespaces hub, two sites (10.20.1.2 and 10.20.2.2 on the hub's bridge) and an internet
    host (198.51.100.2 beyond the hub's wan0), with routes both ways; all removed after."""
    if os.geteuid() != 0 or shutil.which("ping") is None:
        pytest.skip("needs root and ping (make system-deps)")
    tag = f"nlt-{os.getpid()}-{secrets.token_hex(2)}"
    names = {role: f"{tag}-{role}" for role in ("hub", "a", "b", "net")}
    try:
        for ns in names.values():
            _run(["ip", "netns", "add", ns])
            _ns(ns, "ip", "link", "set", "lo", "up")
        hub = names["hub"]
        _ns(hub, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        _ns(hub, "ip", "link", "add", "lanbr", "type", "bridge")
        for site, number in (("a", 1), ("b", 2)):
            port = f"p{site}"
            _run(["ip", "-n", hub, "link", "add", port, "type", "veth", "peer", "name", "eth0"])
            _run(["ip", "-n", hub, "link", "set", "eth0", "netns", names[site]])
            _ns(hub, "ip", "link", "set", port, "master", "lanbr", "up")
            _ns(hub, "ip", "addr", "add", f"10.20.{number}.1/24", "dev", "lanbr")
            _ns(names[site], "ip", "addr", "add", f"10.20.{number}.2/24", "dev", "eth0")
            _ns(names[site], "ip", "link", "set", "eth0", "up")
            _ns(names[site], "ip", "route", "add", "default", "via", f"10.20.{number}.1")
        _ns(hub, "ip", "link", "set", "lanbr", "up")
        _run(["ip", "-n", hub, "link", "add", "wan0", "type", "veth", "peer", "name", "eth0"])
        _run(["ip", "-n", hub, "link", "set", "eth0", "netns", names["net"]])
        _ns(hub, "ip", "addr", "add", "198.51.100.1/30", "dev", "wan0")
        _ns(hub, "ip", "link", "set", "wan0", "up")
        _ns(names["net"], "ip", "addr", "add", "198.51.100.2/30", "dev", "eth0")
        _ns(names["net"], "ip", "link", "set", "eth0", "up")
        _ns(names["net"], "ip", "route", "add", "10.20.0.0/16", "via", "198.51.100.1")
        yield names
    finally:
        for ns in names.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=60)
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=60)
    assert tag not in listed.stdout


def _sent(ns: str, dev: str) -> dict[str, int]:
    """Bytes sent per class on dev."""
    shown = parse_classes(_ns(ns, "tc", "-s", "class", "show", "dev", dev))
    return {classid: shown_class.counters.bytes for classid, shown_class in shown.items()}


def _ping(ns: str, address: str) -> None:
    _ns(ns, "ping", "-q", "-c", "5", "-i", "0.05", "-s", "1000", "-W", "2", address)


def test_uploads_are_classified_before_nat_and_offices_bypass(routed, tmp_path) -> None:
    """Behind the IFB: a site's uploads land in its own class, its downloads in its own leaf,
    and what one office sends another is counted by neither tree."""
    hub = routed["hub"]
    tree = ClassTree(
        (
            HtbClass("root", None, 100e6, 100e6),
            HtbClass("a", "root", 10e6, 50e6, 0, None, "a"),
            HtbClass("b", "root", 10e6, 50e6, 0, None, "b"),
        )
    )
    where = Deployment({"a": ("10.20.1.0/24",), "b": ("10.20.2.0/24",)}, "lanbr", "wan0", True, ())
    script = tmp_path / "plan.sh"
    script.write_text(to_tc_script(ShapingPlan("p", tree, tree), where))
    _ns(hub, "sh", str(script))
    a, b = "1:2", "1:3"  # the sites' leaves, in both trees
    _ping(routed["a"], "10.20.2.2")  # office to office
    assert _sent(hub, IFB_DEV)[a] == 0 and _sent(hub, "lanbr")[b] == 0
    _ping(routed["a"], "198.51.100.2")  # to the internet and back
    uploads, downloads = _sent(hub, IFB_DEV), _sent(hub, "lanbr")
    frame = 1000 + 8 + 20 + 14  # ICMP payload + ICMP + IP + Ethernet header
    assert uploads[a] == 5 * frame and uploads[b] == 0 and uploads["1:fffe"] == 0
    assert downloads[a] == 5 * frame and downloads[b] == 0
