"""The fluid-versus-kernel comparison of `netlab validate`: a CSV and a plot."""

from __future__ import annotations

import csv
from html import escape
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from sim.report.page import div, write_page

COLUMNS = [
    "site",
    "direction",
    "fluid_bps",
    "kernel_bps",
    "diff_bps",
    "rel_diff",
    "fluid_fct_s",
    "kernel_fct_s",
    "fluid_flows",
    "kernel_flows",
]


def write_validation(folder: Path, rows: list[dict[str, Any]], title: str) -> None:
    """Write validation.csv and validation.html (per-class throughput, fluid vs kernel)."""
    with (folder / "validation.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows({k: row[k] for k in COLUMNS} for row in rows)
    body = [
        f"<h1>Validation: {escape(title)}</h1>",
        "<p>Mean L2 throughput through each site's leaf class over the window, as the "
        "fluid model predicts it and as the kernel's HTB counters measured it, with the "
        "same scenario and seed. Demand is closed loop, so flows diverge once the "
        "backends do.</p>",
    ]
    for direction in ("down", "up"):
        part = [r for r in rows if r["direction"] == direction]
        fig = go.Figure()
        for backend in ("fluid", "kernel"):
            fig.add_bar(
                name=backend,
                x=[r["site"] for r in part],
                y=[r[f"{backend}_bps"] / 1e6 for r in part],
            )
        fig.update_layout(
            title=f"{direction}: Mbit/s per site",
            barmode="group",
            height=380,
            yaxis={"title": "Mbit/s (L2)"},
        )
        body.append(div(fig))
    write_page(folder / "validation.html", f"validation {title}", body)
