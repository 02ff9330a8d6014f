"""Plans over time: a static policy is one plan; `schedule` switches plans by clock and weekday."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sim.model.fields import clock_seconds
from sim.model.policy_spec import SCHEDULE
from sim.model.scenario import Scenario
from sim.shaping.plan import ShapingPlan
from sim.shaping.policies import compile_policy

DAY = 86400.0


@dataclass(frozen=True)
class Period:
    days: str  # "all", "weekday" or "weekend"
    start: float  # seconds after local midnight
    end: float
    plan: ShapingPlan

    def covers(self, when: dt.datetime) -> bool:
        clock = when.hour * 3600 + when.minute * 60 + when.second
        weekend = when.weekday() >= 5
        day_ok = self.days == "all" or (self.days == "weekend") == weekend
        return day_ok and self.start <= clock < self.end


@dataclass(frozen=True)
class PlanSchedule:
    """Which plan is in force when: the first period that covers a moment, else `otherwise`."""

    periods: tuple[Period, ...]
    otherwise: ShapingPlan

    def plan_at(self, when: dt.datetime) -> ShapingPlan:
        for period in self.periods:
            if period.covers(when):
                return period.plan
        return self.otherwise

    def next_switch(self, when: dt.datetime) -> dt.datetime | None:
        """The next moment after `when` at which the plan in force may change (None: never)."""
        if not self.periods:
            return None
        marks = sorted({p.start for p in self.periods} | {p.end for p in self.periods})
        midnight = when.replace(hour=0, minute=0, second=0, microsecond=0)
        clock = (when - midnight).total_seconds()
        later = [m for m in marks if m > clock + 1e-9]
        offset = later[0] if later else DAY + marks[0]
        return midnight + dt.timedelta(seconds=offset)

    @property
    def plans(self) -> list[ShapingPlan]:
        return [*(p.plan for p in self.periods), self.otherwise]

    @property
    def warnings(self) -> list[str]:
        return [w for plan in self.plans for w in plan.warnings]


def compile_schedule(scenario: Scenario) -> PlanSchedule:
    """The scenario's policy as a PlanSchedule (static policies have no periods)."""
    spec = scenario.spec.policy
    if spec.name != SCHEDULE:
        return PlanSchedule((), compile_policy(spec, scenario))
    assert spec.otherwise is not None  # enforced by PolicySpec
    periods = tuple(
        Period(
            e.days,
            clock_seconds(e.start),
            clock_seconds(e.end),
            compile_policy(e.policy, scenario, f"policy.schedule[{i}].policy"),
        )
        for i, e in enumerate(spec.schedule)
    )
    return PlanSchedule(periods, compile_policy(spec.otherwise, scenario, "policy.otherwise"))
