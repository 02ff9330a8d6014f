"""The `[policy]` table of a scenario file: which policy shapes the root, with its parameters.

A static policy is one plan (its builder is declared in sim.shaping.policies.POLICIES); a
plug-in (`plugin = "FILE.py:Name"`, or the name of an entry point in the group
`netlab.policies`) is a user's policy object, loaded by sim.shaping.plugins; the `schedule`
policy switches static ones by weekday and time of day.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from sim.model.fields import ClockTime, clock_seconds
from sim.model.loading import PathText, Strict
from sim.model.policy_names import StaticPolicyName
from sim.model.units import MAX_MBPS

# The policy names a scenario may use: the static policies (StaticPolicyName, written from their
# declarations in sim.shaping.policies.POLICIES by `make policies`), a plug-in, and "schedule",
# which switches between them.
DEPLOYED: Literal["deployed"] = "deployed"  # the plan in force, read from a plan file (`plan`)
PLUGIN: Literal["plugin"] = "plugin"  # a user's policy, named by `plugin` (sim.shaping.plugins)
SCHEDULE: Literal["schedule"] = "schedule"
BuildableName = Literal[StaticPolicyName, "plugin"]
PolicyName = Literal[BuildableName, "schedule"]
STATIC_POLICIES: tuple[str, ...] = get_args(StaticPolicyName)
POLICY_NAMES: tuple[str, ...] = get_args(PolicyName)


class SiteOverride(Strict):
    """Explicit class settings for one site's leaf, applied after the policy built the plan."""

    rate_mbps: float | None = Field(default=None, gt=0, le=MAX_MBPS)
    ceil_mbps: float | None = Field(default=None, gt=0, le=MAX_MBPS)
    prio: int | None = Field(default=None, ge=0, le=7)

    @model_validator(mode="after")
    def _ceil_not_below_rate(self) -> SiteOverride:
        if self.rate_mbps and self.ceil_mbps and self.ceil_mbps < self.rate_mbps:
            raise ValueError("ceil_mbps is below rate_mbps")
        return self


class PolicyParams(Strict):
    """A static policy and its parameters (see docs/scenario-reference.md for each)."""

    name: BuildableName
    guaranteed_share: float = Field(default=0.9, gt=0, le=1)
    weights: dict[str, Annotated[float, Field(gt=0, le=1e6)]] = {}
    tier_share: dict[str, Annotated[float, Field(gt=0, le=1e6)]] = {}
    tier_prio: dict[str, int] = {}
    hotspot_ceil_mbps: float | None = Field(default=None, gt=0, le=MAX_MBPS)
    sites: dict[str, SiteOverride] = {}
    plan: PathText | None = Field(
        default=None, description="the deployed plan's JSON file, relative to the scenario file"
    )
    plugin: PathText | None = Field(
        default=None,
        description='a policy plug-in: "FILE.py:Name" (relative to the scenario file) or the '
        "name of an entry point in the group netlab.policies",
    )
    params: dict[str, Any] = Field(
        default={}, description="the plug-in's parameters, checked by its own schema"
    )

    @model_validator(mode="before")
    @classmethod
    def _plugin_named(cls, data: Any) -> Any:
        """`plugin = ...` alone is enough: its policy name is "plugin"."""
        if isinstance(data, dict) and data.get("plugin") is not None and "name" not in data:
            return {**data, "name": PLUGIN}
        return data

    @model_serializer(mode="wrap")
    def _without_unset_plan(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`plan`, `plugin` and `params` only where used: the dumps (and the hashes of sweep
        points and run folders taken over them) of every other policy stay as they were."""
        data: dict[str, Any] = handler(self)
        for key in ("plan", "plugin", "params"):
            if not data.get(key):
                data.pop(key, None)
        return data

    @model_validator(mode="after")
    def _params_valid(self) -> PolicyParams:
        if (self.name == PLUGIN) != (self.plugin is not None):
            raise ValueError('policy "plugin" and `plugin = "FILE.py:Name"` go together')
        if self.params and self.name != PLUGIN:
            raise ValueError("params only apply to a plug-in policy (plugin = ...)")
        if self.name == DEPLOYED and self.plan is None:
            raise ValueError(
                "policy 'deployed' needs plan = \"PLAN.json\" (a plan file, relative to the "
                "scenario file)"
            )
        for tier in [*self.tier_share, *self.tier_prio]:
            if tier not in TIERS:
                raise ValueError(f"unknown tier {tier!r} (tiers: {', '.join(TIERS)})")
        if any(not 0 <= p <= 7 for p in self.tier_prio.values()):
            raise ValueError("tier_prio values must be 0..7 (HTB priorities)")
        return self


TIERS = ("essential", "office", "subdistrict", "hotspot")


class ScheduleEntry(Strict):
    """Use `policy` on `days` between `start` and `end` (local clock, HH:MM)."""

    days: Literal["all", "weekday", "weekend"] = "all"
    start: ClockTime
    end: ClockTime
    policy: PolicyParams

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleEntry:
        if clock_seconds(self.start) >= clock_seconds(self.end):
            raise ValueError("start must be before end (split a period that crosses midnight)")
        return self


class PolicySpec(PolicyParams):
    """The `[policy]` table: a static policy, or `schedule` with entries and a fallback."""

    # widens the inherited name by "schedule": unsound for a PolicyParams, so a schedule itself
    # is never built, only its entries and fallback (sim.shaping.schedule.compile_schedule)
    name: PolicyName  # type: ignore[assignment]
    schedule: list[ScheduleEntry] = []
    otherwise: PolicyParams | None = None

    @model_validator(mode="after")
    def _schedule_complete(self) -> PolicySpec:
        if self.name == SCHEDULE and (not self.schedule or self.otherwise is None):
            raise ValueError(
                "policy 'schedule' needs [[policy.schedule]] entries and [policy.otherwise]"
            )
        if self.name != SCHEDULE and (self.schedule or self.otherwise):
            raise ValueError("schedule/otherwise only apply to policy 'schedule'")
        return self
