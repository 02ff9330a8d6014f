"""Users on the SimPy clock: pick a session by the site's mix, issue its transfers, wait, think.

The loop is closed: a session's next transfer starts only when the previous one has ended, so a
congested network slows demand down as it does for real users. The same code drives every
backend. Randomness: one SeedSequence per scenario, spawned per site and then per user.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

import numpy as np
import simpy

from sim.demand.profiles import SessionClock, site_clock, site_profile
from sim.model.demand import AppSpec
from sim.model.flow import Flow, Transport
from sim.model.scenario import Scenario
from sim.model.topology import Site

MB = 1e6  # bytes


@dataclass(frozen=True)
class SiteDemand:
    """What the users of one site share: their session clock and application mix."""

    site: Site
    clock: SessionClock
    apps: list[tuple[str, AppSpec]]
    mix: list[float]  # cumulative probabilities over `apps`


def site_demands(scenario: Scenario) -> list[SiteDemand]:
    spec = scenario.spec.demand
    out = []
    for site in scenario.sites:
        profile = site_profile(scenario, site)
        names = [n for n, w in profile.mix.items() if w > 0]
        weights = np.array([profile.mix[n] for n in names], dtype=float)
        out.append(
            SiteDemand(
                site=site,
                clock=site_clock(scenario, site),
                apps=[(n, spec.apps[n]) for n in names],
                mix=np.cumsum(weights / weights.sum()).tolist(),
            )
        )
    return out


def start_users(env: simpy.Environment, scenario: Scenario, backend: Transport) -> int:
    """Start every user of every served site; returns how many were started."""
    ids = itertools.count()
    root = np.random.SeedSequence(scenario.seed)
    site_seeds = root.spawn(len(scenario.topology.sites))
    seeds = {site.id: seq for site, seq in zip(scenario.topology.sites, site_seeds, strict=True)}
    started = 0
    for demand in site_demands(scenario):
        for user_seed in seeds[demand.site.id].spawn(demand.site.users):
            User(env, demand, backend, np.random.default_rng(user_seed), ids).next_session()
            started += 1
    return started


class User:
    """One user: sessions for ever, at the times the site's clock draws.

    A chain of callbacks on the SimPy clock rather than a process: a session waits on a
    timeout, each transfer on the backend's on_end, each think time on a timeout. That is
    one SimPy event per wait and no process switch, with the same draws in the same order
    as the generator it replaced.
    """

    __slots__ = ("env", "demand", "backend", "rng", "ids", "name", "app", "left")

    def __init__(
        self,
        env: simpy.Environment,
        demand: SiteDemand,
        backend: Transport,
        rng: np.random.Generator,
        ids: itertools.count,
    ) -> None:
        self.env, self.demand, self.backend, self.rng, self.ids = env, demand, backend, rng, ids
        self.name = ""
        self.app: AppSpec | None = None  # the elastic application of the session under way
        self.left = 0  # transfers (elastic) or directions (paced) of the session still to end

    def next_session(self) -> None:
        gap = self.demand.clock.next_gap(self.env.now, self.rng)
        if gap != math.inf:
            self.env.timeout(gap).callbacks.append(self._session)

    def _session(self, _event: simpy.Event) -> None:
        demand, rng = self.demand, self.rng
        pick = min(bisect.bisect_right(demand.mix, rng.random()), len(demand.apps) - 1)
        name, app = demand.apps[pick]
        if app.kind == "paced":
            self._paced(name, app)
            return
        self.name, self.app = name, app
        self.left = int(rng.geometric(1.0 / app.transfers_mean))
        self._transfer()

    def _paced(self, name: str, app: AppSpec) -> None:
        """A call or stream: one flow per direction at the app's rate; the session ends with
        the last of them."""
        spread = math.exp(app.duration_sigma * self.rng.standard_normal())
        duration = min(app.duration_median_min * 60.0 * spread, app.duration_max_min * 60.0)
        rate = app.rate_mbps * 1e6
        self.left = len(app.directions)
        now = self.env.now
        for direction in app.directions:
            flow = Flow(
                next(self.ids),
                self.demand.site.id,
                name,
                direction,
                now,
                size=rate * duration / 8.0,
                rate=rate,
                duration=duration,
            )
            self.backend.transfer(flow, self._paced_ended)

    def _paced_ended(self, _flow: Flow) -> None:
        self.left -= 1
        if not self.left:
            self.next_session()

    def _transfer(self, _event: simpy.Event | None = None) -> None:
        """The session's next elastic transfer."""
        app, rng = self.app, self.rng
        assert app is not None
        directions = app.directions
        # integers(1) draws nothing and costs a microsecond: skipped when there is no choice
        direction = (
            directions[int(rng.integers(len(directions)))] if len(directions) > 1 else directions[0]
        )
        flow = Flow(
            next(self.ids),
            self.demand.site.id,
            self.name,
            direction,
            self.env.now,
            size=draw_size(app, rng),
            patience=app.patience_s,
        )
        self.left -= 1
        self.backend.transfer(flow, self._transferred)

    def _transferred(self, _flow: Flow) -> None:
        app = self.app
        assert app is not None
        if not self.left:
            self.next_session()
        elif app.think_mean_s > 0:
            self.env.timeout(self.rng.exponential(app.think_mean_s)).callbacks.append(
                self._transfer
            )
        else:
            self._transfer()


def draw_size(app: AppSpec, rng: np.random.Generator) -> float:
    """Bytes of one elastic transfer: lognormal or Pareto, clipped to [min, max]."""
    if app.size_dist == "pareto":
        size = app.size_min_mb * (1.0 + rng.pareto(app.pareto_alpha))
    else:
        size = app.size_median_mb * math.exp(app.size_sigma * rng.standard_normal())
    return min(max(size, app.size_min_mb), app.size_max_mb) * MB
