"""Run a window of a scenario on the emulation backend, and compare it with the fluid model.

    start_s, len_s = parse_window("09:00+5m")
    record = emulate(scenario, start_s, len_s, scale=0.5)        # real time: about 5 minutes
    result = validate(scenario, start_s, len_s)                  # fluid and kernel, same seed
    for row in result.rows: ...                                  # per site and direction

Both need root and Mininet (see sim.backends.mininet.cleanup.check_environment, which raises
EmulationUnavailable: the CLI maps it to exit status 3). Everything the run creates is removed
on return, on an exception, on Ctrl-C and on SIGTERM (which raises `Terminated`, a
BaseException, once clean-up is done); `cleanup()` removes leftovers of runs that were killed
with -9 (for `netlab emulate --cleanup`) and returns what it removed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy
import simpy.rt

from sim.backends.mininet.cleanup import EmulationUnavailable, Terminated, cleanup
from sim.model.scenario import Scenario
from sim.model.units import parse_duration
from sim.run import RunRecord, run_scenario

__all__ = [
    "ClassDiff",
    "EmulationUnavailable",
    "Terminated",
    "Validation",
    "cleanup",
    "emulate",
    "parse_window",
    "validate",
    "window_scenario",
]

Progress = Callable[[float, float], None]
DAY = 86400.0
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
) -> RunRecord:
    """Run the window on a Mininet network in real time; return the RunRecord.

    scale multiplies every rate and flow size on the wire (for small machines); the record
    reads unscaled and notes the scale in `info`. The record's `info` also holds bring-up and
    tear-down times, what was and was not emulated, the run tag and CPU load; its warnings
    include a CPU-bound warning when the host was saturated. Raises EmulationUnavailable.
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
            record = run_scenario(windowed, factory, env, progress)
        finally:
            for backend in backends:
                backend.close()
    backend = backends[0]
    record.info.update(backend.info)
    record.info["window"] = {"start_s": window_start_s, "len_s": window_len_s}
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
    for direction in ("down", "up"):
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


def _mean_bps(record: RunRecord, direction: str, index: int) -> float:
    span = record.interval * len(record.times)
    wire = record.wire_bytes[direction]  # type: ignore[index]
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
