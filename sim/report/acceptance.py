"""acceptance.html: the acceptance trial of a multi-day run, from acceptance.json only.

First the berita acara (sim/report/berita_acara.py), which is all that prints (two A4 pages at
most). Then, on screen, the story with its numbers: per site the asked, guaranteed and
achieved download rates against the pass line, and a table of them with the evenness across
days; per day a table (its type or holiday, checks, evenness across sites, headroom), the
headroom plot and busy satisfaction per day and site; and every check with its units. Days
off (weekends, holidays by name) are marked on every per-day view; sites go by their names.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from dataclasses import dataclass
from html import escape
from pathlib import Path

import plotly.graph_objects as go

from sim.analysis.acceptance import FAIL, NA, Acceptance, Cell, Criterion, DaySummary
from sim.report.berita_acara import STYLE, berita_acara
from sim.report.page import ROW_PX, div, nav, wrap_name, write_page

GUARANTEE_RULE = "achieved / the lesser of guaranteed and asked"
SCREEN_STYLE = """
table.data td.t, table.data th.t { text-align: left; } .date { white-space: nowrap; }
"""


@dataclass(frozen=True)
class SiteRates:
    """One site's download rates (Mbit/s, means over the days its guarantee was judged), the
    rate owed (the lesser of guaranteed and asked, mean over those days) and its verdicts."""

    name: str
    kind: str
    days: int  # days judged
    asked: float
    guaranteed: float
    achieved: float
    owed: float
    lowest_ratio: float | None  # the lowest day's achieved / owed
    failed_days: int
    evenness: Criterion


def write_acceptance_report(run_dir: Path) -> Path:
    """Write run_dir/acceptance.html from run_dir/acceptance.json and return its path."""
    data = Acceptance.from_json(json.loads((run_dir / "acceptance.json").read_text()))
    sites = site_rates(data)
    threshold = data.thresholds["guarantee"]
    body = [
        f"<style>{STYLE}{SCREEN_STYLE}</style>",
        nav(run_dir, "acceptance.html"),
        berita_acara(data, failures(data)),
        "<div class='screen'>",
        "<p class='en'>Printing this page prints the berita acara above (two A4 pages at most); "
        "what follows is for the screen.</p>",
        "<h2>Per site: asked, guaranteed and achieved download rate</h2>",
        f"<p>A site passes a day when it achieved at least {threshold:g} &times; the lesser of "
        "its guarantee and what it asked in its busy hours (what it is owed): a site that asked "
        "less than its guarantee must get what it asked. Bars: achieved (red where a day "
        f"failed); &#9675; asked, &#9670; guaranteed, | the pass line ({threshold:g} &times; "
        "owed), each the mean over the days the site was judged. At the right, the lowest "
        "day's achieved / owed, which orders the sites: closest to failing first.</p>",
        div(_sites_figure(sites, threshold)),
        _sites_table(sites),
        "<h2>Per day</h2>",
        _days_table(data),
        div(_headroom_figure(data)),
        f"<h3>Busy satisfaction per day and site (delivered / asked; pass at "
        f"{data.thresholds['busy_satisfaction']:g}; off: no busy hours for the site's kind that "
        "day; -: nothing asked)</h3>",
        div(_heatmap(data)),
        "<h2>Every check</h2>",
        _cells_table(data),
        "</div>",
    ]
    path = run_dir / "acceptance.html"
    write_page(path, f"acceptance {data.scenario}", body)
    return path


def failures(data: Acceptance) -> list[str]:
    """One line per failed check: day, site, criterion, value against threshold."""
    checks = [(f"{c.day} {c.name}", n, k) for c in data.cells for n, k in c.criteria.items()]
    checks += [(day.day, "evenness", day.evenness) for day in data.days_summary]
    checks += [(site.name, "evenness", site.evenness) for site in data.sites_summary]
    return [
        f"{where}: {name} {c.value:.3f} < {c.threshold:g}"
        for where, name, c in checks
        if c.verdict == FAIL and c.value is not None
    ]


def site_rates(data: Acceptance) -> list[SiteRates]:
    """Per site judged on its guarantee at least once: those that failed a day first (most
    days first), then by the lowest day's achieved / owed, closest to the pass line first."""
    out = []
    for site in data.sites_summary:
        cells = [c for c in data.cells if c.site == site.site and c.guarantee.value is not None]
        if not cells:
            continue
        ratios = [c.guarantee.value for c in cells if c.guarantee.value is not None]
        out.append(
            SiteRates(
                name=site.name,
                kind=cells[0].kind,
                days=len(cells),
                asked=_mean([c.offered_mbps for c in cells]),
                guaranteed=_mean([c.guaranteed_mbps for c in cells]),
                achieved=_mean([c.achieved_mbps for c in cells]),
                owed=_mean([min(c.offered_mbps or 0.0, c.guaranteed_mbps or 0.0) for c in cells]),
                lowest_ratio=min(ratios),
                failed_days=sum(c.guarantee.verdict == FAIL for c in cells),
                evenness=site.evenness,
            )
        )
    return sorted(out, key=lambda s: (-s.failed_days, s.lowest_ratio or 0.0, s.name))


