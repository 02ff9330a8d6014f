"""One probe of the optimiser: the scenario at a purchase, seed and growth factor, simulated
(in a worker process) as `netlab run` simulates it, whole, and judged by the objectives of its
summary; a purchase judged over its seeds."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from sim.analysis.flows import FlowArrays
from sim.analysis.objectives import evaluate, met
from sim.analysis.recommendation import Probe, SearchPoint
from sim.analysis.summary import Summary
from sim.model.scenario import Scenario
from sim.model.scenario_schema import Objectives, OptimizeSpec
from sim.run import run_scenario

Figures = dict[str, float | None]


def objective_figures(summary: Summary) -> Figures:
    """The objective figures of a run summary (None where there was nothing to measure)."""
    return {row.name: row.value for row in summary.objectives}


def meets_objectives(figures: Figures, objectives: Objectives) -> bool:
    """No figure misses its target (figures without data or without a target never miss)."""
    return not any(
        met(figures.get(name), target, name) is False
        for name, target in objectives.targets().items()
    )


def search_seeds(spec: OptimizeSpec) -> list[int]:
    """The seeds every search probe runs on: 1..`seeds`."""
    return list(range(1, spec.seeds + 1))


def probe(scenario: Scenario, mbps: float, seed: int, growth: float) -> Probe:
    """Simulate the scenario (policy already set) at a purchase, seed and growth."""
    point = resolved(scenario, mbps, seed, growth)
    return labelled(point, mbps, seed, growth, simulate(point))


def resolved(scenario: Scenario, mbps: float, seed: int, growth: float) -> Scenario:
    """The scenario a probe simulates: `scenario` at a purchase, seed and growth factor."""
    return (
        scenario.with_purchase(mbps)
        .with_run(seed=seed)
        .with_growth(scenario.spec.demand.growth * growth)
    )


def simulate(point: Scenario) -> Figures:
    """The objective figures of one simulated point (in a worker process): its whole run, as
    `netlab run` simulates it, judged by `evaluate` on the run's flows as `summarize` calls it
    (the summary's other figures, a fifth of a probe's time, are not needed)."""
    record = run_scenario(point)
    flows = FlowArrays.from_flows(record.flows, record.site_ids)
    return {row.name: row.value for row in evaluate(record, flows, flows.offered)}


def probe_key(point: Scenario) -> Hashable:
    """What makes two probes the same simulation: the resolved scenario, every key of it."""
    return str(point.path), point.spec.model_dump_json()


def labelled(point: Scenario, mbps: float, seed: int, growth: float, figures: Figures) -> Probe:
    """A point's figures as the probe the search asked for, judged against its objectives."""
    feasible = meets_objectives(figures, point.spec.optimize.objectives)
    return Probe(point.spec.policy.name, mbps, seed, growth, figures, feasible)


def judge(probes: list[Probe], objectives: Objectives) -> SearchPoint:
    """Pool the seeds of one purchase: the mean of each figure (over the seeds that measured
    it) against its target."""
    first = probes[0]
    mean = {}
    for name in objectives.targets():
        values = [v for p in probes if (v := p.figures.get(name)) is not None]
        mean[name] = float(np.mean(values)) if values else None
    return SearchPoint(
        first.policy,
        first.mbps,
        first.growth,
        mean,
        meets_objectives(mean, objectives),
        sum(p.feasible for p in probes),
        probes,
    )
