"""A controller's plans on the kernel: `tc class change` of the regency's 50 leaves under traffic.

In a throw-away namespace the emulator's Shaper puts the regency's htb-weighted tree on a veth
device while a sender pushes UDP through one site's leaf, well below its guarantee; the
demand-following controller's plans, from readings of alternating busy sites, are then applied
one after the other. Every change must go in place (no rebuild, so no queue reset), the kernel
must show each plan's rates (Shaper.verify), the leaf must go on sending through the changes
and no leaf and no qdisc may count a drop. The decision-to-kernel time (the controller's
`decide` plus one `tc -batch` of class changes and the read-back) is printed for the report.
Needs root and mnexec, like the emulation tests.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.backends.mininet.shaper import Shaper, run_batch
from sim.model.scenario import load_scenario
from sim.shaping.control import Observation, Reading
from sim.shaping.demand_following import DemandFollowing, DemandFollowingParams
from sim.shaping.plan import DIRECTIONS
from sim.shaping.policies import root_bps
from sim.shaping.schedule import compile_schedule
from sim.shaping.tc import change_args
from tests.netns import veth_namespace

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.emulation

SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:  # about 2 Mbit/s: 250 datagrams of 1000 B a second
    s.sendto(b"x" * 1000, (sys.argv[1], 9))
    time.sleep(0.004)
"""


def _ns(ns: str, *argv: str) -> str:
    done = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr.strip()}"
    return done.stdout


def _plans(count: int):
    """The regency's first plan and the controller's answers to `count` alternating loads."""
    scenario = load_scenario(ROOT / "scenarios" / "kotim-baseline.toml")
    plan = compile_schedule(scenario).otherwise
    controller = DemandFollowing()
    controller.start(DemandFollowingParams(), scenario.sites, root_bps(scenario), plan)
    sites = [s.id for s in scenario.sites]
    return scenario, plan, controller, sites


def test_class_changes_of_50_leaves_go_in_place_without_drops(capsys) -> None:
    scenario, plan, controller, sites = _plans(20)
    assert len(plan.down.leaves) >= 45
    ips = {site: f"10.0.{1 + i // 250}.{1 + i % 250}" for i, site in enumerate(sites)}
    with veth_namespace("e-lan") as (ns, pid):
        _ns(ns, "ip", "link", "set", "e-lanp", "up")  # a carrier: frames leave through the qdisc
        _ns(ns, "ip", "addr", "add", "10.0.0.254/16", "dev", "e-lan")
        target = sites[0]
        mac = "02:00:00:00:00:01"
        _ns(ns, "ip", "neigh", "add", ips[target], "lladdr", mac, "dev", "e-lan")
        shaper = Shaper(pid, "e-lan", "dst", ips)
        shaper.apply(plan.down)
        sender = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c", SENDER, ips[target], "6"]
        )
        try:
            time.sleep(1.0)
            before = shaper.leaf_counters()[target].bytes
            timings, batch_only = [], []
            current = plan
            for k in range(20):
                busy = sites[k % 7 :: 7]  # a different seventh of the sites busy each time
                rates = {s: (40e6 if s in busy else 0.2e6) for s in sites}
                seen = Observation(
                    60.0 * (k + 1),
                    scenario.start,
                    60.0,
                    current,
                    {
                        d: {s: Reading(r * 60 / 8, 0, 0.0, None) for s, r in rates.items()}
                        for d in DIRECTIONS
                    },
                )
                began = time.perf_counter()
                decision = controller.decide(seen)
                assert decision is not None
                shaper.apply(decision.plan.down)
                timings.append(time.perf_counter() - began)
                current = decision.plan
                began = time.perf_counter()
                run_batch(pid, change_args(current.down, "e-lan", "test"))
                batch_only.append(time.perf_counter() - began)
            time.sleep(0.5)
            after = shaper.leaf_counters()
        finally:
            sender.wait(timeout=30)
        qdisc = _ns(ns, "tc", "-s", "qdisc", "show", "dev", "e-lan")
    assert shaper.rebuilds == 1 and shaper.changes == 20  # every plan went in place
    assert after[target].bytes > before + 100_000  # the leaf went on sending through them
    assert all(c.drops == 0 for c in after.values()), {
        s: c.drops for s, c in after.items() if c.drops
    }
    assert "dropped 0," in qdisc and all(
        "dropped 0," in line for line in qdisc.splitlines() if "dropped" in line
    ), qdisc
    with capsys.disabled():
        print(
            f"\ndecision to kernel, {len(current.down.classes)} classes: median "
            f"{statistics.median(timings) * 1e3:.1f} ms, max {max(timings) * 1e3:.1f} ms "
            f"(tc -batch of the changes alone: median {statistics.median(batch_only) * 1e3:.1f} ms)"
        )
    assert statistics.median(timings) < 0.5
