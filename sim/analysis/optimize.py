"""The purchase-and-split optimiser: the cheapest purchase whose split meets the objectives.

Structure instead of brute force: for a given policy, more capacity does not hurt the
objectives (monotonicity; the probes check it and report violations), so the smallest
purchase that meets them is found by bisection on the Mbps grid, galloping from an anchor
(the growth and sensitivity searches from the need `predicted_need` expects, so most settle
in two purchases). A purchase meets the objectives when the figures averaged over the seeds
do (the objectives are about expected service, not one lucky day); the per-seed figures are
kept to show the spread. Prices are tiered (the price per Mbps falls with size), so a larger
purchase can cost less: the cheapest feasible purchase is the per-policy minimum or the first
grid point of a cheaper tier above it. The answer is then confirmed on fresh seeds (stepped
up a grid point at a time until they agree) and the next cheaper option on the price table is
tried on them.

Every search (per policy, per growth factor, per varied assumption) is an asyncio task that
advances as soon as its own probes are in, and phases that do not need each other's answers
run side by side (growth beside the confirmation; the price-tier edges beside the
sensitivities), all on one `ProbeQueue` of worker processes that simulates each distinct probe
once: the search semantics are those of one search at a time, and so is the answer.

`recommend` does all of it and returns a `Recommendation` (what recommendation.json holds),
with the scenario at the answer, ready for the final full run. Every point simulated is the
scenario itself changed by its typed `with_*` methods, so the policy searched, confirmed and
recommended is the scenario's own, parameters included.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis.metrics import summarize
from sim.analysis.objectives import AT_MOST
from sim.analysis.probe_queue import ProbeQueue, Progress
from sim.analysis.recommendation import (
    Finance,
    FreshCheck,
    FrontierRow,
    PolicyAnswer,
    Probe,
    Recommendation,
    Sensitivity,
    SplitRow,
)
from sim.analysis.recommendation import (
    SearchPoint as Point,
)
from sim.analysis.summary import Summary
from sim.demand.expected import hourly_load
from sim.model.scenario import Objectives, OptimizeSpec, Scenario, clock_seconds
from sim.run import run_scenario
from sim.shaping.schedule import compile_schedule

FRESH_SEED_BASE = 1000  # validation seeds are disjoint from the search seeds 1..N
WINDOW_SAMPLE_INTERVAL = 300.0  # seconds: the probes need no finer series
# ProbeQueue priorities: what others wait on first, what nothing waits on last
CONFIRM, SEARCH, TIER = 0, 1, 2
Figures = dict[str, float | None]


def objective_figures(summary: Summary) -> dict[str, float | None]:
    """The objective figures of a run summary (None where there was nothing to measure)."""
    return {row.name: row.value for row in summary.objectives}


def meets(figures: dict[str, float | None], objectives: Objectives) -> bool:
    """No figure misses its target (figures without data or without a target never miss)."""
    return not any(
        met(figures.get(name), target, name) is False
        for name, target in objectives.targets().items()
    )


def met(value: float | None, target: float | None, name: str) -> bool | None:
    if value is None or target is None:
        return None
    return value <= target if name in AT_MOST else value >= target


def windowed(scenario: Scenario) -> Scenario:
    """The scenario on the optimiser's window of its first working day."""
    spec = scenario.spec.optimize
    day = scenario.start.date()
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time()) + dt.timedelta(
        seconds=clock_seconds(spec.window_start)
    )
    return scenario.with_run(
        start=start, duration=float(spec.window), sample_interval=WINDOW_SAMPLE_INTERVAL
    )


def window_json(window: Scenario) -> dict[str, Any]:
    """How recommendation.json states the evaluation window (as the scenario keys it sets)."""
    return {
        "scenario.start": window.start.isoformat(),
        "scenario.duration": window.duration,
        "scenario.sample_interval": float(window.spec.scenario.sample_interval),
        "demand.growth": window.spec.demand.growth,
    }


def probe(scenario: Scenario, mbps: float, seed: int, growth: float) -> Probe:
    """Simulate the scenario (window and policy already set) at a purchase, seed and growth."""
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
    """The objective figures of one simulated point (in a worker process)."""
    return objective_figures(summarize(run_scenario(point)))


