"""The optimiser's searches as asyncio tasks on one ProbeQueue: each advances as soon as its
own probes are in, and the queue simulates each distinct probe once, the most urgent first."""

from __future__ import annotations

import asyncio

from sim.analysis.recommendation import FreshCheck, PolicyAnswer, Probe, SearchPoint
from sim.model.scenario import Scenario
from sim.studies.optimize.bisection import Bisection
from sim.studies.optimize.finance import next_cheaper
from sim.studies.optimize.frontier import tier_edges
from sim.studies.optimize.prediction import offered_mbps, predicted_anchor
from sim.studies.optimize.probes import Figures, judge, labelled, probe_key, resolved, search_seeds
from sim.studies.optimize.sensitivity import VARIED, varied
from sim.studies.probe_queue import ProbeQueue

FRESH_SEED_BASE = 1000  # validation seeds are disjoint from the search seeds 1..N
# ProbeQueue priorities: what others wait on first, what nothing waits on last
CONFIRM, SEARCH, TIER = 0, 1, 2
Queue = ProbeQueue[Figures]


async def queued_probe(
    queue: Queue, scenario: Scenario, mbps: float, seed: int, growth: float, priority: int
) -> Probe:
    """`probes.probe` on the queue: simulated there unless the same point already was."""
    point = resolved(scenario, mbps, seed, growth)
    figures = await queue.run(probe_key(point), (point,), priority)
    return labelled(point, mbps, seed, growth, figures)


async def judged_points(
    queue: Queue,
    scenario: Scenario,
    purchases: list[float],
    seeds: list[int],
    growth: float,
    priority: int,
) -> list[SearchPoint]:
    """Each purchase judged over the seeds; every probe asked for at once."""
    probes = await asyncio.gather(
        *(queued_probe(queue, scenario, m, s, growth, priority) for m in purchases for s in seeds)
    )
    objectives, n = scenario.spec.optimize.objectives, len(seeds)
    return [judge(probes[i * n : (i + 1) * n], objectives) for i in range(len(purchases))]


async def run_search(
    queue: Queue, scenario: Scenario, search: Bisection, seeds: list[int]
) -> Bisection:
    """Run one bisection to its end, a purchase (all its seeds together) at a time; it waits
    for no other search, so no worker idles while one search's probe straggles."""
    while (mbps := search.next_mbps()) is not None:
        (point,) = await judged_points(queue, scenario, [mbps], seeds, search.key[1], SEARCH)
        search.record(point)
    return search


async def confirm(
    queue: Queue, scenario: Scenario, chosen: Scenario, mbps: float, grid: list[float]
) -> FreshCheck:
    """The answer and the next cheaper option on fresh seeds; while the fresh seeds disagree
    with the answer, step up the grid."""
    spec = scenario.spec.optimize
    fresh = [FRESH_SEED_BASE + s for s in range(1, spec.confirm_seeds + 1)]
    while True:
        cheaper = next_cheaper(scenario, mbps, grid)
        purchases = [mbps] if cheaper is None else [mbps, cheaper]
        at_answer, *at_cheaper = await judged_points(queue, chosen, purchases, fresh, 1.0, CONFIRM)
        above = [m for m in grid if m > mbps]
        if at_answer.feasible or not above:
            return FreshCheck(fresh, at_answer, cheaper, at_cheaper[0] if at_cheaper else None)
        mbps = above[0]


async def growth_search(
    queue: Queue, chosen: Scenario, mbps: float, grid: list[float], growth: float
) -> Bisection:
    """Search a growth factor, first between the answer and the answer scaled by 1.25 x
    growth (demand rarely needs more), then above that bracket if it was too small, both from
    the need `predicted_anchor` expects; on `growth_seeds` of the seeds (indicative: the
    recommendation itself uses them all)."""
    spec = chosen.spec.optimize
    seeds = search_seeds(spec)[: spec.growth_seeds]
    key = (chosen.spec.policy.name, growth)
    grown = chosen.with_growth(chosen.spec.demand.growth * growth)  # what `resolved` probes
    anchor = predicted_anchor(chosen, mbps, offered_mbps(chosen), grown)
    bracket = [m for m in grid if mbps <= m <= mbps * growth * 1.25] or [mbps]
    search = await run_search(queue, chosen, Bisection(key, bracket, anchor), seeds)
    above = [m for m in grid if m > bracket[-1]]
    if search.answer is not None or not above:
        return search
    wider = await run_search(queue, chosen, Bisection(key, above, anchor), seeds)
    wider.points = search.points + wider.points
    return wider


async def tier_points(
    queue: Queue,
    scenario: Scenario,
    chosen: Scenario,
    found: PolicyAnswer,
    fresh: FreshCheck,
    grid: list[float],
) -> list[SearchPoint]:
    """The chosen policy at the price tiers' edges the search did not go to (the frontier)."""
    wanted = tier_edges(scenario, found, fresh, grid)
    return await judged_points(
        queue, chosen, wanted, search_seeds(scenario.spec.optimize), 1.0, TIER
    )


async def sensitivity_searches(
    queue: Queue, chosen: Scenario, mbps: float, grid: list[float]
) -> dict[str, float | None]:
    """With `[optimize] sensitivity`: the purchase needed with each assumption of VARIED low
    and high, searched between half and twice the answer on `growth_seeds` seeds from the
    need `predicted_anchor` expects (by "assumption factor"; None where even twice the answer
    falls short)."""
    spec = chosen.spec.optimize
    if not spec.sensitivity:
        return {}
    bracket = [m for m in grid if mbps / 2 <= m <= 2 * mbps] or [mbps]
    seeds = search_seeds(spec)[: spec.growth_seeds]
    offered = offered_mbps(chosen)
    searches = []
    for name, _, _, *factors in VARIED:
        for factor in factors:
            scenario = varied(chosen, name, factor)
            anchor = predicted_anchor(chosen, mbps, offered, scenario)
            search = Bisection((f"{name} {factor}", 1.0), bracket, anchor=anchor)
            searches.append(run_search(queue, scenario, search, seeds))
    return {b.key[0]: b.answer for b in await asyncio.gather(*searches)}
