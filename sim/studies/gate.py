"""The plan gate's statistics: does a candidate (scenario, plan file or changed topology)
serve any site or tier worse than the baseline, beyond a tolerance and with confidence?

Both sides run the same window on the same common seeds, so each seed's demand is the same
on both sides (paired). For every site, every tier and the whole regency, and for each
objective figure, the per-seed differences candidate - baseline get a mean and a 95 % CI
(sim.analysis.compare.paired_difference). A figure *regresses* when the whole interval lies
below -tolerance (mean + CI < -tolerance: worse by more than the tolerance, with 95 %
confidence), *improves* when it lies above +tolerance; a site the candidate no longer serves
regresses. All figures are shares (0..1, higher is better), so one tolerance fits them all.

Neutral edits must not move a figure: sites are matched by id, else by name (a renamed id),
and both sides put the topology's sites in one canonical order (by what a site is, its id
last) before seeding, because the demand model seeds sites in topology order: reordering the
sites of a topology file then changes nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sim.analysis.compare import PairedDifference, paired_difference
from sim.analysis.metrics import summarize
from sim.analysis.summary import SiteFigures, Summary
from sim.model.fields import clock_seconds
from sim.model.scenario import Scenario, load_scenario
from sim.model.topology import Site
from sim.run import run_scenario
from sim.shaping.deployed import check_plan
from sim.shaping.plan import ShapingPlan
from sim.shaping.planfile import load_plan_file
from sim.shaping.policies import tier_of
from sim.shaping.schedule import compile_schedule

SITE_OBJECTIVES = ("satisfaction", "busy_hour_satisfaction", "paced_at_rate_share")
OVERALL = "regency"
DEFAULT_TOLERANCE = 0.02  # two percentage points of a share
Key = tuple[str, str, str]  # (scope: site/tier/overall, subject, objective)


@dataclass(frozen=True)
class Side:
    """One side of the gate: a scenario, and the plan that replaces its policy's (a plan
    file), if any. `label` is what the reports call it."""

    label: str
    scenario: Scenario
    plan: ShapingPlan | None = None


@dataclass(frozen=True)
class Row:
    """One figure of the gate: the paired difference and its verdict."""

    scope: str  # "site", "tier" or "overall"
    subject: str  # site id (the baseline's), tier name or "regency"
    objective: str
    baseline: float | None  # means over the seeds
    candidate: float | None
    diff: float | None  # mean of candidate - baseline
    ci: float | None  # 95 % half-width
    n: int  # paired seeds
    verdict: str  # pass, regressed, improved, removed, added, too few (paired seeds < 2)

    @property
    def failed(self) -> bool:
        return self.verdict in ("regressed", "removed")


@dataclass(frozen=True)
class GateResult:
    """The gate's answer: both sides, the seeds and window, and every figure's Row."""

    baseline: str
    candidate: str
    seeds: list[int]
    tolerance: float
    window: str  # e.g. "2022-02-01 08:00 + 2h"
    rows: list[Row]
    names: dict[str, str]  # site id -> name, both sides' sites

    @property
    def failed(self) -> list[Row]:
        return [row for row in self.rows if row.failed]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data, keys in field order."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GateResult:
        """Read back what to_json wrote."""
        return cls(**{**data, "rows": [Row(**row) for row in data["rows"]]})


def canonical(scenario: Scenario) -> Scenario:
    """The scenario with its topology's sites in an order that file order and ids do not set
    (see the module docstring)."""
    sites = sorted(scenario.inventory.sites, key=_site_key)
    inventory = scenario.inventory.model_copy(update={"sites": sites})
    return Scenario.resolve(scenario.path, scenario.spec, inventory)


def _site_key(site: Site) -> tuple[str, int, float, float, bool, bool, str]:
    access = site.access_mbps if site.access_mbps is not None else -1.0
    return (site.kind, site.users, access, site.latency_ms, site.essential, site.reached, site.id)


def load_sides(baseline: Path, candidate: Path, scenario: Path | None = None) -> tuple[Side, Side]:
    """The two sides from their files: a scenario (.toml) or a plan file (.json), which runs on
    `scenario`'s demand and topology, by default the other side's scenario. Bad input raises
    ConfigError; two plan files without a scenario raise ValueError."""
    paths = (baseline, candidate)
    scenarios = [p for p in paths if p.suffix != ".json"]
    demand_path = scenario or (scenarios[0] if scenarios else None)
    if demand_path is None:
        raise ValueError("--scenario: needed when both sides are plan files (their demand)")
    demand = canonical(load_scenario(demand_path))
    sides = []
    for path in paths:
        if path.suffix == ".json":
            plan = load_plan_file(path)
            check_plan(path, plan, demand)
            sides.append(Side(str(path), demand, plan))
        else:
            loaded = canonical(load_scenario(path)) if path != demand_path else demand
            compile_schedule(loaded)  # plan-level input errors ([policy.sites]) surface here
            sides.append(Side(str(path), loaded))
    return sides[0], sides[1]


def default_window(scenario: Scenario) -> tuple[float, float]:
    """The gate's and what-if's default window, `[optimize] window_start` and `window`: (start,
    length) in seconds."""
    spec = scenario.spec.optimize
    return clock_seconds(spec.window_start), float(spec.window)


def run_side(side: Side, start_s: float, duration_s: float, seed: int) -> Summary:
    """One seed of one side, on the gate's window, its plan file (if any) in force."""
    scenario = side.scenario.with_window((start_s, duration_s)).with_run(seed=seed)
    return summarize(run_scenario(scenario, plan=side.plan))