def probe_key(point: Scenario) -> Hashable:
    """What makes two probes the same simulation: the resolved scenario, every key of it."""
    return str(point.path), point.spec.model_dump_json()


def labelled(point: Scenario, mbps: float, seed: int, growth: float, figures: Figures) -> Probe:
    """A point's figures as the probe the search asked for, judged against its objectives."""
    feasible = meets(figures, point.spec.optimize.objectives)
    return Probe(point.spec.policy.name, mbps, seed, growth, figures, feasible)


def judge(probes: list[Probe], objectives: Objectives) -> Point:
    """Pool the seeds of one purchase: the mean of each figure (over the seeds that measured
    it) against its target."""
    first = probes[0]
    mean = {}
    for name in objectives.targets():
        values = [p.figures[name] for p in probes if p.figures.get(name) is not None]
        mean[name] = float(np.mean(values)) if values else None
    return Point(
        first.policy,
        first.mbps,
        first.growth,
        mean,
        meets(mean, objectives),
        sum(p.feasible for p in probes),
        probes,
    )


@dataclass
class Bisection:
    """One lockstep search for the smallest feasible grid point.

    It starts at the grid point nearest the anchor (a predicted answer, or the current
    purchase), gallops up or down in strides of 1, 2, 4... grid points until it has seen both
    outcomes, then bisects between them: O(log n) probes, two (the anchor and its neighbour)
    when the answer is the anchor or the point above it.
    """

    key: tuple[str, float]  # (policy, growth)
    grid: list[float]
    anchor: float | None = None
    low: int = -1  # the largest index known infeasible (-1: none)
    high: int = -1  # the smallest index known feasible (len(grid): none); set in __post_init__
    points: list[Point] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.high = len(self.grid)

    def next_mbps(self) -> float | None:
        grid, low, high = self.grid, self.low, self.high
        if high - low <= 1:
            return None
        if not self.points:
            if self.anchor is None:
                return grid[(len(grid) - 1) // 2]
            anchor = self.anchor
            return min(grid, key=lambda m: (abs(m - anchor), -m))  # ties: the larger
        stride = 2 ** (len(self.points) - 1)  # exponential search: 1, 2, 4... grid points away
        if high == len(grid):  # only failures so far: gallop up
            return grid[min(low + stride, len(grid) - 1)]
        if low == -1:  # only successes so far: gallop down
            return grid[max(high - stride, 0)]
        return grid[(low + high) // 2]

    def record(self, point: Point) -> None:
        self.points.append(point)
        index = self.grid.index(point.mbps)
        if point.feasible:
            self.high = min(self.high, index)
        else:
            self.low = max(self.low, index)

    @property
    def answer(self) -> float | None:
        return self.grid[self.high] if self.high < len(self.grid) else None


def purchase_grid(low: float, high: float, step: float) -> list[float]:
    return [float(m) for m in np.arange(low, high + step / 2, step)]


async def _probe(
    queue: ProbeQueue[Figures],
    scenario: Scenario,
    mbps: float,
    seed: int,
    growth: float,
    priority: int,
) -> Probe:
    """`probe` on the queue: simulated there unless the same point already was."""
    point = resolved(scenario, mbps, seed, growth)
    figures = await queue.run(probe_key(point), (point,), priority)
    return labelled(point, mbps, seed, growth, figures)


async def _points(
    queue: ProbeQueue[Figures],
    scenario: Scenario,
    purchases: list[float],
    seeds: list[int],
    growth: float,
    priority: int,
) -> list[Point]:
    """Each purchase judged over the seeds; every probe asked for at once."""
    probes = await asyncio.gather(
        *(_probe(queue, scenario, m, s, growth, priority) for m in purchases for s in seeds)
    )
    objectives, n = scenario.spec.optimize.objectives, len(seeds)
    return [judge(probes[i * n : (i + 1) * n], objectives) for i in range(len(purchases))]


async def _search(
    queue: ProbeQueue[Figures], scenario: Scenario, search: Bisection, seeds: list[int]
) -> Bisection:
    """Run one bisection to its end, a purchase (all its seeds together) at a time; it waits
    for no other search, so no worker idles while one search's probe straggles."""
    while (mbps := search.next_mbps()) is not None:
        (point,) = await _points(queue, scenario, [mbps], seeds, search.key[1], SEARCH)
        search.record(point)
    return search


def _answer(search: Bisection) -> PolicyAnswer:
    """A bisection's answer, its points by purchase, and the monotonicity it assumes checked:
    pairs of probes of one seed where the larger purchase failed and the smaller met."""
    probes = [p for point in search.points for p in point.probes]
    violations = sum(
        1
        for a in probes
        for b in probes
        if a.seed == b.seed and a.mbps < b.mbps and a.feasible and not b.feasible
    )
    return PolicyAnswer(search.answer, sorted(search.points, key=lambda p: p.mbps), violations)


def split_table(scenario: Scenario) -> list[SplitRow]:
    """Per-site guarantee, ceiling, priority and quantum of the scenario's plan (downloads)."""
    plan = compile_schedule(scenario).otherwise
    return [
        SplitRow(c.site or c.id, round(c.rate / 1e6, 3), round(c.ceil / 1e6, 3), c.prio, c.quantum)
        for c in plan.down.leaves
    ]


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
    tiers: list[Point]
    swings: list[Sensitivity]


async def _recommend(scenario: Scenario, workers: int, progress: Progress | None) -> Recommendation:
    """`recommend` on one ProbeQueue, closed whatever happens."""
    spec = scenario.spec.optimize
    window = windowed(scenario)
    grid = purchase_grid(spec.min_mbps, spec.max_mbps, spec.step_mbps)
    scenarios = {p: window.with_policy(p) for p in spec.policies}
    queue: ProbeQueue[Figures] = ProbeQueue(workers, simulate, progress)
    try:
        current = scenario.spec.purchase.upstream_mbps
        searches = await asyncio.gather(
            *(
                _search(
                    queue, scenarios[p], Bisection((p, 1.0), grid, anchor=current), _seeds(spec)
                )
                for p in spec.policies
            )
        )
        answers = {b.key[0]: _answer(b) for b in searches}
        choice = _cheapest(scenario, answers, grid)
        if choice is None:
            return Recommendation(False, answers, _grid_info(spec), spec.objectives.model_dump())
        policy, searched_mbps = choice
        checked = await _check(
            queue, scenario, scenarios[policy], answers[policy], searched_mbps, grid
        )
    finally:
        queue.close()
    return _written_up(scenario, window, answers, policy, searched_mbps, checked)


async def _check(
    queue: ProbeQueue[Figures],
    scenario: Scenario,
    chosen: Scenario,
    found: PolicyAnswer,
    mbps: float,
    grid: list[float],
) -> _Checked:
    """Beside the growth searches (from the searched answer `mbps`), confirm the answer on
    fresh seeds; then, at the confirmed answer, the price-tier edges beside the sensitivities."""
    growth = scenario.spec.optimize.growth
    growing = asyncio.gather(*(_growth_search(queue, chosen, mbps, grid, g) for g in growth))
    fresh = await _confirm(queue, scenario, chosen, mbps, grid)
    tiers, needs = await asyncio.gather(
        _tier_points(queue, scenario, chosen, found, fresh, grid),
        _sensitivity_searches(queue, chosen, fresh.at_answer.mbps, grid),
    )
    grown = list(await growing)
    return _Checked(fresh, grown, tiers, sensitivities(chosen, needs, fresh, grid, grown))


def _written_up(
    scenario: Scenario,
    window: Scenario,
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
        window=window_json(window),
        fresh_seeds=fresh,
        growth={str(b.key[1]): _answer(b) for b in checked.grown},
        split=split_table(answer),
        finance=finance(scenario, mbps),
        frontier=frontier(scenario, answers[policy], fresh, checked.tiers),
        plan=compile_schedule(answer).otherwise.to_dict(),
        sensitivities=checked.swings,
        scenario=answer,
    )


def finance(scenario: Scenario, mbps: float) -> Finance:
    """The answer's yearly cost against the current purchase and the budget ceiling."""
    current = scenario.spec.purchase.upstream_mbps
    yearly, current_yearly = 12 * monthly_cost(scenario, mbps), 12 * monthly_cost(scenario, current)
    budget = scenario.spec.optimize.budget_idr_year
    return Finance(
        current_mbps=current,
        current_yearly_idr=current_yearly,
        yearly_idr=yearly,
        savings_yearly_idr=current_yearly - yearly,
        budget_yearly_idr=budget,
        below_budget_yearly_idr=None if budget is None else budget - yearly,
    )


def offered_mbps(scenario: Scenario) -> float:
    """The demand model's expected offered download rate over the scenario's run (the
    optimiser's window), summed over its served sites, in Mbit/s: each clock hour of
    `hourly_load` weighted by the share of it inside the run."""
    start = scenario.start
    begin = (start - dt.datetime.combine(start.date(), dt.time())).total_seconds()
    end = begin + scenario.duration
    days = [start.date() + dt.timedelta(days=d) for d in range(math.ceil(end / 86400.0))]
    hours = np.arange(24 * len(days)) * 3600.0
    inside = np.clip(np.minimum(hours + 3600.0, end) - np.maximum(hours, begin), 0.0, None)
    down = sum(
        hourly_load(scenario, site, days)[:, :, 0].ravel() @ inside for site in scenario.sites
    )
    return float(down) * 8.0 / 3600.0 / scenario.duration / 1e6


def predicted_need(need: float, offered: float, varied_offered: float) -> float:
    """The purchase a varied scenario needs, from the `need` of the scenario it varies and the
    mean rates the two offer. Square-root staffing: need = m + beta sqrt(m), m the mean
    offered rate, beta fitted to the known need; the headroom statistical multiplexing asks
    for grows as sqrt(m), slower than the mean. Linear scaling where the known need is at or
    below its mean (no headroom to fit)."""
    if offered <= 0.0:
        return need
    if need <= offered:
        return need * varied_offered / offered
    beta = (need - offered) / math.sqrt(offered)
    return varied_offered + beta * math.sqrt(max(varied_offered, 0.0))


def predicted_anchor(chosen: Scenario, answer: float, offered: float, other: Scenario) -> float:
    """Where a search of `other` (the chosen scenario varied) starts: `predicted_need` from
    the chosen scenario's `answer` and mean offered rate `offered`. The answer is the smallest
    feasible grid point, so its need lies in the step below it: the middle of that step is
    the need the prediction scales (the search starts at the grid point nearest the result)."""
    need = answer - chosen.spec.optimize.step_mbps / 2.0
    return predicted_need(need, offered, offered_mbps(other))


# The assumptions varied for the tornado: (name, what low and high mean, factors).
VARIED = (
    ("users (session rate)", "x0.8", "x1.2", 0.8, 1.2),
    ("video-call share", "x0.5", "x2", 0.5, 2.0),
    ("streaming share", "x0.5", "x2", 0.5, 2.0),
)


def varied(chosen: Scenario, assumption: str, factor: float) -> Scenario:
    """The chosen scenario with one assumption of VARIED scaled by `factor`."""
    if assumption.startswith("users"):
        return chosen.with_growth(chosen.spec.demand.growth * factor)
    app = "video_call" if assumption.startswith("video") else "streaming"
    data = chosen.spec.model_dump()
    for profile in data["demand"]["kinds"].values():
        if app in profile["mix"]:
            profile["mix"][app] *= factor
    return chosen.edited(data)


async def _sensitivity_searches(
    queue: ProbeQueue[Figures], chosen: Scenario, mbps: float, grid: list[float]
) -> dict[str, float | None]:
    """With `[optimize] sensitivity`: the purchase needed with each assumption of VARIED low
    and high, searched between half and twice the answer on `growth_seeds` seeds from the
    need `predicted_anchor` expects (by "assumption factor"; None where even twice the answer
    falls short)."""
    spec = chosen.spec.optimize
    if not spec.sensitivity:
        return {}
    bracket = [m for m in grid if mbps / 2 <= m <= 2 * mbps] or [mbps]
    seeds = _seeds(spec)[: spec.growth_seeds]
    offered = offered_mbps(chosen)
    searches = []
    for name, _, _, *factors in VARIED:
        for factor in factors:
            scenario = varied(chosen, name, factor)
            anchor = predicted_anchor(chosen, mbps, offered, scenario)
            search = Bisection((f"{name} {factor}", 1.0), bracket, anchor=anchor)
            searches.append(_search(queue, scenario, search, seeds))
    return {b.key[0]: b.answer for b in await asyncio.gather(*searches)}


def sensitivities(
    chosen: Scenario,
    found: dict[str, float | None],
    fresh: FreshCheck,
    grid: list[float],
    grown: list[Bisection],
) -> list[Sensitivity]:
    """With `[optimize] sensitivity`: the purchase each assumption needs low and high (`found`
    by the sensitivity searches) and demand growth from the growth searches; largest swing
    first."""
    if not chosen.spec.optimize.sensitivity:
        return []
    rows = [
        Sensitivity(name, low, high, found[f"{name} {lo}"], found[f"{name} {hi}"])
        for name, low, high, lo, hi in VARIED
    ]
    if grown:
        top = max(grown, key=lambda b: b.key[1])
        mbps = fresh.at_answer.mbps
        rows.append(Sensitivity("demand growth", "x1", f"x{top.key[1]:g}", mbps, top.answer))
    return sorted(rows, key=lambda r: -_swing(r, max(grid)))


def _swing(row: Sensitivity, ceiling: float) -> float:
    return abs((row.high_mbps or ceiling) - (row.low_mbps or ceiling))


async def _tier_points(
    queue: ProbeQueue[Figures],
    scenario: Scenario,
    chosen: Scenario,
    found: PolicyAnswer,
    fresh: FreshCheck,
    grid: list[float],
) -> list[Point]:
    """The chosen policy at the smallest and largest grid purchase of every price tier up to
    the answer's, where the search did not go: the frontier across the price table."""
    tops = sorted(t.up_to_mbps for t in scenario.spec.purchase.price_tiers if t.up_to_mbps)
    edges = set()
    low = 0.0
    for top in [*tops, float("inf")]:
        inside = [m for m in grid if low < m <= top]
        if inside and inside[0] <= fresh.at_answer.mbps:
            edges |= {inside[0], inside[-1]}
        low = top
    seen = {p.mbps for p in found.points} | {fresh.at_answer.mbps, fresh.cheaper_mbps}
    wanted = sorted(m for m in edges if m not in seen and m <= fresh.at_answer.mbps)
    return await _points(queue, chosen, wanted, _seeds(scenario.spec.optimize), 1.0, TIER)


def frontier(
    scenario: Scenario, found: PolicyAnswer, fresh: FreshCheck, tiers: list[Point]
) -> list[FrontierRow]:
    """Cost against service for the chosen policy: every purchase the search probed, the
    edges of the price tiers up to the answer, and the answer and the next cheaper option on
    fresh seeds, by purchase."""
    rows = [(point, "search") for point in found.points]
    rows += [(point, "price tier edge") for point in tiers]
    rows.append((fresh.at_answer, "answer (fresh seeds)"))
    if fresh.at_cheaper is not None:
        rows.append((fresh.at_cheaper, "next cheaper (fresh seeds)"))
    out = []
    for point, role in sorted(rows, key=lambda r: (r[0].mbps, r[1])):
        tier = scenario.spec.purchase.model_copy(update={"upstream_mbps": point.mbps})
        out.append(
            FrontierRow(
                mbps=point.mbps,
                monthly_idr=monthly_cost(scenario, point.mbps),
                idr_per_mbps_month=tier.monthly_cost_idr() / point.mbps,
                feasible=point.feasible,
                role=role,
                missed=[
                    name
                    for name, target in scenario.spec.optimize.objectives.targets().items()
                    if met(point.mean.get(name), target, name) is False
                ],
            )
        )
    return out


def _seeds(spec: OptimizeSpec) -> list[int]:
    return list(range(1, spec.seeds + 1))


async def _confirm(
    queue: ProbeQueue[Figures], scenario: Scenario, chosen: Scenario, mbps: float, grid: list[float]
) -> FreshCheck:
    """The answer and the next cheaper option on fresh seeds; while the fresh seeds disagree
    with the answer, step up the grid."""
    spec = scenario.spec.optimize
    fresh = [FRESH_SEED_BASE + s for s in range(1, spec.confirm_seeds + 1)]
    while True:
        cheaper = next_cheaper(scenario, mbps, grid)
        purchases = [mbps] if cheaper is None else [mbps, cheaper]
        confirm, *at_cheaper = await _points(queue, chosen, purchases, fresh, 1.0, CONFIRM)
        above = [m for m in grid if m > mbps]
        if confirm.feasible or not above:
            return FreshCheck(fresh, confirm, cheaper, at_cheaper[0] if at_cheaper else None)
        mbps = above[0]


async def _growth_search(
    queue: ProbeQueue[Figures], chosen: Scenario, mbps: float, grid: list[float], growth: float
) -> Bisection:
    """Search a growth factor, first between the answer and the answer scaled by 1.25 x
    growth (demand rarely needs more), then above that bracket if it was too small, both from
    the need `predicted_anchor` expects; on `growth_seeds` of the seeds (indicative: the
    recommendation itself uses them all)."""
    spec = chosen.spec.optimize
    seeds = _seeds(spec)[: spec.growth_seeds]
    key = (chosen.spec.policy.name, growth)
    grown = chosen.with_growth(chosen.spec.demand.growth * growth)  # what `resolved` probes
    anchor = predicted_anchor(chosen, mbps, offered_mbps(chosen), grown)
    bracket = [m for m in grid if mbps <= m <= mbps * growth * 1.25] or [mbps]
    search = await _search(queue, chosen, Bisection(key, bracket, anchor), seeds)
    above = [m for m in grid if m > bracket[-1]]
    if search.answer is not None or not above:
        return search
    wider = await _search(queue, chosen, Bisection(key, above, anchor), seeds)
    wider.points = search.points + wider.points
    return wider


def monthly_cost(scenario: Scenario, mbps: float) -> float:
    """Purchase at `mbps` (tiered price) plus the scenario's last-mile options, per month."""
    purchase = scenario.spec.purchase.model_copy(update={"upstream_mbps": mbps})
    return purchase.monthly_cost_idr() + scenario.lastmile_idr_month


def _cheapest(
    scenario: Scenario, answers: dict[str, PolicyAnswer], grid: list[float]
) -> tuple[str, float] | None:
    """The cheapest (policy, purchase) at or above each policy's answer (tiers may help)."""
    best: tuple[float, float, float, str] | None = None
    for policy, answer in answers.items():
        if answer.mbps is None:
            continue
        for mbps in (m for m in grid if m >= answer.mbps):
            # at equal cost, prefer the policy with more margin (a lower answer of its own)
            key = (monthly_cost(scenario, mbps), mbps, answer.mbps, policy)
            if best is None or key < best:
                best = key
    return None if best is None else (best[3], best[1])


def next_cheaper(scenario: Scenario, mbps: float, grid: list[float]) -> float | None:
    """The next cheaper option on the price table: the grid purchase costing the most while
    still less than `mbps` does (the largest such purchase at equal cost)."""
    cost = monthly_cost(scenario, mbps)
    cheaper = [(monthly_cost(scenario, m), m) for m in grid if monthly_cost(scenario, m) < cost]
    return max(cheaper)[1] if cheaper else None


def _grid_info(spec: OptimizeSpec) -> dict[str, Any]:
    return {
        "min_mbps": spec.min_mbps,
        "max_mbps": spec.max_mbps,
        "step_mbps": spec.step_mbps,
        "seeds": spec.seeds,
        "confirm_seeds": spec.confirm_seeds,
        "policies": list(spec.policies),
    }
