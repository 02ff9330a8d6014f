"""One run: a scenario's demand on a backend, with the plan schedule and the counter sampler.

The runner is backend-agnostic: it starts the users, a controller that puts the plan in force
(and switches it when a schedule says so), and a sampler that reads each backend's per-leaf L2
byte counters at every interval. It returns a RunRecord, from which metrics and files are made.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim.backends.base import Backend
from sim.backends.fluid import FluidBackend, FluidEnvironment
from sim.demand.users import start_users
from sim.model.flow import Direction, Flow
from sim.model.paths import tcp_paths
from sim.model.scenario import Scenario
from sim.shaping.plan import DIRECTIONS, ShapingPlan
from sim.shaping.schedule import PlanSchedule, compile_schedule

if TYPE_CHECKING:
    from sim.backends.mininet.info import EmulationInfo

Progress = Callable[[float, float], None]  # (simulated seconds done, total)


@dataclass(frozen=True)
class RunWindow:
    """The stretch of the scenario's day a run covered, seconds from its local midnight (an
    emulation runs a window, not the whole scenario)."""

    start_s: float
    len_s: float


@dataclass
class RunRecord:
    """Everything a run produced, in memory: flows and per-leaf series per interval."""

    scenario: Scenario
    backend: str
    schedule: PlanSchedule
    flows: list[Flow]
    interval: float
    site_ids: list[str]
    times: np.ndarray  # start of each interval, seconds since scenario start
    wire_bytes: dict[Direction, np.ndarray]  # [interval, site] L2 bytes through the leaf
    drops: dict[Direction, np.ndarray]  # [interval, site] packets dropped
    plan_index: np.ndarray  # [interval] which of schedule.plans was in force at its start
    users: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    emulation: EmulationInfo | None = None  # the machine's record, when a backend emulated
    window: RunWindow | None = None  # set when the run covered a window of the day

    @property
    def plans(self) -> list[ShapingPlan]:
        return self.schedule.plans


class _Sampler:
    """Reads cumulative leaf counters every interval and keeps the differences."""

    def __init__(self, backend: Backend, site_ids: list[str]) -> None:
        self.backend = backend
        self.site_ids = site_ids
        self.rows: dict[Direction, list[np.ndarray]] = {d: [] for d in DIRECTIONS}
        self.drop_rows: dict[Direction, list[np.ndarray]] = {d: [] for d in DIRECTIONS}
        self.last = {d: self._read(d) for d in DIRECTIONS}

    def _read(self, direction: Direction) -> tuple[np.ndarray, np.ndarray]:
        counted = self.backend.leaf_bytes(direction)
        dropped = self.backend.leaf_drops(direction)
        return (
            np.array([counted[s] for s in self.site_ids], dtype=float),
            np.array([dropped[s] for s in self.site_ids], dtype=float),
        )

    def sample(self) -> None:
        for direction in DIRECTIONS:
            counted, dropped = self._read(direction)
            last_counted, last_dropped = self.last[direction]
            self.rows[direction].append(counted - last_counted)
            self.drop_rows[direction].append(dropped - last_dropped)
            self.last[direction] = (counted, dropped)


def _fluid(scenario: Scenario, env: simpy.Environment) -> Backend:
    """The fluid backend of the scenario's sites and paths."""
    if not isinstance(env, FluidEnvironment):
        raise TypeError("the fluid backend runs in a FluidEnvironment, which serves its deadlines")
    access = {site.id: site.access_bps for site in scenario.sites}
    paths = tcp_paths(scenario)
    return FluidBackend(env, access, scenario.spec.network.overhead, paths)


def run_scenario(
    scenario: Scenario,
    backend_factory: Callable[[simpy.Environment], Backend] | None = None,
    env: simpy.Environment | None = None,
    progress: Progress | None = None,
    plan: ShapingPlan | None = None,
) -> RunRecord:
    """Run the scenario for its duration on a backend (fluid unless a factory is given);
    `plan`, when given, stays in force whatever the scenario's policy or schedule says."""
    began = time.perf_counter()
    site_ids = [site.id for site in scenario.sites]
    env = env or FluidEnvironment()  # plain SimPy for other backends; the fluid one needs it
    backend = _fluid(scenario, env) if backend_factory is None else backend_factory(env)
    schedule = compile_schedule(scenario) if plan is None else PlanSchedule((), plan)
    plans = schedule.plans
    in_force: list[int] = []

    def plan_index_at(offset: float) -> int:
        plan = schedule.plan_at(scenario.start + dt.timedelta(seconds=offset))
        return next(i for i, p in enumerate(plans) if p is plan)

    backend.apply_plan(plans[plan_index_at(0.0)])
    env.process(_controller(env, scenario, schedule, backend))
    users = start_users(env, scenario, backend)
    sampler = _Sampler(backend, site_ids)
    interval = float(scenario.spec.scenario.sample_interval)
    duration = scenario.duration
    built = time.perf_counter()
    steps = int(np.ceil(duration / interval - 1e-9))
    with _cycle_collector_paused():
        for step in range(steps):
            in_force.append(plan_index_at(step * interval))
            env.run(until=min((step + 1) * interval, duration))
            sampler.sample()
            if progress is not None:
                progress(env.now, duration)
    backend.finish()
    ended = time.perf_counter()
    return RunRecord(
        scenario=scenario,
        backend=backend.name,
        schedule=schedule,
        flows=backend.flows,
        interval=interval,
        site_ids=site_ids,
        times=np.arange(steps, dtype=float) * interval,
        wire_bytes={d: np.array(sampler.rows[d]).reshape(steps, len(site_ids)) for d in DIRECTIONS},
        drops={d: np.array(sampler.drop_rows[d]).reshape(steps, len(site_ids)) for d in DIRECTIONS},
        plan_index=np.array(in_force, dtype=int),
        users=users,
        timings={"setup_s": built - began, "simulate_s": ended - built},
        warnings=list(dict.fromkeys(schedule.warnings)),
    )


@contextlib.contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while simulating, then restore it.

    A run's objects die by reference count or live to the end of the run (the flows), so the
    collector finds nothing (0 objects on the regency's day), yet it rescans the growing set
    of live flows: 8 % of the day's time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _controller(
    env: simpy.Environment, scenario: Scenario, schedule: PlanSchedule, backend: Backend
) -> Generator[simpy.Event, object, None]:
    """Put the scheduled plan in force at every switch time."""
    current = schedule.plan_at(scenario.start)
    while True:
        now = scenario.start + dt.timedelta(seconds=env.now)
        switch = schedule.next_switch(now)
        if switch is None:
            return
        yield env.timeout((switch - now).total_seconds())
        plan = schedule.plan_at(switch)
        if plan is not current:
            backend.apply_plan(plan)
            current = plan
