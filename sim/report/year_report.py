"""year.html: a by-day run's year on one page (sim/analysis/year.py says each definition).

Per month the busy-hour headroom and the 95th-percentile billing rate per direction against
the purchase; each kind's satisfaction by month and its worst week; the month in which each
objective first breaks, and each objective's share of missed days per month.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

import plotly.graph_objects as go

from sim.analysis.labels import objective_label
from sim.analysis.year import DIRECTIONS, YearSummary
from sim.report.page import div, nav, write_page

WEEK_MS = 7 * 86_400_000  # plotly's date axes count milliseconds
WEEKLY_TICKS_UP_TO = 12  # weeks on the axis; more are ticked by month


def write_year_report(folder: Path, title: str, year: YearSummary) -> Path:
    """Write folder/year.html and return its path."""
    months = [m.month for m in year.months]
    body = [
        nav(folder, "year.html"),
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
        "<p>Delivered over asked in each kind's busy windows, week by week (Monday to Sunday).</p>",
        div(_satisfaction(year)),
        _worst_weeks(year),
        "<h2>When growth breaks an objective</h2>",
        "<p>An objective breaks in a month when it is missed on more than half of the days "
        "that measured it.</p>",
        _breaks(year),
    ]
    path = folder / "year.html"
    write_page(path, f"{title} year", body)
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
    fig.update_xaxes(type="category", title="month")
    return fig


def _satisfaction(year: YearSummary) -> go.Figure:
    fig = go.Figure()
    mondays = [w.monday for w in year.weeks]
    for kind in sorted({kind for w in year.weeks for kind in w.satisfaction}):
        values = [w.satisfaction.get(kind) for w in year.weeks]
        fig.add_scatter(x=mondays, y=values, name=kind, mode="lines+markers")
    fig.update_layout(
        height=320,
        yaxis_title="busy-window satisfaction",
        xaxis_title="week from Monday",
        margin={"t": 30},
    )
    if mondays:  # half a week of room either side (a run of a few days has one week)
        first, last = (dt.datetime.fromisoformat(mondays[i]) for i in (0, -1))
        room = dt.timedelta(days=3.5)
        weekly = len(mondays) <= WEEKLY_TICKS_UP_TO
        fig.update_xaxes(
            type="date",
            range=[(first - room).isoformat(), (last + room).isoformat()],
            tick0=mondays[0] if weekly else mondays[0][:8] + "01",
            dtick=WEEK_MS if weekly else "M1",
            tickformat="%d %b %Y" if weekly else "%b %Y",
        )
    return fig


def _worst_weeks(year: YearSummary) -> str:
    rows = "".join(
        f"<tr><td>{escape(w.kind)}</td><td>{w.monday}</td><td>{w.satisfaction:.4f}</td></tr>"
        for w in year.worst_weeks
    )
    return (
        "<h3>Worst week per kind</h3><table><tr><th>kind of site</th>"
        f"<th>week from Monday</th><th>busy-window satisfaction</th></tr>{rows}</table>"
    )


def _breaks(year: YearSummary) -> str:
    """Per objective the month it first breaks, then its share of missed days per month."""
    head = "".join(f"<th>{m.month}</th>" for m in year.months)
    rows = "".join(
        f"<tr><td>{escape(objective_label(name).label)} (<code>{escape(name)}</code>)</td>"
        f"<td>{escape(month or 'holds in every month')}</td>"
        + "".join(f"<td>{m.missed_share.get(name, 0.0):.0%}</td>" for m in year.months)
        + "</tr>"
        for name, month in year.first_break.items()
    )
    return (
        "<table><tr><th>objective</th><th>first month it breaks</th>"
        f"{head}</tr>{rows}</table><p>The month columns: the share of the days that "
        "measured the objective on which it was missed.</p>"
    )
