"""report.html of a run folder, made only from the folder's files (Flent's rule).

`write_report` reads manifest.json, summary.json, the classes (classes.parquet or classes.csv,
through sim.analysis.classfile.read_classes) and the flows (flows.parquet or flows.csv, through
sim.analysis.flowfile.read_flows), never a run in memory, so any run folder (an old one, or one
copied from another machine) can be reported again. Every figure is a div that uses the
folder's one plotly.min.js (sim/report/page.py), so the page opens offline. Completion-time and
slowdown distributions are drawn as ECDFs from quantiles of all flows (a few hundred points per
application), which keeps the page a few hundred kB however many flows the run had.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from sim.analysis.classfile import read_classes
from sim.analysis.flowfile import read_flows
from sim.analysis.labels import objective_label
from sim.analysis.objectives import ObjectiveRow
from sim.analysis.summary import AppFigures, SiteFigures, Summary, UnservedSite
from sim.model.units import MBPS
from sim.report.controller_section import controller_section
from sim.report.page import ROW_PX, div, nav, wrap_name, write_page

EXACT_ECDF_MAX = 2000  # flows per application up to which every flow is a point of its ECDF
# Quantile levels for larger sets: fine steps over the body, finer in the upper tail.
QUANTILES = np.unique(np.concatenate([np.linspace(0.0, 1.0, 201), 1.0 - np.logspace(-4, -2, 21)]))
KIND_COLOURS = {"office": "#1f77b4", "hotspot": "#ff7f0e", "subdistrict": "#2ca02c"}
DIRECTION_COLOURS = {"down": "#1f77b4", "up": "#d62728"}
BUSY_MARKER = "busy-hour satisfaction"
SATISFACTION_CAPTION = (
    "<p>Bars: delivered / offered bytes over the whole run, by site kind; ◆: the same in the "
    "site's busiest clock hour. Sites with the lowest satisfaction first.</p>"
)


def write_report(run_dir: Path) -> Path:
    """Write run_dir/report.html from the run folder's files and return its path."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    summary = Summary.from_json(json.loads((run_dir / "summary.json").read_text()))
    start = dt.datetime.fromisoformat(manifest["scenario"]["scenario"]["start"])
    root_series = _root_series(run_dir)
    body = [
        nav(run_dir, "report.html"),
        _header(manifest, summary),
        _warnings(manifest.get("warnings", [])),
        "<h2>Summary</h2>",
        _summary_table(summary),
        "<h2>Objectives (each site kind's busy windows, not the whole run)</h2>",
        _objectives_table(summary.objectives, {s.id: s.name for s in summary.sites}),
        "<h2>Upstream</h2>",
        div(_utilisation_figure(root_series, start, float(manifest["purchase_mbps"]))),
        "<h2>Sites</h2>",
        SATISFACTION_CAPTION,
        div(_satisfaction_figure(summary.sites)),
        _sites_table(summary.sites),
        _unserved(summary.unserved),
        "<h2>Applications</h2>",
        *_flow_figures(run_dir),
        div(_at_rate_figure(summary.apps)),
        _apps_table(summary.apps),
        *controller_section(run_dir, start, max(t[-1] for t, _ in root_series.values())),
    ]
    path = run_dir / "report.html"
    write_page(path, manifest["scenario"]["scenario"]["name"], body)
    return path


# -- reading the run folder --------------------------------------------------------------------


