"""MininetBackend: the Backend interface on real hosts, kernel HTB and real TCP, in real time.

Life cycle: `MininetBackend(env, spec, overhead)` checks the machine, draws a run tag, starts the
network (topo.py), caps the upstream and access links, starts the agents and a SimPy process
that polls their events; `apply_plan` puts a plan on the hub (shaper.py); `transfer` asks a
site's agent for a download or upload and returns an event that fires when the receiving agent
reports the last byte (elastic), or when the duration is over (paced); `close()` stops agents
and network and removes everything the run created. Use it as a context manager or call
close() in a finally block; SIGTERM handling is emulate()'s job (cleanup.signals_raise).

Events from agent threads reach SimPy only through a queue drained by the polling process, so
SimPy state is touched from the SimPy thread alone. A flow's end time is the agent's own
timestamp mapped onto the environment's clock, not the poll instant.

`scale` multiplies every rate on the wire (links, plan, paced flows) and every flow size, and
divides what is measured by it, so a scaled run reads like an unscaled one in half the bytes.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import simpy

from sim.backends.mininet import cleanup, shaper, topo
from sim.backends.mininet.agent_client import Agents
from sim.backends.mininet.info import CpuLoad, Emulated, EmulationInfo
from sim.model.flow import Direction, Flow, FlowStatus
from sim.shaping.control import LeafStates
from sim.shaping.plan import DIRECTIONS, ClassTree, ShapingPlan
from sim.shaping.tc import link_args

POLL_S = 0.02  # how often agent events are delivered into SimPy
CPU_SAMPLE_S = 1.0
CPU_BOUND = 0.9  # busy share of all cores above which the run counts as CPU-bound
# Linux's and most clients' default. Set per socket by the agents: a namespace cannot make it
# its default unless the machine allows it (tcp_allowed_congestion_control). With BBR (no fq
# to pace it) the access-capped fidelity case measured 6-14 % under the access rate.
CONGESTION_CONTROL = "cubic"
AT_RATE = 0.95  # a paced flow is "at rate" in a progress interval when it got this share
GSO_SEGMENTS = 4  # the largest aggregate a host's TCP hands its queues, in segments (see below)


def scale_tree(tree: ClassTree, factor: float) -> ClassTree:
    if factor == 1.0:
        return tree
    return ClassTree(
        tuple(replace(c, rate=c.rate * factor, ceil=c.ceil * factor) for c in tree.classes)
    )


def _limit_aggregates(host: Any) -> None:
    """Cap the host's GSO aggregates at GSO_SEGMENTS segments.

    The FIFOs are counted in bytes, so aggregates do not swell them, and one-MSS packets (what
    the emulator used to send) cost the regency at full rate 3.5 cores per Gbit/s. Unbounded
    aggregates (up to 44 segments) cost 0.6-1.5, but a tail drop then takes a 64 kB burst of one
    flow, and a leaf of four flows lost its backlog often enough that the fidelity case of
    leaf quanta 1 : 3 measured 27.1-30.0 Mbit/s of its 30 in ten runs; capped at 4 segments it
    measured 29.6-30.4 in eight, and the regency costs 1.5-1.9 (with the agents' low-water mark).
    """
    for name in host.intfNames():
        if name != "lo":
            said = host.cmd(f"ip link set dev {name} gso_max_segs {GSO_SEGMENTS}").strip()
            if said:
                raise cleanup.EmulationUnavailable(f"cannot limit GSO on {name}: {said}")


class CpuMeter:
    """Share of all cores busy, from /proc/stat, between successive samples.

    Time spent by niced processes counts as free: they yield a core to the emulation as soon
    as it wants one (a nice-19 process gets 1.5 % of a contended core), so background work
    run under `nice` does not make an emulation look CPU-bound."""

    def __init__(self) -> None:
        self.last = self._read()
        self.samples: list[float] = []

    @staticmethod
    def _read() -> tuple[float, float]:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:9]]  # guest time is in user
        nice, idle, iowait = fields[1], fields[3], fields[4]
        return sum(fields), nice + idle + iowait

    @classmethod
    def busy_core_seconds(cls) -> float:
        """Core-seconds all cores have been busy since boot (niced work counted as free)."""
        total, free = cls._read()
        return (total - free) / os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        total, idle = self._read()
        d_total, d_idle = total - self.last[0], idle - self.last[1]
        self.last = (total, idle)
        if d_total > 0:
            self.samples.append(1.0 - d_idle / d_total)


class MininetBackend:
    """Flows on a Mininet network of the scenario (see the module docstring)."""

    name = "mininet"

    def __init__(
        self, env: simpy.Environment, spec: topo.NetSpec, overhead: float, scale: float = 1.0
    ) -> None:
        began = time.monotonic()
        self.env = env
        self.spec = spec
        self.overhead = overhead
        self.scale = scale
        self.flows: list[Flow] = []
        self.warnings: list[str] = []
        self._active: dict[int, Flow] = {}
        self._ended: dict[int, Flow] = {}  # ended in SimPy, final byte count may still come
        self._seen: dict[int, tuple[float, float]] = {}  # paced flow -> (agent t, bytes)
        self._closed = False
        self.features = cleanup.check_environment()
        self.run = cleanup.new_run()
        self.net: Any = None
        self.agents: Agents | None = None
        try:
            self._bring_up()
        except BaseException:
            self.close()
            raise
        self.info = EmulationInfo(
            run_tag=self.run.tag,
            scale=scale,
            hosts=len(spec.sites) + 2,
            tcp_congestion_control=CONGESTION_CONTROL,
            bring_up_s=time.monotonic() - began,
            bring_up_phases_s=self.phases,
            emulated=Emulated(
                htb_shaping=True,
                access_links=True,
                upstream_link=False,  # the root stands for it (see _bring_up)
                delay=self.features["netem"],
                loss=False,
                note=(
                    "latency emulated with netem on access links"
                    if self.features["netem"]
                    else "kernel has no netem: link delay not emulated (RTT ~0.1 ms)"
                )
                + "; loss is not part of the site model; the upstream link is the hub's root "
                "class, shaped just below the purchase",
            ),
        )
        self._cpu = CpuMeter()
        env.process(self._poll())
        env.process(self._sample_cpu())
        if isinstance(env, simpy.rt.RealtimeEnvironment) and env.now == 0:
            env.sync()

    # -- bring-up and tear-down ------------------------------------------------------------

    def _bring_up(self) -> None:
        spec = self.spec.scaled(self.scale)
        began = time.monotonic()
        self.net = topo.start_network(spec, self.run.tag)
        self.phases = {"network_s": time.monotonic() - began}
        names = self.net.names
        self.names = names
        hub = self.net.get(names.hub)
        internet = self.net.get(names.internet)
        delay = self.features["netem"]
        # The upstream link is not shaped: the root (a little below the purchase) is its
        # bottleneck, as in the fluid model. A shaper on the internet host's interface would sit
        # under every download's sender, whose TCP small-queue limit (about 1 ms of each flow's
        # rate in the local queue) then shares it per flow: a prio-0 leaf with 4 of 32 flows
        # measured 24-36 Mbit/s of its 40 until the shaper went.
        ports: list[list[str]] = []  # bridge ports live in this namespace: one batch
        jobs: list[tuple[int | None, list[list[str]]]] = []
        for index, site in enumerate(spec.sites):
            half = site.latency_ms / 2 if delay else 0.0
            ports += link_args(names.port(index), site.access_bps, half)
            pid = self.net.get(names.site(index)).pid
            jobs.append((pid, link_args(names.site_intf(index), site.access_bps, half)))
        shaper.run_batches([(None, ports), *jobs])
        for host in self.net.hosts:
            _limit_aggregates(host)
        self.phases["links_s"] = time.monotonic() - began - self.phases["network_s"]
        ips = {site.id: topo.site_ip(i) for i, site in enumerate(spec.sites)}
        self.shapers = {
            "down": shaper.Shaper(hub.pid, names.hub_lan, "dst", ips),
            "up": shaper.Shaper(hub.pid, names.hub_wan, "src", ips),
        }
        hosts = {site.id: self.net.get(names.site(i)) for i, site in enumerate(spec.sites)}
        self.agents = Agents(internet, hosts, self.run.tag, topo.WAN_INTERNET, CONGESTION_CONTROL)
        self.phases["agents_s"] = time.monotonic() - began - sum(self.phases.values())

    def close(self) -> dict[str, Any]:
        """Stop agents and network, remove everything of this run (idempotent)."""
        if self._closed:
            return {}
        self._closed = True
        began = time.monotonic()
        if self.agents is not None:
            with contextlib.suppress(Exception):
                self.agents.stop()
        if self.net is not None:
            with contextlib.suppress(Exception):
                self.net.stop()
        removed = self.run.close()
        if hasattr(self, "info"):
            self.info.tear_down_s = time.monotonic() - began
        return removed

    def __enter__(self) -> MininetBackend:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the Backend interface -------------------------------------------------------------

    def apply_plan(self, plan: ShapingPlan) -> None:
        for direction in DIRECTIONS:
            hub_shaper = self.shapers[direction]
            hub_shaper.apply(scale_tree(plan.tree(direction), self.scale))
            self.warnings += [w for w in hub_shaper.warnings if w not in self.warnings]
        if isinstance(self.env, simpy.rt.RealtimeEnvironment) and self.env.now == 0:
            self.env.sync()

    def transfer(self, flow: Flow, on_end: Callable[[Flow], None] | None = None) -> None:
        assert self.agents is not None
        flow.on_end = on_end
        self.flows.append(flow)
        self._active[flow.id] = flow
        self.agents.start_flow(
            flow.site, flow.id, flow.direction, flow.size * self.scale, flow.rate * self.scale
        )
        if flow.paced:
            self._seen[flow.id] = (time.monotonic(), 0.0)
            self.env.timeout(flow.duration).callbacks.append(lambda _e: self._end(flow, "done"))
        elif flow.patience != float("inf"):
            self.env.timeout(flow.patience).callbacks.append(
                lambda _e: self._end(flow, "abandoned")
            )

    def leaf_bytes(self, direction: Direction) -> dict[str, float]:
        counters = self.shapers[direction].leaf_counters()
        return {
            site.id: counters[site.id].bytes / self.scale if site.id in counters else 0.0
            for site in self.spec.sites
        }

    def class_bytes(self, direction: Direction) -> dict[str, float]:
        """L2 bytes through every class of the tree in force, by plan class id, counted since
        that tree was built (a plan with other classes starts from zero)."""
        counters = self.shapers[direction].class_counters()
        return {cid: c.bytes / self.scale for cid, c in counters.items()}

    def leaf_drops(self, direction: Direction) -> dict[str, int]:
        counters = self.shapers[direction].leaf_counters()
        return {
            site.id: counters[site.id].drops if site.id in counters else 0
            for site in self.spec.sites
        }

    def leaf_states(self, direction: Direction) -> LeafStates:
        """The kernel's counters and backlogs from one `tc -s class show`; no demand."""
        counters, backlog = self.shapers[direction].leaf_readings()
        zero = shaper.Counters(0, 0, 0)
        sites = tuple(site.id for site in self.spec.sites)
        read = [counters.get(site, zero) for site in sites]
        return LeafStates(
            sites,
            [c.bytes / self.scale for c in read],
            [c.drops for c in read],
            [backlog.get(site) for site in sites],
            [None] * len(sites),
        )

    def finish(self) -> None:
        self._deliver()
        for flow in list(self._active.values()):
            self._end(flow, "cut")
        cpu = self._cpu.samples
        if cpu:
            busy_share = sum(1 for s in cpu if s > CPU_BOUND) / len(cpu)
            self.info.cpu = CpuLoad(sum(cpu) / len(cpu), max(cpu), busy_share)
            if busy_share > 0.1:
                self.warnings.append(
                    f"emulation was CPU-bound {busy_share:.0%} of the time (all cores over "
                    f"{CPU_BOUND:.0%} busy): kernel figures are unreliable; use --scale"
                )
        self.info.tc_rebuilds = {d: s.rebuilds for d, s in self.shapers.items()}
        self.info.tc_changes = {d: s.changes for d, s in self.shapers.items()}

    # -- events from the agents ------------------------------------------------------------

    def _env_time(self, agent_t: float | None) -> float:
        env = self.env
        if agent_t is None or not isinstance(env, simpy.rt.RealtimeEnvironment):
            return env.now
        at = env.env_start + (agent_t - env.real_start) / env.factor
        return min(env.now, max(at, 0.0))

    def _poll(self) -> Generator[simpy.Event, object, None]:
        while True:
            yield self.env.timeout(POLL_S)
            cleanup.raise_if_signalled()  # a Ctrl-C or SIGTERM whose exception got lost
            self._deliver()

    def _sample_cpu(self) -> Generator[simpy.Event, object, None]:
        while True:
            yield self.env.timeout(CPU_SAMPLE_S)
            self._cpu.sample()

    def _deliver(self) -> None:
        assert self.agents is not None
        for label, event in self.agents.drain():
            kind = event.get("ev")
            if kind == "progress":
                for key, got in event["flows"].items():
                    self._progress(int(key), float(got), float(event["t"]))
            elif kind in ("done", "end"):
                self._finished(
                    int(event["id"]), float(event["bytes"]), event.get("t"), kind == "done"
                )
            elif kind == "error":
                flow = self._active.get(int(event["id"]))
                self.warnings.append(f"flow {event['id']} ({label}): {event.get('msg')}")
                if flow is not None:
                    self._end(flow, "cut")
            elif kind == "exit" and not self._closed:
                self.warnings.append(f"agent {label} exited during the run")

    def _progress(self, flow_id: int, got: float, agent_t: float) -> None:
        flow = self._active.get(flow_id)
        if flow is None:
            return
        flow.delivered = min(flow.size, got / self.scale)
        if flow.paced and flow_id in self._seen:
            last_t, last_got = self._seen[flow_id]
            elapsed = agent_t - last_t
            if elapsed > 0 and (got - last_got) * 8 / elapsed >= AT_RATE * flow.rate * self.scale:
                flow.time_at_rate = min(flow.duration, flow.time_at_rate + elapsed)
            self._seen[flow_id] = (agent_t, got)

    def _finished(self, flow_id: int, got: float, agent_t: float | None, complete: bool) -> None:
        delivered = got / self.scale
        flow = self._active.get(flow_id)
        if flow is None:  # ended in SimPy already (abandoned, paced, cut): final bytes
            ended = self._ended.pop(flow_id, None)
            if ended is not None:
                ended.delivered = min(ended.size, max(ended.delivered, delivered))
            return
        if flow.paced:  # a paced flow ends with its duration; keep what arrived
            self._progress(flow_id, got, agent_t or time.monotonic())
            return
        if complete:
            flow.delivered = flow.size
            self._close(flow, "done", self._env_time(agent_t))
        else:  # the connection broke before the user's patience ran out
            flow.delivered = min(flow.size, delivered)
            self._close(flow, "cut", self._env_time(agent_t))

    def _end(self, flow: Flow, status: FlowStatus) -> None:
        """End a flow from the SimPy side (duration over, patience out, run over)."""
        if self._active.get(flow.id) is not flow:
            return
        self._deliver()  # take any completion that already arrived
        if self._active.get(flow.id) is not flow:
            return
        assert self.agents is not None
        with contextlib.suppress(Exception):
            self.agents.cancel(flow.site, flow.id)
        self._ended[flow.id] = flow
        self._close(flow, status, self.env.now)

    def _close(self, flow: Flow, status: FlowStatus, end: float) -> None:
        del self._active[flow.id]
        self._seen.pop(flow.id, None)
        flow.status = status
        flow.end = end
        if flow.paced:
            flow.delivered = min(flow.delivered, flow.size)
        on_end = flow.on_end
        if on_end is not None:  # from the SimPy loop, not from inside this bookkeeping
            self.env.timeout(0).callbacks.append(lambda _e: on_end(flow))


if TYPE_CHECKING:  # mypy checks the class against the interface it implements, structurally
    from sim.backends.base import Backend

    _IMPLEMENTS: type[Backend] = MininetBackend
