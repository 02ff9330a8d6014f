"""The purchase-and-split optimiser: the cheapest purchase whose split meets the objectives.

Structure instead of brute force: for a given policy, more capacity does not hurt the
objectives (monotonicity; the probes check it and report violations), so the smallest
purchase that meets them is found by bisection on the Mbps grid. A purchase meets the
objectives when the figures averaged over the seeds do (the objectives are about expected
service, not one lucky day); the per-seed figures are kept to show the spread. All policies
(and later all growth factors) are bisected in lockstep, every seed of every probe in one
process pool. Prices are tiered (the price per Mbps falls with size), so a larger purchase
can cost less: the cheapest feasible purchase is the per-policy minimum or the first grid
point of a cheaper tier above it. The answer is then confirmed on fresh seeds (stepped up a
grid point at a time until they agree) and the next cheaper option on the price table is tried
on them.

`recommend` does all of it and returns a `Recommendation` (what recommendation.json holds),
with the scenario at the answer, ready for the final full run. Every point simulated is the
scenario itself changed by its typed `with_*` methods, so the policy searched, confirmed and
recommended is the scenario's own, parameters included.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis.metrics import Summary, summarize
from sim.analysis.objectives import AT_MOST
from sim.analysis.pool import worker_pool
from sim.analysis.recommendation import (
    Finance,
    FreshCheck,
    FrontierRow,
    Point,
    PolicyAnswer,
    Probe,
    Recommendation,
    Sensitivity,
    SplitRow,
)
from sim.model.scenario import Objectives, OptimizeSpec, Scenario, clock_seconds
from sim.run import run_scenario
from sim.shaping.schedule import compile_schedule

FRESH_SEED_BASE = 1000  # validation seeds are disjoint from the search seeds 1..N
WINDOW_SAMPLE_INTERVAL = 300.0  # seconds: the probes need no finer series
Progress = Callable[[int, int], None]
Job = tuple[Scenario, float, int, float]  # a probe's arguments: scenario, mbps, seed, growth


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
    point = (
        scenario.with_purchase(mbps)
        .with_run(seed=seed)
        .with_growth(scenario.spec.demand.growth * growth)
    )
    figures = objective_figures(summarize(run_scenario(point)))
    feasible = meets(figures, scenario.spec.optimize.objectives)
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

    It starts at the anchor (the current purchase, a likely neighbour of the answer), gallops
    up or down in strides of 2, 4, 8... grid points until it has seen both outcomes, then
    bisects between them: O(log n) probes, fewer the nearer the anchor.
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
            return grid[min(bisect.bisect_left(grid, self.anchor), len(grid) - 1)]
        stride = 2 ** len(self.points)  # exponential search: 2, 4, 8... grid points away
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


class _Pool:
    """A process pool that evaluates probes and reports progress as they finish."""

    def __init__(self, workers: int, progress: Progress | None) -> None:
        self.executor = worker_pool(workers)  # dies with this process, even by SIGKILL
        self.progress = progress
        self.done = 0
        self.submitted = 0

    def submit(self, jobs: list[Job]) -> list[Future[Probe]]:
        self.submitted += len(jobs)
        return [self.executor.submit(probe, *job) for job in jobs]

    def collect(self, futures: list[Future[Probe]]) -> list[Probe]:
        results = []
        for future in futures:
            results.append(future.result())
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.submitted)
        return results

    def probes(self, jobs: list[Job]) -> list[Probe]:
        return self.collect(self.submit(jobs))


def _bisect_all(
    pool: _Pool,
    scenarios: dict[str, Scenario],
    searches: list[Bisection],
    seeds: list[int],
    objectives: Objectives,
) -> None:
    """Advance every bisection one probe per round; each round's seeds run together.

    `scenarios` maps each policy to the windowed scenario that uses it."""
    while True:
        round_ = [(b, m) for b in searches if (m := b.next_mbps()) is not None]
        if not round_:
            return
        jobs = [(scenarios[b.key[0]], m, s, b.key[1]) for b, m in round_ for s in seeds]
        probes = pool.probes(jobs)
        for n, (search, _) in enumerate(round_):
            search.record(judge(probes[n * len(seeds) : (n + 1) * len(seeds)], objectives))


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
    spec = scenario.spec.optimize
    window = windowed(scenario)
    grid = purchase_grid(spec.min_mbps, spec.max_mbps, spec.step_mbps)
    scenarios = {p: window.with_policy(p) for p in spec.policies}
    pool = _Pool(workers or os.cpu_count() or 1, progress)
    try:
        current = scenario.spec.purchase.upstream_mbps
        searches = [Bisection((p, 1.0), grid, anchor=current) for p in spec.policies]
        _bisect_all(pool, scenarios, searches, _seeds(spec), spec.objectives)
        answers = {b.key[0]: _answer(b) for b in searches}
        choice = _cheapest(scenario, answers, grid)
        if choice is None:
            return Recommendation(False, answers, _grid_info(spec), spec.objectives.model_dump())
        policy, searched_mbps = choice
        fresh, grown = _check(pool, scenario, scenarios[policy], searched_mbps, grid)
        tiers = _tier_points(pool, scenario, scenarios[policy], answers[policy], fresh, grid)
        swings = sensitivities(pool, scenarios[policy], fresh.at_answer.mbps, grid, grown)
    finally:
        pool.executor.shutdown()
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
        growth={str(b.key[1]): _answer(b) for b in grown},
        split=split_table(answer),
        finance=finance(scenario, mbps),
        frontier=frontier(scenario, answers[policy], fresh, tiers),
        plan=compile_schedule(answer).otherwise.to_dict(),
        sensitivities=swings,
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


def sensitivities(
    pool: _Pool, chosen: Scenario, mbps: float, grid: list[float], grown: list[Bisection]
) -> list[Sensitivity]:
    """With `[optimize] sensitivity`: the purchase needed with each assumption low and high
    (searched between half and twice the answer, on `growth_seeds` seeds), and demand growth
    from the growth searches; largest swing first."""
    spec = chosen.spec.optimize
    if not spec.sensitivity:
        return []
    bracket = [m for m in grid if mbps / 2 <= m <= 2 * mbps] or [mbps]
    scenarios, searches = {}, []
    for name, _, _, *factors in VARIED:
        for factor in factors:
            scenarios[f"{name} {factor}"] = varied(chosen, name, factor)
            searches.append(Bisection((f"{name} {factor}", 1.0), bracket, anchor=mbps))
    _bisect_all(pool, scenarios, searches, _seeds(spec)[: spec.growth_seeds], spec.objectives)
    found = {b.key[0]: b.answer for b in searches}
    rows = [
        Sensitivity(name, low, high, found[f"{name} {lo}"], found[f"{name} {hi}"])
        for name, low, high, lo, hi in VARIED
    ]
    if grown:
        top = max(grown, key=lambda b: b.key[1])
        rows.append(Sensitivity("demand growth", "x1", f"x{top.key[1]:g}", mbps, top.answer))
    return sorted(rows, key=lambda r: -_swing(r, max(grid)))


def _swing(row: Sensitivity, ceiling: float) -> float:
    return abs((row.high_mbps or ceiling) - (row.low_mbps or ceiling))


def _tier_points(
    pool: _Pool,
    scenario: Scenario,
    chosen: Scenario,
    found: PolicyAnswer,
    fresh: FreshCheck,
    grid: list[float],
) -> list[Point]:
    """The chosen policy at the smallest and largest grid purchase of every price tier up to
    the answer's, where the search did not go: the frontier across the price table."""
    spec = scenario.spec.optimize
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
    seeds = _seeds(spec)
    probes = pool.probes([(chosen, m, s, 1.0) for m in wanted for s in seeds])
    return [
        judge(probes[i * len(seeds) : (i + 1) * len(seeds)], spec.objectives)
        for i in range(len(wanted))
    ]


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