def _root_series(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per direction: interval start times (s) and the root class's allocated L2 bits/s."""
    rows = read_classes(run_dir, ("time_s", "direction", "parent", "allocated_bps"))
    root = rows["parent"] == ""  # the root is the class without a parent
    out = {}
    for direction in dict.fromkeys(rows["direction"][root].tolist()):
        mine = root & (rows["direction"] == direction)
        order = np.argsort(rows["time_s"][mine], kind="stable")  # rows come plan by plan
        out[direction] = (rows["time_s"][mine][order], rows["allocated_bps"][mine][order])
    return out


def _flow_figures(run_dir: Path) -> list[str]:
    """The completion-time and slowdown ECDFs, or a plain note when the run kept no flows."""
    flows = read_flows(run_dir, ("app", "fct_s", "slowdown"))
    if flows is None:
        return [
            "<p>The flows were not kept (<code>--flows none</code>), so completion-time and "
            "slowdown distributions cannot be drawn; the tables below hold their percentiles.</p>"
        ]
    finished = ~np.isnan(flows["fct_s"])  # set only for finished elastic flows
    fct: dict[str, np.ndarray] = {}
    slowdown: dict[str, np.ndarray] = {}
    for app in sorted(set(flows["app"][finished].tolist())):
        mine = finished & (flows["app"] == app)
        fct[app], slowdown[app] = flows["fct_s"][mine], flows["slowdown"][mine]
    return [
        div(_ecdf_figure(fct, "Flow completion time of finished transfers", "completion time (s)")),
        div(
            _ecdf_figure(slowdown, "Slowdown of finished transfers (time / time alone)", "slowdown")
        ),
    ]


# -- figures -----------------------------------------------------------------------------------


def _utilisation_figure(
    series: dict[str, tuple[np.ndarray, np.ndarray]], start: dt.datetime, purchase_mbps: float
) -> go.Figure:
    fig = go.Figure()
    for direction in ("down", "up"):
        if direction not in series:
            continue
        times, rates = series[direction]
        fig.add_trace(
            go.Scatter(
                x=[start + dt.timedelta(seconds=float(t)) for t in times],
                y=rates / MBPS,
                name=direction,
                mode="lines",
                line={"shape": "hv", "width": 1, "color": DIRECTION_COLOURS[direction]},
            )
        )
    fig.add_hline(
        y=purchase_mbps,
        line_dash="dash",
        line_color="#555",
        annotation_text=f"purchased {purchase_mbps:g} Mbit/s",
        annotation_position="top left",
    )
    fig.update_layout(
        title="Upstream: traffic through the root class (L2) vs the purchase",
        xaxis_title="local time",
        yaxis_title="Mbit/s (L2, per interval)",
        yaxis_rangemode="tozero",
        height=420,
    )
    return fig


def _satisfaction_figure(sites: list[SiteFigures]) -> go.Figure:
    """Horizontal bars of each site's satisfaction, worst at the top, full names; a diamond
    marks the busy hour's satisfaction. The plot grows by a row per site, so 50 or 500 sites
    stay readable."""
    ordered = sorted(sites, key=_satisfaction_order, reverse=True)  # plotly: first at bottom
    names = [wrap_name(site.name) for site in ordered]
    fig = go.Figure()
    for kind in dict.fromkeys(site.kind for site in sites):
        mine = [(name, s) for name, s in zip(names, ordered, strict=True) if s.kind == kind]
        fig.add_trace(
            go.Bar(
                y=[name for name, _ in mine],
                x=[s.satisfaction for _, s in mine],
                orientation="h",
                name=f"{kind}: whole run",
                marker_color=KIND_COLOURS.get(kind),
                customdata=[[s.offered_gb, s.unmet_gb] for _, s in mine],
                hovertemplate="%{y}<br>satisfaction %{x:.4f}<br>offered %{customdata[0]:.2f} GB"
                "<br>unmet %{customdata[1]:.3f} GB<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            y=names,
            x=[site.busy_hour_satisfaction for site in ordered],
            name=BUSY_MARKER,
            mode="markers",
            marker={"symbol": "diamond", "color": "#222", "size": 8},
            hovertemplate="%{y}<br>busy hour %{x:.4f}<extra></extra>",
        )
    )
    lines = max([len(name.split("<br>")) for name in names] + [1])
    fig.update_layout(
        title="Satisfaction per site (delivered / offered bytes), worst first",
        barmode="overlay",
        xaxis={"title": "satisfaction (delivered / offered)", "range": [0, 1.05]},
        yaxis={
            "type": "category",
            "automargin": True,
            "categoryorder": "array",
            "categoryarray": names,
            "range": [-0.6, len(names) - 0.4],
        },
        legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},
        margin={"t": 110},
        height=180 + ROW_PX * lines * len(names),
    )
    return fig


