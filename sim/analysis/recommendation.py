"""What `netlab optimize` answers, as recommendation.json holds it, typed.

The optimiser (sim/studies/optimize/) builds these: every simulated `Probe`, the
`SearchPoint`s that pool a purchase's seeds, each policy's `PolicyAnswer`, the `FreshCheck` of
the answer on unseen seeds, the `SplitRow`s of the recommended plan, `JudgedOn` (the run, busy
windows and seeds every verdict rests on), and the `Recommendation` around them. Each has
`to_json` (plain data, keys in recommendation.json's order) and `from_json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sim.analysis.labels import objective_fields
from sim.model.scenario import Scenario
from sim.model.scenario_schema import Target


@dataclass(frozen=True)
class Probe:
    """One simulated point: a policy at a purchase, for one seed and demand growth."""

    policy: str
    mbps: float
    seed: int
    growth: float
    figures: dict[str, float | None]  # each objective's figure (summary.json's objectives)
    feasible: bool  # this seed alone meets the objectives


@dataclass(frozen=True)
class SearchPoint:
    """A purchase judged over all its seeds: feasible when the mean figures meet targets."""

    policy: str
    mbps: float
    growth: float
    mean: dict[str, float | None]
    feasible: bool
    seeds_meeting: int
    probes: list[Probe]

    def to_json(self) -> dict[str, Any]:
        return {
            "mbps": self.mbps,
            "feasible": self.feasible,
            "mean": self.mean,
            "seeds_meeting": self.seeds_meeting,
            "seeds": len(self.probes),
            "per_seed": [asdict(p) for p in self.probes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchPoint:
        probes = [Probe(**p) for p in data["per_seed"]]
        first = probes[0]
        return cls(
            first.policy,
            data["mbps"],
            first.growth,
            data["mean"],
            data["feasible"],
            data["seeds_meeting"],
            probes,
        )


@dataclass(frozen=True)
class PolicyAnswer:
    """A bisection's answer with its probed points, and how often the monotonicity it assumes
    was violated (pairs of probes of one seed: the larger purchase failed, the smaller met)."""

    mbps: float | None
    points: list[SearchPoint]  # by purchase
    monotonicity_violations: int

    def to_json(self) -> dict[str, Any]:
        return {
            "mbps": self.mbps,
            "points": [p.to_json() for p in self.points],
            "monotonicity_violations": self.monotonicity_violations,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PolicyAnswer:
        points = [SearchPoint.from_json(p) for p in data["points"]]
        return cls(data["mbps"], points, data["monotonicity_violations"])


@dataclass(frozen=True)
class FreshCheck:
    """The answer, and the next cheaper option on the price table, on seeds the search never
    saw."""

    seeds: list[int]
    at_answer: SearchPoint
    cheaper_mbps: float | None
    at_cheaper: SearchPoint | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "at_answer": self.at_answer.to_json(),
            "cheaper_mbps": self.cheaper_mbps,
            "at_cheaper": None if self.at_cheaper is None else self.at_cheaper.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FreshCheck:
        cheaper = data["at_cheaper"]
        return cls(
            data["seeds"],
            SearchPoint.from_json(data["at_answer"]),
            data["cheaper_mbps"],
            None if cheaper is None else SearchPoint.from_json(cheaper),
        )


@dataclass(frozen=True)
class SplitRow:
    """One site's leaf in the recommended plan (downloads; uploads have the same shape)."""

    site: str
    rate_mbps: float
    ceil_mbps: float
    prio: int
    quantum: int | None


@dataclass(frozen=True)
class Finance:
    """What a finance office signs: the answer's yearly cost against today's purchase and the
    budget ceiling (Rupiah a year; positive savings and margins are money kept)."""

    current_mbps: float
    current_yearly_idr: float
    yearly_idr: float
    savings_yearly_idr: float
    budget_yearly_idr: float | None
    below_budget_yearly_idr: float | None

    def against_today(self) -> str:
        """The answer's yearly cost against today's purchase in words: "saves Rp1,000 a
        year", "costs Rp1,000 more a year" (never a negative saving), or "costs the same"."""
        amount = round(self.savings_yearly_idr)
        if amount == 0:
            return "costs the same a year"
        if amount > 0:
            return f"saves Rp{amount:,d} a year"
        return f"costs Rp{-amount:,d} more a year"


