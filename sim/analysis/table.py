"""The table of runs that sweeps write and comparisons read: its figure columns and cell text.

One row a run (a sweep point and a seed): the grid values, the seed, the status and the
headline figures below. Both the sweep runner (which writes results.csv) and the comparison
statistics (which group and pair rows, from memory or read back from the CSV) use these, so
the comparison does not depend on the sweep machinery.
"""

from __future__ import annotations

import json
from typing import Any

from sim.model.topology import SITE_KINDS

METRIC_COLUMNS = (
    "satisfaction",
    "busy_hour_satisfaction",
    "jain",
    "paced_at_rate_share",
    "unmet_gb",
    "util_mean",  # downstream, the billed and binding direction
    "util_p95",
    "billing95_mbps",
    "monthly_idr",
    "per_delivered_gb_idr",
    "idle_idr",
    *(f"worst_{kind}_satisfaction" for kind in SITE_KINDS),
)


def cell_text(value: Any) -> str:
    """A table value as results.csv writes it (floats exactly, tables as JSON)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list | bool):
        return json.dumps(value, sort_keys=True)
    return str(value)