def _mean(values: list[float | None]) -> float:
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found else 0.0


def _sites_figure(sites: list[SiteRates], threshold: float) -> go.Figure:
    """Horizontal bars of the achieved rate (red where a day failed), markers for asked and
    guaranteed, the pass line, and at the right the lowest day's ratio that orders them."""
    shown = sites[::-1]  # plotly draws the first category at the bottom
    names = [wrap_name(s.name) for s in shown]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=names,
            x=[s.achieved for s in shown],
            orientation="h",
            name="achieved",
            marker_color=["#c62828" if s.failed_days else "#1f77b4" for s in shown],
            hovertemplate="%{y}: achieved %{x:.2f} Mbit/s<extra></extra>",
        )
    )
    markers = (
        ("asked", [s.asked for s in shown], "circle-open", "#222222", 10),
        ("guaranteed", [s.guaranteed for s in shown], "diamond", "#777777", 9),
        ("pass line", [threshold * s.owed for s in shown], "line-ns-open", "#e65100", 18),
    )  # fmt: skip
    for label, values, symbol, colour, size in markers:
        fig.add_trace(
            go.Scatter(
                y=names,
                x=values,
                mode="markers",
                name=label,
                marker={"symbol": symbol, "color": colour, "size": size, "line": {"width": 2}},
                hovertemplate=f"%{{y}}: {label} %{{x:.2f}} Mbit/s<extra></extra>",
            )
        )
    for name, site in zip(names, shown, strict=True):
        fig.add_annotation(
            x=1.01, xref="paper", xanchor="left", y=name, showarrow=False,
            text=_number(site.lowest_ratio, ".2f"),
        )  # fmt: skip
    fig.add_annotation(
        x=1.01, xref="paper", xanchor="left", y=1, yref="paper", yanchor="bottom",
        showarrow=False, text="lowest day:<br>achieved / owed",
    )  # fmt: skip
    top = max([max(s.asked, s.guaranteed, s.achieved) for s in sites] + [1.0])
    rows = ROW_PX * max(len(name.split("<br>")) for name in names + [""])
    fig.update_layout(
        xaxis={"title": "download goodput in busy hours, Mbit/s", "range": [0, 1.05 * top]},
        yaxis={
            "automargin": True,
            "type": "category",
            "tickfont": {"size": 13},
            "range": [-0.6, len(sites) - 0.4],
        },
        legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},
        margin={"t": 60, "r": 120},
        height=140 + rows * len(sites),
    )
    return fig


def _sites_table(sites: list[SiteRates]) -> str:
    header = [
        "site",
        "kind",
        "days judged",
        "asked (Mbit/s)",
        "guaranteed (Mbit/s)",
        "achieved (Mbit/s)",
        f"lowest day: {GUARANTEE_RULE}",
        "days failed",
        "evenness across days (Jain's index)",
    ]
    rows = [
        [
            escape(s.name),
            escape(s.kind),
            str(s.days),
            f"{s.asked:.2f}",
            f"{s.guaranteed:.2f}",
            f"{s.achieved:.2f}",
            _number(s.lowest_ratio),
            str(s.failed_days),
            _judged(s.evenness),
        ]
        for s in sites
    ]
    return _table(header, rows)


def _days_table(data: Acceptance) -> str:
    """Per day: its type, the cell checks passed of those judged, evenness, headroom."""
    header = [
        "day",
        "type",
        "busy satisfaction: passed / judged",
        "guarantee: passed / judged",
        "evenness across sites (Jain's index)",
        "down p95 / peak (% of purchase)",
        "up p95 / peak (% of purchase)",
    ]
    rows = []
    for day in data.days_summary:
        cells = [c for c in data.cells if c.day == day.day]
        rows.append(
            [
                _day_name(day.day),
                f"holiday: {escape(day.holiday)}" if day.holiday else day.day_type,
                _passed([c.busy_satisfaction for c in cells]),
                _passed([c.guarantee for c in cells]),
                _judged(day.evenness),
                f"{100 * day.down_p95_utilisation:.0f} / {100 * day.down_peak_utilisation:.0f}",
                f"{100 * day.up_p95_utilisation:.0f} / {100 * day.up_peak_utilisation:.0f}",
            ]
        )
    return _table(header, rows)


def _day_name(day: str) -> str:
    """2022-02-01 Tue, kept on one line."""
    return f"<span class='date'>{day} {dt.date.fromisoformat(day):%a}</span>"


def _day_note(day: DaySummary) -> str:
    """Below a day in a table: the holiday's name or "weekend"; nothing on a working day."""
    if day.holiday:
        return f"<br><small>holiday: {escape(day.holiday)}</small>"
    return "" if day.day_type == "working" else f"<br><small>{escape(day.day_type)}</small>"