def _check(
    pool: _Pool, scenario: Scenario, chosen: Scenario, mbps: float, grid: list[float]
) -> tuple[FreshCheck, list[Bisection]]:
    """The answer and the next cheaper option on fresh seeds, beside the growth searches; while
    the fresh seeds disagree with the answer, step up the grid."""
    spec = scenario.spec.optimize
    fresh = [FRESH_SEED_BASE + s for s in range(1, spec.confirm_seeds + 1)]

    def on_fresh(at: float) -> list[Future[Probe]]:
        return pool.submit([(chosen, at, s, 1.0) for s in fresh])

    cheaper = next_cheaper(scenario, mbps, grid)
    confirming = on_fresh(mbps)
    cheapening = on_fresh(cheaper) if cheaper is not None else []
    grown = _growth_searches(pool, chosen, mbps, grid, spec)
    confirm = judge(pool.collect(confirming), spec.objectives)
    cheaper_probes = pool.collect(cheapening)
    while not confirm.feasible:
        above = [m for m in grid if m > mbps]
        if not above:
            break
        mbps = above[0]
        confirm = judge(pool.collect(on_fresh(mbps)), spec.objectives)
        cheaper = next_cheaper(scenario, mbps, grid)
        cheaper_probes = pool.collect(on_fresh(cheaper)) if cheaper is not None else []
    cheaper_point = judge(cheaper_probes, spec.objectives) if cheaper_probes else None
    return FreshCheck(fresh, confirm, cheaper, cheaper_point), grown


def _growth_searches(
    pool: _Pool, chosen: Scenario, mbps: float, grid: list[float], spec: OptimizeSpec
) -> list[Bisection]:
    """Search for each growth factor, first between the answer and the answer scaled by
    1.25 x growth (demand rarely needs more), then above that bracket if it was too small;
    on `growth_seeds` of the seeds (indicative: the recommendation itself uses them all)."""
    seeds = _seeds(spec)[: spec.growth_seeds]
    scenarios = {chosen.spec.policy.name: chosen}
    searches = []
    for growth in spec.growth:
        upper = mbps * growth * 1.25
        bracket = [m for m in grid if mbps <= m <= upper] or [mbps]
        searches.append(Bisection((chosen.spec.policy.name, growth), bracket))
    _bisect_all(pool, scenarios, searches, seeds, spec.objectives)
    retry = [i for i, b in enumerate(searches) if b.answer is None]
    wider = [
        Bisection(searches[i].key, [m for m in grid if m > searches[i].grid[-1]]) for i in retry
    ]
    wider = [b for b in wider if b.grid]
    _bisect_all(pool, scenarios, wider, seeds, spec.objectives)
    for search in wider:
        i = next(i for i in retry if searches[i].key == search.key)
        search.points = searches[i].points + search.points
        searches[i] = search
    return searches


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
