"""year.html: a by-day run's year on one page (sim/analysis/year.py says each definition).

Per month the busy-hour headroom and the 95th-percentile billing rate per direction against
the purchase; each kind's satisfaction by month and its worst week; the month in which each
objective first breaks, and each objective's share of missed days per month.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import plotly.graph_objects as go

from sim.analysis.year import DIRECTIONS, YearSummary
from sim.report.page import div, page


def write_year_report(folder: Path, title: str, year: YearSummary) -> Path:
    """Write folder/year.html and return its path."""
    months = [m.month for m in year.months]
    body = [
        f"<h1>{escape(title)}: the year, day by day</h1>",
        f'<p class="meta"><span>{year.days} days</span><span>{year.flows:,} flows</span>'
        f"<span>purchase {year.purchase_mbps:g} Mbit/s per direction</span></p>",
        "<h2>Headroom and billing per month</h2>",
        "<p>Headroom: the purchase minus the offered rate of the month's busiest busy hour "
        "(below 0: demand above the purchase). Billing: the 95th percentile of the month's "
        "sample-interval rates through the shaper.</p>",
        div(_per_direction(months, year, "headroom", "headroom, Mbit/s")),
        div(_per_direction(months, year, "billing", "95th-percentile rate, Mbit/s")),
        "<h2>Satisfaction per kind of site</h2>",
        "<p>Delivered over asked in each kind's busy windows, by month.</p>",
        div(_satisfaction(months, year)),
        _worst_weeks(year),
        "<h2>When growth breaks an objective</h2>",
        "<p>An objective breaks in a month when it is missed on more than half of the days "
        "that measured it.</p>",
        _breaks(year),
        _missed_table(year),
    ]
    path = folder / "year.html"
    path.write_text(page(f"{title} year", body), encoding="utf-8")
    return path


def _per_direction(months: list[str], year: YearSummary, what: str, axis: str) -> go.Figure:
    fig = go.Figure()
    for direction in DIRECTIONS:
        values = [
            (m.headroom_mbps if what == "headroom" else m.billing_p95_mbps)[direction]
            for m in year.months
        ]
        fig.add_bar(x=months, y=values, name=f"{direction}load")
    if what == "billing":
        fig.add_hline(y=year.purchase_mbps, line_dash="dash", annotation_text="purchase")
    fig.update_layout(height=320, yaxis_title=axis, barmode="group", margin={"t": 30})
    return fig


def _satisfaction(months: list[str], year: YearSummary) -> go.Figure:
    fig = go.Figure()
    kinds = sorted({kind for m in year.months for kind in m.satisfaction})
    for kind in kinds:
        fig.add_scatter(
            x=months, y=[m.satisfaction.get(kind) for m in year.months], name=kind, mode="lines"
        )
    fig.update_layout(height=320, yaxis_title="busy-window satisfaction", margin={"t": 30})
    return fig


def _worst_weeks(year: YearSummary) -> str:
    rows = "".join(
        f"<tr><td>{escape(w.kind)}</td><td>{w.monday}</td><td>{w.satisfaction:.3f}</td></tr>"
        for w in year.worst_weeks
    )
    return (
        "<h3>Worst week per kind</h3><table><tr><th>kind of site</th>"
        f"<th>week from Monday</th><th>busy-window satisfaction</th></tr>{rows}</table>"
    )


def _breaks(year: YearSummary) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(month or 'holds all year')}</td></tr>"
        for name, month in year.first_break.items()
    )
    return f"<table><tr><th>objective</th><th>first month it breaks</th></tr>{rows}</table>"


def _missed_table(year: YearSummary) -> str:
    names = list(year.first_break)
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    rows = "".join(
        f"<tr><td>{m.month}</td>"
        + "".join(f"<td>{m.missed_share.get(n, 0.0):.0%}</td>" for n in names)
        + "</tr>"
        for m in year.months
    )
    return (
        "<h3>Share of days each objective was missed, per month</h3>"
        f"<table><tr><th>month</th>{head}</tr>{rows}</table>"
    )