@dataclass(frozen=True)
class FrontierRow:
    """One simulated purchase of the chosen policy: its price, tier and verdict."""

    mbps: float
    monthly_idr: float
    idr_per_mbps_month: float  # the price tier it falls in
    feasible: bool
    role: str  # "search", "price tier edge", "answer (fresh seeds)", "next cheaper (fresh seeds)"
    missed: list[str]  # the objectives its mean figures miss
    seeds: list[int] = field(default_factory=list)  # the seeds its mean figures are over


def frontier_purchases(rows: list[FrontierRow]) -> list[tuple[FrontierRow, list[FrontierRow]]]:
    """The frontier a purchase at a time, in order: the row whose verdict stands (the one on
    fresh seeds where the purchase was also checked on them) and all its rows. A purchase
    the search probed and then confirmed (the answer, the next cheaper option) has two rows,
    one per set of seeds: one purchase, not two."""
    by_mbps: dict[float, list[FrontierRow]] = {}
    for row in rows:
        by_mbps.setdefault(row.mbps, []).append(row)
    return [
        (next((r for r in runs if "fresh seeds" in r.role), runs[-1]), runs)
        for runs in by_mbps.values()
    ]


@dataclass(frozen=True)
class JudgedOn:
    """What every verdict of a recommendation rests on: the scenario's own run (its start and
    length; each day in it with the profile its busy windows take), each kind's busy windows
    (`objectives.busy_windows`), and the seeds of each kind of verdict. A probe simulates what
    `netlab run` simulates at its purchase, policy and seed, judged by the same objectives."""

    start: str  # local time, ISO
    duration_s: float
    days: dict[str, str]  # ISO date: "weekday" or "weekend"
    busy_fraction: float
    busy_windows: dict[str, dict[str, list[str]]]  # kind: {"weekday": ["08:00-12:00"], ...}
    seeds: dict[str, list[int]]  # "search", "fresh", "growth and sensitivity", "run at the answer"

    def line(self) -> str:
        """The whole of it in one line, for the command's screen and recommendation.html."""
        present = set(self.days.values())  # the windows of day kinds the run has
        used = {
            kind: {day: ranges for day, ranges in by_day.items() if ranges and day in present}
            for kind, by_day in self.busy_windows.items()
        }
        windows = "; ".join(
            f"{kind} " + ", ".join(f"{', '.join(ranges)} on {day}s" for day, ranges in by.items())
            for kind, by in used.items()
            if by
        )
        seeds = ", ".join(f"{_seed_list(s)} ({role})" for role, s in self.seeds.items())
        return (
            f"judged on the whole run from {self.start[:16].replace('T', ' ')} for "
            f"{self.duration_s / 3600:g} h ({_day_list(self.days)}), in each kind's busy "
            f"windows ({windows}); seeds {seeds}"
        )


def _day_list(days: dict[str, str]) -> str:
    """The days in words: one ISO date and its kind, or the first and last and the counts."""
    dates = list(days)
    if len(dates) == 1:
        return f"{dates[0]}, a {days[dates[0]]}"
    weekends = sum(kind == "weekend" for kind in days.values())
    return f"{dates[0]} to {dates[-1]}: {len(dates) - weekends} weekdays, {weekends} weekend days"


def _seed_list(seeds: list[int]) -> str:
    """Consecutive seeds as a range ("1-3"), others listed."""
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


@dataclass(frozen=True)
class Sensitivity:
    """The purchase the chosen policy needs with one assumption set low and high (None:
    above the searched bracket), beside the answer's."""

    assumption: str
    low: str  # what "low" means, e.g. "x0.8"
    high: str
    low_mbps: float | None
    high_mbps: float | None


