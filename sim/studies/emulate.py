"""Run a window of a scenario on the emulation backend, and compare it with the fluid model.

    start_s, len_s = parse_window("09:00+5m")
    record = emulate(scenario, start_s, len_s, scale=0.5)        # real time: about 5 minutes
    result = validate(scenario, start_s, len_s)                  # fluid and kernel, same seed
    for row in result.rows: ...                                  # per site and direction
    pressed = stress(scenario, start_s, 10.0)                    # every site greedy, per class

Both need root and Mininet (see sim.backends.mininet.cleanup.check_environment, which raises
EmulationUnavailable: the CLI maps it to exit status 3). Everything the run creates is removed
on return, on an exception, on Ctrl-C and on SIGTERM (which raises `Terminated`, a
BaseException, once clean-up is done); `cleanup()` removes leftovers of runs that were killed
with -9 (for `netlab emulate --cleanup`) and returns what it removed, which `describe` says
in a line.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import itertools
import json
import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import simpy
import simpy.rt

from sim.backends.mininet.cleanup import EmulationUnavailable, Terminated, cleanup, describe
from sim.model.flow import Direction, Flow
from sim.model.scenario import Scenario
from sim.model.units import parse_duration
from sim.run import Load, RunRecord, RunWindow, run_scenario
from sim.shaping.htb import CompiledTree
from sim.shaping.plan import DIRECTIONS, ClassTree
from sim.shaping.schedule import compile_schedule

__all__ = [
    "ClassDiff",
    "EmulationUnavailable",
    "Stress",
    "StressRow",
    "Terminated",
    "Validation",
    "cleanup",
    "describe",
    "emulate",
    "measure_greedy",
    "parse_window",
    "stress",
    "validate",
    "window_scenario",
]

Progress = Callable[[float, float], None]
DAY = 86400.0
GREEDY_FLOWS = 4  # per busy leaf: one TCP flow is window-limited for the biggest borrower
STRESS_WARM_S = 3.0  # greedy flows fill the queues before the counters are read
DRAIN_S = 0.8  # after a measurement: flows abandoned, queues empty
_flow_ids = itertools.count(1)
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*\+\s*(\S+)\s*$")


def parse_window(text: str) -> tuple[float, float]:
    """ "09:00+5m" -> (32400.0, 300.0): start as seconds after midnight, and length in seconds.

    Raises ValueError on anything else (HH:MM or HH:MM:SS, then + and a duration like 30s, 5m).
    """
    match = _WINDOW.match(text)
    if not match:
        raise ValueError(f"not a window: {text!r} (use HH:MM+DURATION, e.g. 09:00+5m)")
    hours, minutes, seconds = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"not a time of day in window {text!r}")
    return hours * 3600.0 + minutes * 60.0 + seconds, parse_duration(match.group(4))


def window_scenario(
    scenario: Scenario, start_s: float, len_s: float, interval_s: float | None = None
) -> Scenario:
    """The scenario cut to [start_s, start_s + len_s) of the first day it covers that time.

    The seed stays, so the same window gives the same demand on every backend. The sample
    interval is kept unless interval_s is given (and never exceeds the window).
    """
    first = scenario.start
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + dt.timedelta(seconds=start_s)
    if start < first:
        start += dt.timedelta(days=1)
    end = first + dt.timedelta(seconds=scenario.duration)
    if start + dt.timedelta(seconds=len_s) > end:
        raise ValueError(
            f"window {start:%Y-%m-%d %H:%M:%S}+{len_s:g}s lies outside the "
            f"scenario ({first:%Y-%m-%d %H:%M} for {scenario.duration:g} s)"
        )
    section = scenario.spec.scenario
    interval = min(interval_s or float(section.sample_interval), len_s)
    spec = scenario.spec.model_copy(
        update={
            "scenario": section.model_copy(
                update={"start": start, "duration": float(len_s), "sample_interval": interval}
            )
        }
    )
    return dataclasses.replace(scenario, spec=spec)


def emulate(
    scenario: Scenario,
    window_start_s: float,
    window_len_s: float,
    scale: float = 1.0,
    progress: Progress | None = None,
    interval_s: float | None = None,
    load: Load | None = None,
) -> RunRecord:
    """Run the window on a Mininet network in real time; return the RunRecord (`load`, when
    given, drives the network instead of the scenario's users: see run_scenario).

    scale multiplies every rate and flow size on the wire (for small machines); the record
    reads unscaled and notes the scale in `emulation`, which also holds bring-up and
    tear-down times, what was and was not emulated, the run tag and CPU load (its `window`
    the window); its warnings include a CPU-bound warning when the host was saturated.
    Raises EmulationUnavailable.
    """
    from sim.backends.mininet import cleanup
    from sim.backends.mininet.backend import MininetBackend
    from sim.backends.mininet.topo import spec_from_scenario

    if not scale > 0:
        raise ValueError("scale must be positive")
    cleanup.check_environment()
    windowed = window_scenario(scenario, window_start_s, window_len_s, interval_s)
    env = simpy.rt.RealtimeEnvironment(strict=False)
    backends: list[MininetBackend] = []

    def factory(env: simpy.Environment) -> MininetBackend:
        backend = MininetBackend(
            env, spec_from_scenario(windowed), windowed.spec.network.overhead, scale
        )
        backends.append(backend)
        return backend

    with cleanup.signals_raise():
        try:
            record = run_scenario(windowed, factory, env, progress, load=load)
        finally:
            for backend in backends:
                backend.close()
    backend = backends[0]
    record.emulation = backend.info
    record.window = RunWindow(window_start_s, window_len_s)
    record.warnings.extend(backend.warnings)
    return record


@dataclasses.dataclass(frozen=True)
class ClassDiff:
    """One site leaf in one direction: fluid prediction against the kernel's measurement."""

    site: str
    direction: str
    fluid_bps: float  # mean L2 throughput through the leaf over the window
    kernel_bps: float
    fluid_fct_s: float  # median completion time of finished elastic flows (nan: none)
    kernel_fct_s: float
    fluid_flows: int
    kernel_flows: int

    @property
    def diff_bps(self) -> float:
        return self.kernel_bps - self.fluid_bps

    @property
    def rel_diff(self) -> float:
        """(kernel - fluid) / fluid; nan when the fluid leaf carried nothing."""
        return self.diff_bps / self.fluid_bps if self.fluid_bps > 0 else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "diff_bps": self.diff_bps, "rel_diff": self.rel_diff}


