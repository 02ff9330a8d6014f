"""The `deployed` policy: the plan in force, read from a plan file, not built from the sites.

`netlab import-config` writes the shaping a router already applies as a plan file and a
scenario whose `[policy]` names it (`plan`, relative to the scenario file). The plan is used as
it is written, whatever the purchase: its root is the router's, so it must shape exactly the
scenario's served sites and its root ceiling must fit under the purchase (a bigger purchase
changes the cost, not the plan). `[policy.sites]` overrides apply to its leaves as to any
policy's. The optimiser does not search it: it has no purchase to scale.
"""

from __future__ import annotations

from pathlib import Path

from sim.model.errors import ConfigError
from sim.model.flow import Direction
from sim.model.policy_spec import PolicyParams
from sim.model.scenario import Scenario
from sim.shaping.plan import DIRECTIONS, HtbClass, ShapingPlan
from sim.shaping.planfile import load_plan_file


def check_plan(path: Path, plan: ShapingPlan, scenario: Scenario) -> None:
    """A plan file must shape exactly the scenario's served sites (ConfigError otherwise)."""
    served = {site.id for site in scenario.sites}
    for direction in DIRECTIONS:
        shaped = {c.site for c in plan.tree(direction).leaves if c.site is not None}
        if shaped != served:
            extra, missing = sorted(shaped - served), sorted(served - shaped)
            problem = f"plan's sites differ from {scenario.path.name}'s served sites"
            detail = ", ".join([*(f"+{s}" for s in extra), *(f"-{s}" for s in missing)])
            raise ConfigError(path, direction, f"{problem} ({detail})")


def deployed_trees(
    params: PolicyParams, scenario: Scenario, key: str = "policy"
) -> tuple[dict[Direction, list[HtbClass]], list[str]]:
    """The classes of each direction of the deployed plan file, and the file's warnings.

    Bad input raises ConfigError: a bad plan file names its own key, a plan whose sites are
    not the served ones names the direction, one whose root is above the purchase names
    `KEY.plan`.
    """
    assert params.plan is not None  # PolicyParams requires it for `deployed`
    path = scenario.path.parent / params.plan
    plan = load_plan_file(path)
    check_plan(path, plan, scenario)
    for direction in DIRECTIONS:
        root = plan.tree(direction).root
        if root.ceil > scenario.upstream_bps * (1 + 1e-9):
            raise ConfigError(
                scenario.path,
                f"{key}.plan",
                f"{params.plan}'s {direction} root ceiling ({root.ceil / 1e6:g} Mbit/s) is above "
                f"purchase.upstream_mbps ({scenario.upstream_bps / 1e6:g}): the plan would "
                "carry more than is bought",
            )
    trees = {d: list(plan.tree(d).classes) for d in DIRECTIONS}
    return trees, list(plan.warnings)
