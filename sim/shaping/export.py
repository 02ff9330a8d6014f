"""Deployable forms of a ShapingPlan, one module per target; this is the entry point.

    tc        sim.shaping.tc_script  (the commands of the one compiler, sim.shaping.tc)
    mikrotik  sim.shaping.routeros   (RouterOS v7: mangle marks and a queue tree)
    json      sim.shaping.planfile   (the plan as a file, read back validated)

Where the plan goes (site networks, the hub's interfaces, NAT) is a Deployment built from the
topology; what it does not say is a placeholder, flagged in the output (sim.shaping.deployment).
"""

from __future__ import annotations

from sim.shaping.deployment import Deployment, deployment
from sim.shaping.plan import ShapingPlan
from sim.shaping.planfile import plan_from_dict, to_json
from sim.shaping.routeros import to_routeros
from sim.shaping.tc_script import to_tc_script

FORMATS: tuple[str, ...] = ("tc", "mikrotik", "json")


def export(plan: ShapingPlan, fmt: str, where: Deployment | None = None) -> str:
    """The plan in one of FORMATS as text; where None: every address and interface assumed."""
    if fmt == "json":
        return to_json(plan_from_dict(plan.to_dict()))
    where = where if where is not None else deployment(plan)
    if fmt == "tc":
        return to_tc_script(plan, where)
    if fmt == "mikrotik":
        return to_routeros(plan, where)
    raise ValueError(f"unknown export format {fmt!r} (formats: {', '.join(FORMATS)})")
