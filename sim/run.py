"""One run: a scenario's demand on a backend, with the plan schedule and the counter sampler.

The runner is backend-agnostic: it starts the users, a controller that puts the plan in force
(and switches it when a schedule says so), and a sampler that reads each backend's per-leaf L2
byte counters at every interval. With a `[controller]`, one more SimPy process wakes every
controller interval, reads the leaves (`Backend.leaf_states`), asks the ControlLoop
(sim.shaping.controllers) and puts a plan it returns in force through `apply_plan`, the path a
schedule's switch takes. It returns a RunRecord, from which metrics and files are made; a
controller that fails ends the run with ControllerFailed, which carries what was measured.
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
from sim.model.errors import ConfigError
from sim.model.flow import Direction, Flow
from sim.model.paths import tcp_paths
from sim.model.scenario import Scenario
from sim.shaping.control import Change, LeafStates
from sim.shaping.controllers import ControllerError, ControlLoop
from sim.shaping.plan import DIRECTIONS, ShapingPlan
from sim.shaping.schedule import PlanSchedule, compile_schedule

if TYPE_CHECKING:
    from sim.backends.mininet.info import EmulationInfo

Progress = Callable[[float, float], None]  # (simulated seconds done, total)
# What drives a run's backend: start_users by default; returns how many users it started
Load = Callable[[simpy.Environment, Scenario, Backend], int]


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
    control: list[Change] | None = None  # a controller's changes (None: the run had none)

    @property
    def plans(self) -> list[ShapingPlan]:
        return self.schedule.plans


class ControllerFailed(ConfigError):
    """A controller raised or answered an invalid plan: the run ended there; `record` holds
    what was measured up to then (the CLI still writes its folder)."""

    def __init__(self, scenario: Scenario, error: ControllerError, record: RunRecord) -> None:
        super().__init__(scenario.path, "controller", str(error))
        self.record = record


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
    load: Load | None = None,
) -> RunRecord:
    """Run the scenario for its duration on a backend (fluid unless a factory is given);
    `plan`, when given, stays in force whatever the scenario's policy or schedule says;
    `load`, when given, drives the backend instead of the scenario's users."""
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

    first = plans[plan_index_at(0.0)]
    backend.apply_plan(first)
    control = scenario.spec.controller
    loop = ControlLoop(scenario, first) if control is not None and control.enabled else None
    env.process(_controller(env, scenario, schedule, backend, loop))
    if loop is not None:
        env.process(_control(env, loop, backend))
    users = (load or start_users)(env, scenario, backend)
    sampler = _Sampler(backend, site_ids)
    interval = float(scenario.spec.scenario.sample_interval)
    duration = scenario.duration
    built = time.perf_counter()
    with _cycle_collector_paused():
        failed = _simulate(env, duration, interval, sampler, in_force, plan_index_at, progress)
    steps = len(in_force)
    backend.finish()
    ended = time.perf_counter()
    record = RunRecord(
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
        control=None if loop is None else loop.log,
    )
    if failed is not None:
        raise ControllerFailed(scenario, failed, record)
    return record


def _simulate(
    env: simpy.Environment,
    duration: float,
    interval: float,
    sampler: _Sampler,
    in_force: list[int],
    plan_index_at: Callable[[float], int],
    progress: Progress | None,
) -> ControllerError | None:
    """Run interval by interval, sampling after each; `in_force` gets each interval's plan.

    A failing controller ends it: the interval it failed in is the last one kept (none, when
    it failed at that interval's very start)."""
    for step in range(int(np.ceil(duration / interval - 1e-9))):
        in_force.append(plan_index_at(step * interval))
        try:
            env.run(until=min((step + 1) * interval, duration))
        except ControllerError as error:
            if env.now <= step * interval:
                in_force.pop()
            else:
                sampler.sample()
            return error
        sampler.sample()
        if progress is not None:
            progress(env.now, duration)
    return None


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
    env: simpy.Environment,
    scenario: Scenario,
    schedule: PlanSchedule,
    backend: Backend,
    loop: ControlLoop | None,
) -> Generator[simpy.Event, object, None]:
    """Put the scheduled plan in force at every switch time (a live controller then goes on
    from the plan switched to)."""
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
            if loop is not None:
                loop.plan = plan


def _control(
    env: simpy.Environment, loop: ControlLoop, backend: Backend
) -> Generator[simpy.Event, object, None]:
    """Every controller interval: read the leaves, ask the controller, apply what it returns."""
    loop.prime(_states(backend), env.now)
    while True:
        yield env.timeout(loop.interval)
        plan = loop.step(_states(backend), env.now)
        if plan is not None:
            backend.apply_plan(plan)


def _states(backend: Backend) -> dict[Direction, LeafStates]:
    return {d: backend.leaf_states(d) for d in DIRECTIONS}
