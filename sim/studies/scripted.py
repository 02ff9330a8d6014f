"""A scripted load: sites greedy and idle on a schedule, on either backend, controller included.

The demand model decides what each site asks for; a scripted load replaces it with a plain list
of greedy periods (`Burst`), so that the fluid backend and the kernel face the same, fully known
load. Its use is to check a live controller on both backends (`compare_scripted`): the same
changes within one controller interval of each other, and every leaf's goodput in every sample
interval within a tolerance of the root's rate.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import simpy

from sim.backends.base import Backend
from sim.model.flow import Direction, Flow
from sim.model.scenario import Scenario
from sim.run import Load, RunRecord, run_scenario
from sim.shaping.control import Change
from sim.shaping.plan import DIRECTIONS
from sim.studies.emulate import GREEDY_FLOWS, emulate, window_scenario

_ids = itertools.count(2 * 10**9)  # apart from the demand model's and measure_greedy's ids


@dataclass(frozen=True)
class Burst:
    """One site greedy in one direction from start_s to end_s (seconds into the run)."""

    site: str
    direction: Direction
    start_s: float
    end_s: float


def scripted_load(bursts: Sequence[Burst], flows: int = GREEDY_FLOWS) -> Load:
    """A run's load (see run_scenario): `flows` endless TCP flows per burst, each given up at
    the burst's end."""

    def load(env: simpy.Environment, scenario: Scenario, backend: Backend) -> int:
        env.process(_play(env, backend, sorted(bursts, key=lambda b: b.start_s), flows))
        return 0

    return load


def _play(
    env: simpy.Environment, backend: Backend, bursts: list[Burst], flows: int
) -> Generator[simpy.Event, object, None]:
    for burst in bursts:
        if burst.start_s > env.now:
            yield env.timeout(burst.start_s - env.now)
        for _ in range(flows):
            patience = burst.end_s - env.now
            backend.transfer(
                Flow(
                    next(_ids),
                    burst.site,
                    "bulk",
                    burst.direction,
                    env.now,
                    1e12,
                    patience=patience,
                )
            )


def run_scripted(
    scenario: Scenario,
    bursts: Sequence[Burst],
    at_s: float,
    length_s: float,
    interval_s: float,
    kernel: bool = False,
    scale: float = 1.0,
) -> RunRecord:
    """The scenario's window [at_s, at_s + length_s) of its first day under the scripted load,
    sampled every interval_s, on the fluid backend or (kernel, needs root) in Mininet."""
    load = scripted_load(bursts)
    if kernel:
        return emulate(scenario, at_s, length_s, scale, interval_s=interval_s, load=load)
    return run_scenario(window_scenario(scenario, at_s, length_s, interval_s), load=load)


@dataclass(frozen=True)
class Goodput:
    """One leaf in one sample interval and direction: both backends' L2 rates."""

    interval: int
    direction: Direction
    site: str
    fluid_bps: float
    kernel_bps: float
    root_bps: float

    @property
    def error(self) -> float:
        """(kernel - fluid) as a share of the root's rate."""
        return (self.kernel_bps - self.fluid_bps) / self.root_bps


@dataclass(frozen=True)
class ScriptedComparison:
    """Both backends under one scripted load: goodput per interval and the controllers' changes
    paired (a change of one backend with the nearest of the same class and field of the other,
    within `within_s`); unpaired changes are listed per backend."""

    goodput: list[Goodput]
    paired: list[tuple[Change, Change]]
    only_fluid: list[Change]
    only_kernel: list[Change]

    def worst(self) -> Goodput:
        return max(self.goodput, key=lambda g: abs(g.error))


def compare_scripted(fluid: RunRecord, kernel: RunRecord, within_s: float) -> ScriptedComparison:
    """Set the kernel's run against the fluid backend's (same scenario, load and intervals)."""
    goodput = []
    steps = min(len(fluid.times), len(kernel.times))
    for direction in DIRECTIONS:
        for step in range(steps):
            plan = fluid.schedule.plans[fluid.plan_index[step]]
            root = plan.tree(direction).root.rate
            for index, site in enumerate(fluid.site_ids):
                goodput.append(
                    Goodput(
                        step,
                        direction,
                        site,
                        fluid.wire_bytes[direction][step, index] * 8 / fluid.interval,
                        kernel.wire_bytes[direction][step, index] * 8 / kernel.interval,
                        root,
                    )
                )
    paired, only_fluid, only_kernel = _pair(fluid.control or [], kernel.control or [], within_s)
    return ScriptedComparison(goodput, paired, only_fluid, only_kernel)


def _pair(
    fluid: list[Change], kernel: list[Change], within_s: float
) -> tuple[list[tuple[Change, Change]], list[Change], list[Change]]:
    """Each fluid change with the nearest unpaired kernel change of the same class and field."""
    left = list(kernel)
    paired: list[tuple[Change, Change]] = []
    unpaired: list[Change] = []
    for change in fluid:
        same = [
            k
            for k in left
            if (k.direction, k.class_id, k.field)
            == (change.direction, change.class_id, change.field)
            and abs(k.time - change.time) <= within_s
        ]
        if not same:
            unpaired.append(change)
            continue
        match = min(same, key=lambda k: abs(k.time - change.time))
        left.remove(match)
        paired.append((change, match))
    return paired, unpaired, left
