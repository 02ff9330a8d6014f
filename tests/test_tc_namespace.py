"""The exported tc script and the emulator build the same tree: both applied in one namespace.

The script (`netlab export --format tc`) runs on one pair of veth devices, the emulator's
Shaper on another, for the same plan; `tc -d class show`, `tc qdisc show` and `tc filter show`
must print the same lines. Needs root (network namespaces) and mnexec (the Shaper enters a
namespace with it), like the emulation tests.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from sim.backends.mininet.shaper import Shaper
from sim.model.scenario import load_scenario
from sim.shaping.deployment import Deployment
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan
from sim.shaping.schedule import compile_schedule
from sim.shaping.tc_script import IFB_DEV, to_tc_script

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
    """A fresh namespace `nlt-...` with veth pairs s-lan/s-wan and e-lan/e-wan; removed after."""
    if os.geteuid() != 0 or shutil.which("mnexec") is None:
        pytest.skip("needs root and mnexec (make system-deps)")
    ns = f"nlt-{os.getpid()}-{secrets.token_hex(3)}"
    _run(["ip", "netns", "add", ns])
    holder = None
    try:
        for a, b in (("s-lan", "s-peer"), ("s-wan", "s-wpeer"), ("e-lan", "e-peer")):
            _run(["ip", "-n", ns, "link", "add", a, "type", "veth", "peer", "name", b])
        _run(["ip", "-n", ns, "link", "add", "e-wan", "type", "veth", "peer", "name", "e-wpeer"])
        for dev in ("s-lan", "s-wan", "e-lan", "e-wan"):
            _run(["ip", "-n", ns, "link", "set", dev, "up"])
        holder = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "600"])
        yield ns, holder.pid
    finally:
        if holder is not None:
            holder.kill()
            holder.wait(timeout=30)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=60)
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=60)
    assert ns not in listed.stdout


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
