"""Comment lines every export carries: placeholders to replace, and the plan's warnings.

Free text (warnings) is reduced to inert printable ASCII, so a comment of a sh or RouterOS
script cannot end early or run anything.
"""

from __future__ import annotations

import re

from sim.shaping.deployment import Deployment
from sim.shaping.plan import ShapingPlan


def comment(text: str) -> str:
    """Free text reduced to something inert in a `#` comment of sh or RouterOS script."""
    return re.sub(r"[^A-Za-z0-9 _.,:;()/%+=<>'-]", "?", text)


def notes(plan: ShapingPlan, where: Deployment, warnings: list[str], placeholder: str) -> list[str]:
    """`# WARNING` lines for placeholders (placeholder: what an assumed interface means) and
    `# plan warning` lines for the plan's and the compiler's warnings."""
    out = []
    assumed_interface = any(p.endswith("_interface") for p in where.placeholders)
    if where.placeholders:
        out += [
            "# WARNING: PLACEHOLDERS below, not in the topology: "
            + comment(", ".join(where.placeholders))
            + ".",
            "# Placeholder site addresses are 10.A.B.0/24"
            + ("; " + placeholder if assumed_interface else "."),
            "# Set subnets, lan_interface, wan_interface and nat in the topology and export again.",
        ]
    return out + [f"# plan warning: {comment(w)}" for w in [*plan.warnings, *warnings]]


def mbit(bps: float) -> str:
    return f"{bps / 1e6:.3f} Mbit/s"