def _day_label(day: DaySummary) -> str:
    """A day on a plot's axis, in short lines: weekday, date, and the holiday's name or
    "weekend"."""
    date = dt.date.fromisoformat(day.day)
    lines = [f"{date:%a}", f"{date.day} {date:%b}"]
    if day.holiday:
        lines += textwrap.wrap(day.holiday, 11)
    elif day.day_type != "working":
        lines.append(day.day_type)
    return "<br>".join(escape(line) for line in lines)


def _headroom_figure(data: Acceptance) -> go.Figure:
    """Each direction's p95 and peak use per day; the p95s carry their numbers below their
    points (the peaks run above), downloads' to the left and uploads' to the right, so the two
    never meet however close the directions run."""
    days = [_day_label(row) for row in data.days_summary]
    fig = go.Figure()
    for direction, colour in (("down", "#1f77b4"), ("up", "#d62728")):
        for stat, dash in (("p95", "solid"), ("peak", "dot")):
            field = f"{direction}_{stat}_utilisation"
            values = [100 * getattr(row, field) for row in data.days_summary]
            fig.add_trace(
                go.Scatter(
                    x=days,
                    y=values,
                    name=f"{direction} {stat}",
                    mode="lines+markers+text" if stat == "p95" else "lines+markers",
                    text=[f"{v:.0f}%" for v in values] if stat == "p95" else None,
                    textposition="bottom left" if direction == "down" else "bottom right",
                    cliponaxis=False,
                    line={"color": colour, "dash": dash},
                )
            )
    fig.add_hline(y=100, line_dash="dash", annotation_text=f"purchase {data.purchase_mbps:g}")
    fig.update_layout(
        title="Headroom: traffic (L2) as a share of the purchase, each direction apart",
        yaxis={"title": "% of the purchase", "range": [0, 115]},
        xaxis={"type": "category", "automargin": True, "tickangle": 0},
        height=480,
    )
    return fig


def _heatmap(data: Acceptance) -> go.Figure:
    """Busy satisfaction per site and day; a day without busy hours for a site is "off"."""
    sites = [s.name for s in data.sites_summary]
    ids = [s.site for s in data.sites_summary]
    lookup = {(c.day, c.site): c for c in data.cells}
    z = [[lookup[(day, site)].busy_satisfaction.value for day in data.days] for site in ids]
    text = [[_cell_text(lookup[(day, site)]) for day in data.days] for site in ids]
    fig = go.Figure(
        go.Heatmap(
            z=z[::-1],
            x=[_day_label(day) for day in data.days_summary],
            y=[wrap_name(name) for name in sites[::-1]],
            text=text[::-1],
            texttemplate="%{text}",
            zmin=0,
            zmax=1,
            colorscale="RdYlGn",
            colorbar={"title": "delivered / asked"},
            hovertemplate="%{y}, %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis={"type": "category", "side": "top", "automargin": True, "tickangle": 0},
        yaxis={"type": "category", "automargin": True},
        margin={"t": 20},
        height=max(420, 2 * ROW_PX * len(sites) + 160),
    )
    return fig


def _cell_text(cell: Cell) -> str:
    value = cell.busy_satisfaction.value
    if value is not None:
        return f"{value:.2f}"
    return "off" if cell.busy_hours == 0 else "-"


def _cells_table(data: Acceptance) -> str:
    header = [
        "day",
        "site",
        "busy hours (h)",
        "asked (Mbit/s)",
        "achieved (Mbit/s)",
        "guaranteed (Mbit/s)",
        "busy satisfaction (delivered / asked)",
        f"guarantee ({GUARANTEE_RULE})",
    ]
    days = {d.day: d for d in data.days_summary}
    rows = [
        [
            _day_name(c.day) + _day_note(days[c.day]),
            escape(c.name),
            f"{c.busy_hours:g}",
            _number(c.offered_mbps, ".2f"),
            _number(c.achieved_mbps, ".2f"),
            _number(c.guaranteed_mbps, ".2f"),
            _judged(c.busy_satisfaction),
            _judged(c.guarantee),
        ]
        for c in data.cells
    ]
    return _table(header, rows)


def _table(header: list[str], rows: list[list[str]], text: int = 2) -> str:
    """A table of cells already HTML (escaped where they come from input); the first `text`
    columns hold words (left-aligned), the others numbers."""
    css = ["t" if i < text else "n" for i in range(len(header))]
    head = "".join(f"<th class='{c}'>{escape(h)}</th>" for c, h in zip(css, header, strict=True))
    body = "".join(
        "<tr>"
        + "".join(f"<td class='{c}'>{v}</td>" for c, v in zip(css, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f"<table class='data'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _passed(found: list[Criterion]) -> str:
    judged = [c for c in found if c.verdict != NA]
    passed = sum(c.verdict != FAIL for c in judged)
    return f"{passed} / {len(judged)}"


def _judged(c: Criterion) -> str:
    """A criterion as its value and verdict, coloured by the verdict."""
    if c.value is None:
        return f"<span class='na'>{c.verdict}</span>"
    return f"<span class='{c.verdict}'>{c.value:.3f} {c.verdict}</span>"