@dataclasses.dataclass
class Validation:
    """Per-class differences of one window, and both runs for writing out."""

    rows: list[ClassDiff]
    fluid: RunRecord
    kernel: RunRecord

    def worst(self, min_bps: float = 1e6) -> ClassDiff | None:
        """The class with the largest relative throughput difference among busy ones."""
        busy = [r for r in self.rows if r.fluid_bps >= min_bps]
        return max(busy, key=lambda r: abs(r.rel_diff), default=None)


def validate(
    scenario: Scenario,
    window_start_s: float,
    window_len_s: float,
    scale: float = 1.0,
    progress: Progress | None = None,
    interval_s: float | None = None,
) -> Validation:
    """Run the window on the fluid backend and on Mininet with the same seed; compare per class.

    Throughput compares L2 bytes through each site's leaf class over the window (what HTB
    counts); completion times compare the median of finished elastic flows. Demand is closed
    loop, so the flows themselves differ once the backends diverge.
    """
    windowed = window_scenario(scenario, window_start_s, window_len_s, interval_s)
    fluid = run_scenario(windowed)
    kernel = emulate(scenario, window_start_s, window_len_s, scale, progress, interval_s)
    rows = []
    for direction in DIRECTIONS:
        for index, site in enumerate(fluid.site_ids):
            rows.append(
                ClassDiff(
                    site=site,
                    direction=direction,
                    fluid_bps=_mean_bps(fluid, direction, index),
                    kernel_bps=_mean_bps(kernel, direction, index),
                    fluid_fct_s=_median_fct(fluid, site, direction),
                    kernel_fct_s=_median_fct(kernel, site, direction),
                    fluid_flows=_count(fluid, site, direction),
                    kernel_flows=_count(kernel, site, direction),
                )
            )
    return Validation(rows, fluid, kernel)


def _mean_bps(record: RunRecord, direction: Direction, index: int) -> float:
    span = record.interval * len(record.times)
    wire = record.wire_bytes[direction]
    return float(wire[:, index].sum()) * 8.0 / span if span > 0 else 0.0


def _done_elastic(record: RunRecord, site: str, direction: str) -> list[float]:
    return [
        f.end - f.start
        for f in record.flows
        if f.site == site and f.direction == direction and not f.paced and f.status == "done"
    ]


def _median_fct(record: RunRecord, site: str, direction: str) -> float:
    times = _done_elastic(record, site, direction)
    return float(np.median(times)) if times else float("nan")


def _count(record: RunRecord, site: str, direction: str) -> int:
    return sum(1 for f in record.flows if f.site == site and f.direction == direction)


def measure_greedy(
    backend: Any,
    busy: list[str],
    direction: Direction,
    warm_s: float,
    measure_s: float,
    flows: int = GREEDY_FLOWS,
) -> dict[str, float]:
    """L2 bits/s through every class of the tree in force (by class id) while the `busy` sites
    each run `flows` endless TCP flows: read over measure_s after warm_s of real time.

    `backend` is a MininetBackend. The flows give up just after the measurement and the
    queues drain before this returns, so measurements can follow one another.
    """
    env = backend.env
    began = env.now
    patience = warm_s + measure_s + 0.2
    for site in busy:
        for _ in range(flows):
            flow = Flow(next(_flow_ids), site, "bulk", direction, began, 1e12, patience=patience)
            backend.transfer(flow)
    env.run(until=began + warm_s)
    before, t0 = backend.class_bytes(direction), time.monotonic()
    env.run(until=began + warm_s + measure_s)
    after, t1 = backend.class_bytes(direction), time.monotonic()
    env.run(until=began + warm_s + measure_s + DRAIN_S)
    return {c: (after[c] - before[c]) * 8 / (t1 - t0) for c in after}


