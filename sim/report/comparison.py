"""comparison.html of a sweep: the comparison statistics (sim.analysis.compare) drawn.

A page that opens offline (plotly.js from the plotly.min.js beside it): the verdicts, a table
of means with 95 % confidence intervals, monthly cost against busy-hour satisfaction and
against fairness with the Pareto frontier of the points' means, a per-site heatmap and bars of
the means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis.compare import (
    DEFAULT_METRICS,
    NOT_CONTEXT,
    Comparison,
    MeanCI,
    compare,
    estimate_text,
    group_label,
    label,
    pareto_front,
)
from sim.analysis.table import cell_text
from sim.report.page import div, write_page

if TYPE_CHECKING:
    from sim.studies.sweep.runner import SweepResult


def compare_report(
    result: SweepResult,
    rows: list[dict[str, Any]],
    out_path: Path,
    by: str | Sequence[str] = "policy.name",
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> Path:
    """Write the HTML comparison (and plotly.min.js beside it) and return its path."""
    keys = [by] if isinstance(by, str) else list(by)
    comparison = compare(rows, keys, metrics)
    done = [row for row in rows if row.get("status", "done") == "done"]
    body = [
        f"<h1>netlab comparison: {escape(result.sweep.name)}</h1>",
        f"<p class='meta'>{escape(result.sweep.description)} · {len(done)} runs · grouped by "
        f"{escape(', '.join(keys))} · seeds {escape(', '.join(map(str, result.sweep.seeds)))}</p>",
        "<h2>Verdict</h2>",
        "<ul>" + "".join(f"<li>{escape(v)}</li>" for v in comparison.verdicts) + "</ul>",
        _means_table(comparison),
        "<h2>Cost against service</h2>",
        div(_pareto_figure(done, keys, "busy_hour_satisfaction")),
        div(_pareto_figure(done, keys, "jain")),
        "<h2>Sites</h2>",
        div(_heatmap(done, keys, result.summaries(done))),
        "<h2>Means with 95 % confidence intervals</h2>",
        div(_bars(comparison)),
    ]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_page(out_path, f"comparison {result.sweep.name}", body)
    return out_path


def _pareto_figure(rows: list[dict[str, Any]], keys: list[str], metric: str) -> go.Figure:
    """Monthly cost against a service figure: every run, and the frontier of point means."""
    figure = label(metric)
    fig = go.Figure()
    usable = [r for r in rows if r.get(metric) not in (None, "")]
    for name in dict.fromkeys(group_label(r, keys) for r in usable):
        mine = [r for r in usable if group_label(r, keys) == name]
        fig.add_scatter(
            x=[float(r["monthly_idr"]) for r in mine],
            y=[float(r[metric]) for r in mine],
            mode="markers",
            name=name,
            text=[_hover(r) for r in mine],
            hoverinfo="text+x+y",
        )
    by_point: dict[str, list[dict[str, Any]]] = {}
    for r in usable:
        by_point.setdefault(str(r["point"]), []).append(r)
    means = [
        (
            float(np.mean([float(r["monthly_idr"]) for r in runs])),
            float(np.mean([float(r[metric]) for r in runs])),
            _hover(runs[0], seed=False),
        )
        for runs in by_point.values()
    ]
    front = [means[i] for i in pareto_front([(x, y) for x, y, _ in means])]
    fig.add_scatter(
        x=[m[0] for m in front],
        y=[m[1] for m in front],
        mode="lines+markers",
        line={"shape": "hv", "color": "black", "dash": "dot"},
        marker={"symbol": "diamond-open", "size": 12, "color": "black"},
        name="frontier (means over seeds)",
        text=[m[2] for m in front],
        hoverinfo="text+x+y",
    )
    fig.update_layout(
        title=f"Monthly cost against {figure}",
        xaxis=_cost_axis([float(r["monthly_idr"]) for r in usable]),
        yaxis_title=figure,
        height=420,
    )
    return fig


def _cost_axis(costs: list[float]) -> dict[str, Any]:
    """The cost axis from zero, in millions of Rupiah: never a degenerate range such as
    14.249999M..14.250001M when every run costs the same."""
    top = max(costs, default=0.0)
    return {
        "title": "monthly cost (Rp)",
        "range": [0, 1.1 * top if top > 0 else 1.0],
        "tickformat": ",.3s",
    }


def _heatmap(
    rows: list[dict[str, Any]], keys: list[str], summaries: list[dict[str, Any] | None]
) -> go.Figure:
    """Mean busy-hour satisfaction of every site (columns) under every group (rows)."""
    cells: dict[str, dict[str, list[float]]] = {}
    sites: dict[str, str] = {}
    for row, summary in zip(rows, summaries, strict=True):
        group = cells.setdefault(group_label(row, keys), {})
        for site in (summary or {}).get("sites", []):
            sites.setdefault(site["id"], site["name"])
            if site["busy_hour_satisfaction"] is not None:
                group.setdefault(site["id"], []).append(site["busy_hour_satisfaction"])
    z = [
        [float(np.mean(group[s])) if group.get(s) else None for s in sites]
        for group in cells.values()
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(sites),
            y=list(cells),
            zmin=0.0,
            zmax=1.0,
            colorscale="RdYlGn",
            customdata=[list(sites.values())] * len(cells),
            hovertemplate="%{y}<br>%{customdata}: %{z:.3f}<extra></extra>",
            colorbar={"title": "satisfaction"},
        )
    )
    fig.update_layout(
        title="Busy-hour satisfaction per site (mean over runs)",
        height=200 + 40 * len(cells),
        xaxis={"tickangle": -60},
    )
    return fig


def _bars(comparison: Comparison) -> go.Figure:
    metrics = list(comparison.metrics)
    cols = 2
    fig = make_subplots(
        rows=max(1, math.ceil(len(metrics) / cols)),
        cols=cols,
        subplot_titles=[label(m) for m in metrics],
    )
    for i, metric in enumerate(metrics):
        stats = comparison.metrics[metric].groups
        fig.add_bar(
            x=list(stats),
            y=[s.mean for s in stats.values()],
            error_y={"type": "data", "array": [s.ci or 0.0 for s in stats.values()]},
            showlegend=False,
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_layout(height=280 * max(1, math.ceil(len(metrics) / cols)))
    return fig


def _means_table(comparison: Comparison) -> str:
    groups = comparison.groups
    head = "".join(f"<th>{escape(g)}</th>" for g in ["metric", *groups])
    body = []
    for metric, figures in comparison.metrics.items():
        cells = [escape(label(metric))]
        for group in groups:
            stats = figures.groups.get(group)
            text = "-" if stats is None else _mean_text(stats)
            cells.append(f"<b>{text}</b>" if group == figures.best else escape(text))
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _mean_text(stats: MeanCI) -> str:
    return f"{estimate_text(stats.mean, stats.ci)} (n={stats.n})"


def _hover(row: dict[str, Any], seed: bool = True) -> str:
    skip = NOT_CONTEXT | ({"seed"} if not seed else set())
    return "<br>".join(f"{k} = {cell_text(v)}" for k, v in row.items() if k not in skip)