def _satisfaction_order(site: SiteFigures) -> tuple[float, float, str]:
    """Worst first: whole-run satisfaction, then the busy hour's, then the name (a site with
    nothing offered counts as fully satisfied)."""
    whole = 1.0 if site.satisfaction is None else site.satisfaction
    busy = 1.0 if site.busy_hour_satisfaction is None else site.busy_hour_satisfaction
    return (whole, busy, site.name)


def _ecdf_figure(values: dict[str, np.ndarray], title: str, axis_title: str) -> go.Figure:
    fig = go.Figure()
    for app, samples in values.items():
        positive = np.sort(samples[samples > 0])
        if positive.size == 0:
            continue
        x, y = _ecdf(positive)
        fig.add_trace(
            go.Scatter(x=x, y=y, name=f"{app} ({samples.size})", mode="lines", line_shape="hv")
        )
    fig.update_layout(
        title=title,
        xaxis={"title": axis_title, "type": "log"},
        yaxis={"title": "share of flows at or below", "range": [0, 1.02]},
        height=420,
    )
    return fig


def _ecdf(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ECDF points of sorted values: every value for small sets, quantiles for large ones."""
    if ordered.size <= EXACT_ECDF_MAX:
        return ordered, np.arange(1, ordered.size + 1) / ordered.size
    return np.quantile(ordered, QUANTILES), QUANTILES


def _at_rate_figure(apps: dict[str, AppFigures]) -> go.Figure:
    paced = {name: app for name, app in apps.items() if app.at_rate_share is not None}
    fig = go.Figure(
        go.Bar(
            x=list(paced),
            y=[app.at_rate_share for app in paced.values()],
            marker_color="#9467bd",
            hovertemplate="%{x}: %{y:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Calls and video: share of time at the needed rate",
        yaxis={"title": "share of flow time", "range": [0, 1.05]},
        height=360,
    )
    return fig


# -- text and tables ---------------------------------------------------------------------------


def _header(manifest: dict[str, Any], summary: Summary) -> str:
    spec = manifest["scenario"]
    section = spec["scenario"]
    facts = {
        "backend": manifest["backend"],
        "purchase": f"{manifest['purchase_mbps']:g} Mbit/s each way",
        "policy": spec["policy"]["name"],
        "start": section["start"],
        "duration": f"{float(section['duration']) / 3600:g} h",
        "seed": section["seed"],
        "sites served": len(summary.sites),
        "users": summary.overall.users,
        "flows": summary.overall.flows,
    }
    spans = "".join(f"<span><b>{escape(k)}</b>: {escape(str(v))}</span>" for k, v in facts.items())
    return (
        f"<h1>{escape(section['name'])}</h1>\n"
        f"<p>{escape(section.get('description', ''))}</p>\n<p class='meta'>{spans}</p>"
    )


def _warnings(warnings: list[str]) -> str:
    if not warnings:
        return "<p class='meta'>No warnings.</p>"
    items = "".join(f"<li>{escape(w)}</li>" for w in warnings)
    return f"<div class='warnings'><h2>Warnings ({len(warnings)})</h2><ul>{items}</ul></div>"


def _summary_table(summary: Summary) -> str:
    overall, cost, up = summary.overall, summary.cost, summary.upstream
    busy = overall.busy_hour
    rows = [
        ("Satisfaction (delivered / offered), whole run", _fmt(overall.satisfaction, ".4f")),
        (
            "Offered / delivered / unmet",
            f"{_fmt(overall.offered_gb, '.2f')} / "
            f"{_fmt(overall.delivered_gb, '.2f')} / {_fmt(overall.unmet_gb, '.3f')} GB",
        ),
        ("Jain's fairness index over sites' satisfaction", _fmt(overall.jain_index, ".4f")),
        (
            "Busy hour (local)",
            "-: offered - Mbit/s down, - Mbit/s up, satisfaction -"
            if busy is None
            else f"{busy.local}: offered {_fmt(busy.offered_down_mbps, '.1f')} Mbit/s down, "
            f"{_fmt(busy.offered_up_mbps, '.1f')} Mbit/s up, satisfaction "
            f"{_fmt(busy.satisfaction, '.4f')}",
        ),
        ("Paced flows' time at needed rate", _fmt(overall.paced_at_rate_share, ".4f")),
        *(
            (
                f"Upstream {d}: mean / p95 utilisation",
                f"{_fmt(up[d].mean_utilisation, '.1%')} / {_fmt(up[d].p95_utilisation, '.1%')}",
            )
            for d in up
        ),
        *(
            (
                f"Upstream {d}: billing95 / peak",
                f"{_fmt(up[d].billing95_mbps, '.1f')} / {_fmt(up[d].peak_mbps, '.1f')} Mbit/s",
            )
            for d in up
        ),
        (
            "Cost per month / for this run",
            f"Rp{_fmt(cost.monthly_idr, ',.0f')} / Rp{_fmt(cost.period_idr, ',.0f')}",
        ),
        ("Cost per delivered GB", f"Rp{_fmt(cost.per_delivered_gb_idr, ',.0f')}"),
        ("Idle capacity (period cost × unused share, down)", f"Rp{_fmt(cost.idle_idr, ',.0f')}"),
    ]
    return _table(["figure", "value"], rows)


def _objectives_table(objectives: list[ObjectiveRow], names: dict[str, str]) -> str:
    """Each objective in plain words and unit beside its code name; the site by its name."""
    verdicts = {True: "met", False: "MISSED", None: "-"}
    rows = [
        (
            objective_label(o.name).text(),
            o.name,
            _fmt(o.value, ".3f"),
            "information"
            if o.target is None
            else ("at most " if o.better == "lower" else "at least ") + f"{o.target:g}",
            verdicts[o.met],
            names.get(o.site, o.site) if o.site else "",
        )
        for o in objectives
    ]
    return _table(["objective, unit", "code name", "value", "target", "verdict", "site"], rows)


def _sites_table(sites: list[SiteFigures]) -> str:
    header = [
        "site",
        "kind",
        "users",
        "offered GB",
        "delivered GB",
        "satisfaction, whole run",
        "busy-hour sat.",
        "p95 down Mbit/s",
        "abandoned",
        "paced at rate",
    ]
    rows = [
        (
            s.name,
            s.kind,
            str(s.users),
            _fmt(s.offered_gb, ".3f"),
            _fmt(s.delivered_gb, ".3f"),
            _fmt(s.satisfaction, ".4f"),
            _fmt(s.busy_hour_satisfaction, ".4f"),
            _fmt(s.p95_mbps, ".2f"),
            str(s.abandoned_flows),
            _fmt(s.paced_at_rate_share, ".4f"),
        )
        for s in sites
    ]
    return _table(header, rows)


def _apps_table(apps: dict[str, AppFigures]) -> str:
    header = [
        "application",
        "kind",
        "flows",
        "FCT p50 s",
        "FCT p95 s",
        "FCT p99 s",
        "slowdown p50",
        "slowdown p95",
        "at rate",
        "abandoned",
    ]
    rows = [
        (
            name,
            a.kind,
            str(a.flows),
            _fmt(a.fct_p50_s, ".3g"),
            _fmt(a.fct_p95_s, ".3g"),
            _fmt(a.fct_p99_s, ".3g"),
            _fmt(a.slowdown_p50, ".3g"),
            _fmt(a.slowdown_p95, ".3g"),
            _fmt(a.at_rate_share, ".4f"),
            _fmt(a.abandoned_share, ".2%"),
        )
        for name, a in apps.items()
    ]
    return _table(header, rows)


def _unserved(unserved: list[UnservedSite]) -> str:
    if not unserved:
        return "<p>Every site of the topology is served.</p>"
    items = "".join(
        f"<li>{escape(s.name)} ({escape(s.kind)}, {s.users} users)</li>" for s in unserved
    )
    return f"<h3>Not served ({len(unserved)} sites, no network yet)</h3><ul>{items}</ul>"


def _table(header: list[str], rows: Sequence[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: float | None, spec: str) -> str:
    """Format a figure; a missing one (null in summary.json) shows as a dash."""
    return "-" if value is None else format(value, spec)