@dataclasses.dataclass(frozen=True)
class StressRow:
    """One class in one direction with every site greedy: fluid allocation against kernel."""

    class_id: str
    direction: str
    site: str | None
    fluid_bps: float
    kernel_bps: float
    root_bps: float  # the root's rate, the scale of the error

    @property
    def error(self) -> float:
        """(kernel - fluid) as a share of the root's rate."""
        return (self.kernel_bps - self.fluid_bps) / self.root_bps

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "error_of_root": self.error}


@dataclasses.dataclass
class Stress:
    """`stress()`'s result: per-class rows and the emulation's own record (info, warnings)."""

    scenario: str
    policy: str
    rows: list[StressRow]
    info: dict[str, Any]
    warnings: list[str]

    def worst(self, direction: str | None = None) -> StressRow:
        rows = [r for r in self.rows if direction in (None, r.direction)]
        return max(rows, key=lambda r: abs(r.error))

    def write(self, folder: Path) -> None:
        """stress.csv (one row a class and direction) and stress.json (the rest)."""
        folder.mkdir(parents=True, exist_ok=True)
        rows = [r.as_dict() for r in self.rows]
        with (folder / "stress.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        meta = {"scenario": self.scenario, "policy": self.policy, "warnings": self.warnings}
        (folder / "stress.json").write_text(
            json.dumps({**meta, "info": self.info}, indent=2, default=str) + "\n"
        )


def stress(
    scenario: Scenario,
    at_s: float,
    measure_s: float,
    scale: float = 1.0,
    warm_s: float = STRESS_WARM_S,
) -> Stress:
    """Every served site greedy, downloads then uploads, under the plan in force at `at_s` of
    the scenario's first day; kernel class counters against `CompiledTree.allocate`.

    Where every leaf wants more than it gets the split is all that decides the figures, so
    this compares the two backends where they can disagree (an ordinary window rarely loads
    a class). Needs root; raises EmulationUnavailable, and ValueError for a time outside the
    scenario.
    """
    from sim.backends.mininet import cleanup as machine
    from sim.backends.mininet.backend import CpuMeter, MininetBackend
    from sim.backends.mininet.topo import spec_from_scenario

    machine.check_environment()
    plan = compile_schedule(scenario).plan_at(window_scenario(scenario, at_s, measure_s).start)
    access = {site.id: site.access_bps for site in scenario.sites}
    env = simpy.rt.RealtimeEnvironment(strict=False)
    spec = spec_from_scenario(scenario)
    rows: list[StressRow] = []
    cpu: dict[str, dict[str, float]] = {}
    with (
        machine.signals_raise(),
        MininetBackend(env, spec, scenario.spec.network.overhead, scale) as backend,
    ):
        backend.apply_plan(plan)
        for direction in DIRECTIONS:
            busy, began = CpuMeter.busy_core_seconds(), time.monotonic()
            measured = measure_greedy(backend, list(access), direction, warm_s, measure_s)
            cores = (CpuMeter.busy_core_seconds() - busy) / (time.monotonic() - began)
            cpu[direction] = cpu_cost(cores, measured[plan.tree(direction).root.id] * scale)
            rows += _stress_rows(plan.tree(direction), access, measured, direction)
        backend.finish()
    info = {**backend.info.to_json(), "at_s": at_s, "measure_s": measure_s, "warm_s": warm_s}
    info["cpu_per_direction"] = cpu
    return Stress(scenario.name, plan.policy, rows, info, backend.warnings)


def cpu_cost(cores_busy: float, wire_bps: float) -> dict[str, float]:
    """What a direction of a stress test cost the machine: cores busy on average (warm-up,
    measurement and drain), the root's rate on the wire, and their ratio per Gbit/s."""
    return {
        "cores_busy": cores_busy,
        "wire_mbps": wire_bps / 1e6,
        "cores_per_gbps": cores_busy / (wire_bps / 1e9) if wire_bps > 0 else math.inf,
    }


def _stress_rows(
    tree: ClassTree, access: dict[str, float], measured: dict[str, float], direction: str
) -> list[StressRow]:
    """Every class of `tree`: the allocator's figure with every leaf greedy, and the kernel's."""
    compiled = CompiledTree(tree, access)
    alloc = compiled.allocate([math.inf if c.site is not None else 0.0 for c in tree.classes])
    return [
        StressRow(c.id, direction, c.site, fluid, measured[c.id], tree.root.rate)
        for c, fluid in zip(tree.classes, alloc, strict=True)
    ]