@dataclass(frozen=True)
class Recommendation:
    """What recommendation.json holds: the purchase and policy to buy and deploy, what each
    policy needed, the checks on fresh seeds and under growth, and the recommended split.

    When no policy meets the objectives on the grid only `feasible`, `policies`, `grid` and
    `objectives` are set. `scenario` (not in the JSON) is the scenario at the answer.
    """

    feasible: bool
    policies: dict[str, PolicyAnswer]
    grid: dict[str, Any]
    objectives: dict[str, float | None]
    policy: str | None = None
    policy_params: dict[str, Any] = field(default_factory=dict)  # those not at their default
    mbps: float | None = None
    searched_mbps: float | None = None  # what the search alone found
    monthly_idr: float | None = None
    yearly_idr: float | None = None
    judged_on: JudgedOn | None = None
    fresh_seeds: FreshCheck | None = None
    growth: dict[str, PolicyAnswer] = field(default_factory=dict)  # by growth factor
    split: list[SplitRow] = field(default_factory=list)
    finance: Finance | None = None
    frontier: list[FrontierRow] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)  # ShapingPlan.to_dict(): for export
    sensitivities: list[Sensitivity] = field(default_factory=list)  # largest swing first
    target: Target = "linux"  # what the plan was simulated for: in the JSON only if RouterOS
    scenario: Scenario | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data; parameters of the policy appear only where they differ from its
        defaults."""
        policies = {name: answer.to_json() for name, answer in self.policies.items()}
        if self.policy is None or self.fresh_seeds is None:
            return {
                "feasible": self.feasible,
                "policies": policies,
                "grid": self.grid,
                "objectives": self.objectives,
                "objective_labels": self.objective_labels(),
            }
        params = {"policy_params": self.policy_params} if self.policy_params else {}
        return {
            "feasible": self.feasible,
            "policy": self.policy,
            **params,
            "mbps": self.mbps,
            "searched_mbps": self.searched_mbps,
            "monthly_idr": self.monthly_idr,
            "yearly_idr": self.yearly_idr,
            "objectives": self.objectives,
            "objective_labels": self.objective_labels(),
            "grid": self.grid,
            "judged_on": None if self.judged_on is None else asdict(self.judged_on),
            "policies": policies,
            "fresh_seeds": self.fresh_seeds.to_json(),
            "growth": {factor: answer.to_json() for factor, answer in self.growth.items()},
            "split": [asdict(row) for row in self.split],
            "finance": None if self.finance is None else asdict(self.finance),
            "frontier": [asdict(row) for row in self.frontier],
            "sensitivities": [asdict(row) for row in self.sensitivities],
            "plan": self.plan,
            **({"target": self.target} if self.target != "linux" else {}),
        }

    def objective_labels(self) -> dict[str, dict[str, str]]:
        """Each objective's plain label and unit (from_json needs none: they follow the names)."""
        return {name: objective_fields(name) for name in self.objectives}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recommendation:
        fresh, judged = data.get("fresh_seeds"), data.get("judged_on")
        return cls(
            feasible=data["feasible"],
            policies={k: PolicyAnswer.from_json(v) for k, v in data["policies"].items()},
            grid=data["grid"],
            objectives=data["objectives"],
            policy=data.get("policy"),
            policy_params=data.get("policy_params", {}),
            mbps=data.get("mbps"),
            searched_mbps=data.get("searched_mbps"),
            monthly_idr=data.get("monthly_idr"),
            yearly_idr=data.get("yearly_idr"),
            judged_on=None if judged is None else JudgedOn(**judged),
            fresh_seeds=None if fresh is None else FreshCheck.from_json(fresh),
            growth={k: PolicyAnswer.from_json(v) for k, v in data.get("growth", {}).items()},
            split=[SplitRow(**row) for row in data.get("split", [])],
            finance=None if data.get("finance") is None else Finance(**data["finance"]),
            frontier=[FrontierRow(**row) for row in data.get("frontier", [])],
            plan=data.get("plan", {}),
            sensitivities=[Sensitivity(**row) for row in data.get("sensitivities", [])],
            target=data.get("target", "linux"),
        )