def figures(summary: Summary, scenario: Scenario) -> dict[Key, float]:
    """Every objective figure of a run: per site and per tier the three shares, for the whole
    regency the scenario's objectives whose figure is a share (higher is better; completion
    times are left out); a figure with nothing to measure is left out."""
    out: dict[Key, float] = {}
    tiers: dict[str, list[SiteFigures]] = {}
    tier_by_site = {site.id: tier_of(site) for site in scenario.sites}
    for site in summary.sites:
        tiers.setdefault(tier_by_site[site.id], []).append(site)
        for objective in SITE_OBJECTIVES:
            value = getattr(site, objective)
            if value is not None:
                out[("site", site.id, objective)] = float(value)
    for tier, members in tiers.items():
        offered = sum(s.offered_gb for s in members)
        if offered > 0:
            out[("tier", tier, "satisfaction")] = sum(s.delivered_gb for s in members) / offered
        for objective in SITE_OBJECTIVES[1:]:
            values = [getattr(s, objective) for s in members if getattr(s, objective) is not None]
            if values:
                out[("tier", tier, objective)] = sum(values) / len(values)
    for row in summary.objectives:  # the scenario's objectives that are shares
        if row.better == "higher" and row.value is not None:
            out[("overall", OVERALL, row.name)] = float(row.value)
    return out


def site_map(baseline: Scenario, candidate: Scenario) -> dict[str, str]:
    """Candidate site id -> baseline site id: the same id, else the same name."""
    base_ids = {site.id for site in baseline.sites}
    by_name = {site.name: site.id for site in baseline.sites}
    mapping = {}
    for site in candidate.sites:
        if site.id in base_ids:
            mapping[site.id] = site.id
        elif site.name in by_name and by_name[site.name] not in {s.id for s in candidate.sites}:
            mapping[site.id] = by_name[site.name]
    return mapping


def relabel(values: dict[Key, float], mapping: dict[str, str]) -> dict[Key, float]:
    """A candidate's site figures under the baseline's site ids (unmatched sites keep theirs,
    marked with a leading '+')."""
    out = {}
    for (scope, subject, objective), value in values.items():
        if scope == "site":
            subject = mapping.get(subject, f"+{subject}")
        out[(scope, subject, objective)] = value
    return out


def per_seed(
    baseline: Side, candidate: Side, seeds: list[int], start_s: float, duration_s: float
) -> Iterator[tuple[int, dict[Key, float], dict[Key, float]]]:
    """(seed, baseline figures, candidate figures under baseline ids) for each seed."""
    mapping = site_map(baseline.scenario, candidate.scenario)
    for seed in seeds:
        base = figures(run_side(baseline, start_s, duration_s, seed), baseline.scenario)
        cand = figures(run_side(candidate, start_s, duration_s, seed), candidate.scenario)
        yield seed, base, relabel(cand, mapping)


def judge(
    base: dict[Key, dict[int, float]], cand: dict[Key, dict[int, float]], tolerance: float
) -> list[Row]:
    """One Row per figure either side has, in a stable order (overall, tiers, sites)."""
    order = {"overall": 0, "tier": 1, "site": 2}
    served = {
        side: {k[1] for k in figs if k[0] == "site"} for side, figs in (("b", base), ("c", cand))
    }
    rows = []
    for key in sorted(set(base) | set(cand), key=lambda k: (order[k[0]], k[1], k[2])):
        a, b = cand.get(key, {}), base.get(key, {})
        diff = paired_difference(a, b)
        if key[0] == "site" and key[1] not in served["c"]:
            verdict = "removed"
        elif key[0] == "site" and key[1] not in served["b"]:
            verdict = "added"
        else:
            verdict = _verdict(diff, tolerance)
        rows.append(
            Row(
                *key,
                baseline=_mean(b),
                candidate=_mean(a),
                diff=diff.mean,
                ci=diff.ci,
                n=diff.n,
                verdict=verdict,
            )
        )
    return rows


def _verdict(diff: PairedDifference, tolerance: float) -> str:
    """regressed / improved when the whole 95 % interval lies beyond -/+ tolerance."""
    if diff.ci is None or diff.mean is None:
        return "too few"
    if diff.mean + diff.ci < -tolerance:
        return "regressed"
    return "improved" if diff.mean - diff.ci > tolerance else "pass"


def _mean(values: dict[int, float]) -> float | None:
    return sum(values.values()) / len(values) if values else None


def gate(
    baseline: Side,
    candidate: Side,
    seeds: list[int],
    window_s: tuple[float, float],
    tolerance: float = DEFAULT_TOLERANCE,
) -> GateResult:
    """Run both sides on the common seeds and judge every figure (see the module docstring)."""
    if len(seeds) < 2:
        raise ValueError("the gate needs at least 2 seeds for a confidence interval")
    start_s, duration_s = window_s
    base: dict[Key, dict[int, float]] = {}
    cand: dict[Key, dict[int, float]] = {}
    for seed, b, c in per_seed(baseline, candidate, seeds, start_s, duration_s):
        for key, value in b.items():
            base.setdefault(key, {})[seed] = value
        for key, value in c.items():
            cand.setdefault(key, {})[seed] = value
    first = baseline.scenario.with_window(window_s)
    return GateResult(
        baseline=baseline.label,
        candidate=candidate.label,
        seeds=list(seeds),
        tolerance=tolerance,
        window=f"{first.start:%Y-%m-%d %H:%M} + {duration_s / 60:g} min",
        rows=judge(base, cand, tolerance),
        names={
            **{f"+{site.id}": site.name for site in candidate.scenario.sites},
            **{site.id: site.name for site in baseline.scenario.sites},
        },
    )
