"""`recommend`: every policy searched, the cheapest feasible purchase chosen and checked around
(fresh seeds, growth, price tiers, sensitivities), and all of it written up as a Recommendation
with the scenario at the answer.

Every probe is the scenario's own run (its start and duration) at the probe's purchase,
policy, seed and growth, judged by the objectives every run's summary holds: the verdict on
a purchase is the one `netlab run` gives on the same seeds, and `JudgedOn` says which run,
busy windows and seeds each verdict rests on."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

from sim.analysis.objectives import busy_windows, run_days
from sim.analysis.recommendation import (
    FreshCheck,
    JudgedOn,
    PolicyAnswer,
    Recommendation,
    SearchPoint,
    Sensitivity,
    SplitRow,
)
from sim.model.scenario import Scenario
from sim.model.scenario_schema import OptimizeSpec
from sim.shaping.schedule import compile_schedule
from sim.studies.optimize.bisection import Bisection, answer_of, purchase_grid
from sim.studies.optimize.finance import cheapest, finance, monthly_cost
from sim.studies.optimize.frontier import frontier
from sim.studies.optimize.probes import search_seeds, simulate
from sim.studies.optimize.searches import (
    Queue,
    confirm,
    growth_search,
    run_search,
    sensitivity_searches,
    tier_points,
)
from sim.studies.optimize.sensitivity import sensitivities
from sim.studies.probe_queue import ProbeQueue, Progress


def recommend(
    scenario: Scenario, workers: int | None = None, progress: Progress | None = None
) -> Recommendation:
    """Search every policy, pick the cheapest feasible purchase, confirm it on fresh seeds
    (stepping up the grid until they agree), try the next cheaper option, search under demand
    growth (and, with `sensitivity`, under varied assumptions), and
    set up the scenario at the answer with its split."""
    return asyncio.run(_recommend(scenario, workers or os.cpu_count() or 1, progress))


@dataclass
class _Checked:
    """What was found around the chosen policy's answer."""

    fresh: FreshCheck
    grown: list[Bisection]
    tiers: list[SearchPoint]
    swings: list[Sensitivity]


async def _recommend(scenario: Scenario, workers: int, progress: Progress | None) -> Recommendation:
    """`recommend` on one ProbeQueue, closed whatever happens."""
    spec = scenario.spec.optimize
    grid = purchase_grid(spec.min_mbps, spec.max_mbps, spec.step_mbps)
    scenarios: dict[str, Scenario] = {p: scenario.with_policy(p) for p in spec.policies}
    queue: Queue = ProbeQueue(workers, simulate, progress)
    try:
        current = scenario.spec.purchase.upstream_mbps
        searches = await asyncio.gather(
            *(
                run_search(
                    queue,
                    scenarios[p],
                    Bisection((p, 1.0), grid, anchor=current),
                    search_seeds(spec),
                )
                for p in spec.policies
            )
        )
        answers = {b.key[0]: answer_of(b) for b in searches}
        choice = cheapest(scenario, answers, grid)
        if choice is None:
            return Recommendation(False, answers, _grid_info(spec), spec.objectives.model_dump())
        policy, searched_mbps = choice
        checked = await _check(
            queue, scenario, scenarios[policy], answers[policy], searched_mbps, grid
        )
    finally:
        queue.close()
    return _written_up(scenario, answers, policy, searched_mbps, checked)


async def _check(
    queue: Queue,
    scenario: Scenario,
    chosen: Scenario,
    found: PolicyAnswer,
    mbps: float,
    grid: list[float],
) -> _Checked:
    """Beside the growth searches, confirm the answer `mbps` on fresh seeds; then the
    price-tier edges beside the sensitivities. Growth and sensitivity searches start from the
    chosen policy's own need (its smallest feasible purchase, not a cheaper tier's point above
    it; the confirmed purchase where the fresh seeds asked for more): the need they scale."""
    growth = scenario.spec.optimize.growth
    need = found.mbps if found.mbps is not None else mbps
    growing = asyncio.gather(*(growth_search(queue, chosen, need, grid, g) for g in growth))
    fresh = await confirm(queue, scenario, chosen, mbps, grid)
    if fresh.at_answer.mbps != mbps:
        need = fresh.at_answer.mbps
    tiers, needs = await asyncio.gather(
        tier_points(queue, scenario, chosen, found, fresh, grid),
        sensitivity_searches(queue, chosen, need, grid),
    )
    grown = list(await growing)
    return _Checked(fresh, grown, tiers, sensitivities(chosen, needs, fresh, grid, grown))


def _written_up(
    scenario: Scenario,
    answers: dict[str, PolicyAnswer],
    policy: str,
    searched_mbps: float,
    checked: _Checked,
) -> Recommendation:
    """The Recommendation: the answer's purchase, split, plan, money and the checks around it."""
    spec, fresh = scenario.spec.optimize, checked.fresh
    mbps = fresh.at_answer.mbps
    answer = scenario.with_purchase(mbps).with_policy(policy)
    answer = answer.with_run(
        description=f"netlab optimize's answer for {scenario.name}: {mbps:g} Mbit/s with {policy}"
    )
    return Recommendation(
        feasible=fresh.at_answer.feasible,
        policies=answers,
        grid=_grid_info(spec),
        objectives=spec.objectives.model_dump(),
        policy=policy,
        policy_params=answer.spec.policy.model_dump(exclude={"name"}, exclude_defaults=True),
        mbps=mbps,
        searched_mbps=searched_mbps,
        monthly_idr=monthly_cost(scenario, mbps),
        yearly_idr=12 * monthly_cost(scenario, mbps),
        judged_on=judged_on(scenario, fresh.seeds),
        fresh_seeds=fresh,
        growth={str(b.key[1]): answer_of(b) for b in checked.grown},
        split=split_table(answer),
        finance=finance(scenario, mbps),
        frontier=frontier(scenario, answers[policy], fresh, checked.tiers),
        plan=compile_schedule(answer).otherwise.to_dict(),
        sensitivities=checked.swings,
        target=scenario.spec.network.target,
        scenario=answer,
    )


def judged_on(scenario: Scenario, fresh: list[int]) -> JudgedOn:
    """The run, busy windows and seeds the recommendation's verdicts rest on (`fresh`: the
    seeds the answer was confirmed on)."""
    spec = scenario.spec.optimize
    seeds = {"search": search_seeds(spec), "fresh": fresh}
    if spec.growth or spec.sensitivity:
        seeds["growth and sensitivity"] = search_seeds(spec)[: spec.growth_seeds]
    seeds["run at the answer"] = [scenario.seed]
    return JudgedOn(
        start=scenario.start.isoformat(),
        duration_s=scenario.duration,
        days=run_days(scenario),
        busy_fraction=spec.objectives.busy_fraction,
        busy_windows=busy_windows(scenario),
        seeds=seeds,
    )


def split_table(scenario: Scenario) -> list[SplitRow]:
    """Per-site guarantee, ceiling, priority and quantum of the scenario's plan (downloads)."""
    plan = compile_schedule(scenario).otherwise
    return [
        SplitRow(c.site or c.id, round(c.rate / 1e6, 3), round(c.ceil / 1e6, 3), c.prio, c.quantum)
        for c in plan.down.leaves
    ]


def _grid_info(spec: OptimizeSpec) -> dict[str, Any]:
    return {
        "min_mbps": spec.min_mbps,
        "max_mbps": spec.max_mbps,
        "step_mbps": spec.step_mbps,
        "seeds": spec.seeds,
        "confirm_seeds": spec.confirm_seeds,
        "policies": list(spec.policies),
    }
