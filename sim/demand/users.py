"""Users as SimPy processes: pick a session by the site's mix, issue its transfers, wait, think.

The loop is closed: a session's next transfer starts only when the previous one has ended, so a
congested network slows demand down as it does for real users. The same code drives every
backend. Randomness: one SeedSequence per scenario, spawned per site and then per user.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Generator
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
    """Start one process per user of every served site; returns how many were started."""
    ids = itertools.count()
    root = np.random.SeedSequence(scenario.seed)
    site_seeds = root.spawn(len(scenario.topology.sites))
    seeds = {site.id: seq for site, seq in zip(scenario.topology.sites, site_seeds, strict=True)}
    started = 0
    for demand in site_demands(scenario):
        for user_seed in seeds[demand.site.id].spawn(demand.site.users):
            rng = np.random.default_rng(user_seed)
            env.process(user(env, demand, backend, rng, ids))
            started += 1
    return started


def user(
    env: simpy.Environment,
    demand: SiteDemand,
    backend: Transport,
    rng: np.random.Generator,
    ids: itertools.count,
) -> Generator[simpy.Event, object, None]:
    """One user: sessions for ever, at the times the site's clock draws."""
    site = demand.site.id
    while True:
        gap = demand.clock.next_gap(env.now, rng)
        if gap == float("inf"):
            return
        yield env.timeout(gap)
        pick = min(bisect.bisect_right(demand.mix, rng.random()), len(demand.apps) - 1)
        name, app = demand.apps[pick]
        if app.kind == "paced":
            spread = math.exp(app.duration_sigma * rng.standard_normal())
            duration = min(app.duration_median_min * 60.0 * spread, app.duration_max_min * 60.0)
            rate = app.rate_mbps * 1e6
            events = [
                backend.transfer(
                    Flow(
                        next(ids),
                        site,
                        name,
                        direction,
                        env.now,
                        size=rate * duration / 8.0,
                        rate=rate,
                        duration=duration,
                    )
                )
                for direction in app.directions
            ]
            yield env.all_of(events)
            continue
        transfers = int(rng.geometric(1.0 / app.transfers_mean))
        for index in range(transfers):
            direction = app.directions[int(rng.integers(len(app.directions)))]
            flow = Flow(
                next(ids),
                site,
                name,
                direction,
                env.now,
                size=draw_size(app, rng),
                patience=app.patience_s,
            )
            yield backend.transfer(flow)
            if app.think_mean_s > 0 and index < transfers - 1:
                yield env.timeout(rng.exponential(app.think_mean_s))


def draw_size(app: AppSpec, rng: np.random.Generator) -> float:
    """Bytes of one elastic transfer: lognormal or Pareto, clipped to [min, max]."""
    if app.size_dist == "pareto":
        size = app.size_min_mb * (1.0 + rng.pareto(app.pareto_alpha))
    else:
        size = app.size_median_mb * math.exp(app.size_sigma * rng.standard_normal())
    return min(max(size, app.size_min_mb), app.size_max_mb) * MB
