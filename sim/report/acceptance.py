"""acceptance.html: the acceptance trial of a multi-day run, from acceptance.json only.

Page one is a printable summary in Bahasa Indonesia and English, fit for a berita acara (the
signed minutes of acceptance): the period, the purchase, the verdict, each criterion with its
threshold and how many day-site checks passed, the checks that failed, and places to sign.
Then the story in plots whose numbers are written on them: per site achieved against
guaranteed download rate, the headroom against the purchase day by day (each direction
apart), busy satisfaction per day and site, and the full table.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from sim.analysis.acceptance import Acceptance, Criterion
from sim.report.page import div, page

PRINT_STYLE = """
.sheet { border: 1px solid #bbb; padding: 1em 1.5em; }
.verdict { font-size: 1.4em; font-weight: bold; }
.pass { color: #1a7f37; } .fail { color: #c62828; }
.columns { display: flex; gap: 2em; } .columns > div { flex: 1; }
.signatures { display: flex; gap: 4em; margin-top: 3em; }
.signatures div { flex: 1; border-top: 1px solid #333; padding-top: 0.3em; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  .sheet { border: none; page-break-after: always; }
  .noprint { display: none; }
}
"""
WORDS = {
    "id": {
        "title": "Berita acara uji terima jaringan",
        "period": "Periode uji",
        "purchase": "Kapasitas dibeli",
        "policy": "Kebijakan pembagian",
        "result": "Hasil",
        "pass": "LULUS",
        "fail": "TIDAK LULUS",
        "criteria": "Kriteria (per hari dan per lokasi, pada jam sibuk jenis lokasinya)",
        "busy_satisfaction": "terkirim / diminta",
        "guarantee": "laju tercapai / laju dijamin (atau yang diminta, bila lebih kecil)",
        "evenness": "pemerataan (indeks Jain) antar lokasi dan antar hari",
        "counts": "Pemeriksaan: {p} lulus, {f} gagal, {n} tidak berlaku",
        "failures": "Pemeriksaan yang gagal",
        "none": "Tidak ada.",
        "sign": ["Penyedia jasa", "Diskominfo Kotawaringin Timur"],
        "days": "hari",
    },
    "en": {
        "title": "Acceptance of the network service",
        "period": "Trial period",
        "purchase": "Capacity purchased",
        "policy": "Sharing policy",
        "result": "Result",
        "pass": "PASSED",
        "fail": "FAILED",
        "criteria": "Criteria (per day and per site, in the busy hours of its kind)",
        "busy_satisfaction": "delivered / offered",
        "guarantee": "achieved rate / guaranteed rate (or what was asked, if less)",
        "evenness": "evenness (Jain's index) across sites and across days",
        "counts": "Checks: {p} passed, {f} failed, {n} not applicable",
        "failures": "Checks that failed",
        "none": "None.",
        "sign": ["Service provider", "Diskominfo Kotawaringin Timur"],
        "days": "days",
    },
}
MAX_LISTED = 12  # failures listed on the summary page; the table below has them all


def write_acceptance_report(run_dir: Path) -> Path:
    """Write run_dir/acceptance.html from run_dir/acceptance.json and return its path."""
    data = Acceptance.from_json(json.loads((run_dir / "acceptance.json").read_text()))
    body = [
        f"<style>{PRINT_STYLE}</style>",
        _sheet(data),
        "<h2>Per site: achieved against guaranteed (busy hours, mean over the days)</h2>",
        div(_sites_figure(data)),
        "<h2>Headroom against the purchase, day by day</h2>",
        div(_headroom_figure(data)),
        "<h2>Busy satisfaction per day and site</h2>",
        div(_heatmap(data)),
        "<h2>Every check</h2>",
        _cells_table(data),
    ]
    path = run_dir / "acceptance.html"
    path.write_text(page(f"acceptance {data.scenario}", body), encoding="utf-8")
    return path


def failures(data: Acceptance) -> list[str]:
    """One line per failed check: day, site, criterion, value against threshold."""
    checks = [(f"{c.day} {c.name}", n, k) for c in data.cells for n, k in c.criteria.items()]
    checks += [(day.day, "evenness", day.evenness) for day in data.days_summary]
    checks += [(site.name, "evenness", site.evenness) for site in data.sites_summary]
    return [
        f"{where}: {name} {c.value:.3f} < {c.threshold:g}"
        for where, name, c in checks
        if c.verdict == "fail" and c.value is not None
    ]


def _sheet(data: Acceptance) -> str:
    """The one-page summary, Bahasa Indonesia beside English, and the signatures."""
    columns = "".join(f"<div>{_summary(data, WORDS[lang])}</div>" for lang in ("id", "en"))
    signs = "".join(
        f"<div>{escape(i) if i == e else escape(i) + ' / ' + escape(e)}</div>"
        for i, e in zip(WORDS["id"]["sign"], WORDS["en"]["sign"], strict=True)
    )
    listed = failures(data)
    items = "".join(f"<li>{escape(line)}</li>" for line in listed[:MAX_LISTED])
    more = f"<li>... {len(listed) - MAX_LISTED} more</li>" if len(listed) > MAX_LISTED else ""
    fails = f"<h3>{WORDS['id']['failures']} / {WORDS['en']['failures']}</h3>" + (
        f"<ul>{items}{more}</ul>" if listed else f"<p>{WORDS['id']['none']}</p>"
    )
    return (
        f"<div class='sheet'><div class='columns'>{columns}</div>{fails}"
        f"<div class='signatures'>{signs}</div></div>"
    )


def _summary(data: Acceptance, words: dict[str, Any]) -> str:
    days = data.days
    verdict = data.verdict
    thresholds = data.thresholds
    counts = data.counts
    criteria = "".join(
        f"<li>{escape(words[name])}: &ge; {thresholds[name]:g}</li>" for name in thresholds
    )
    return (
        f"<h1>{escape(words['title'])}</h1>"
        f"<p><b>{escape(data.scenario)}</b></p>"
        f"<p>{words['period']}: {days[0]} &ndash; {days[-1]} ({len(days)} {words['days']})<br>"
        f"{words['purchase']}: {data.purchase_mbps:g} Mbit/s<br>"
        f"{words['policy']}: {escape(data.policy)}</p>"
        f"<p class='verdict {verdict}'>{words['result']}: {words[verdict]}</p>"
        f"<p>{words['criteria']}:</p><ul>{criteria}</ul>"
        f"<p>{words['counts'].format(p=counts['pass'], f=counts['fail'], n=counts['n/a'])}</p>"
    )


def _site_means(data: Acceptance) -> list[tuple[str, float, float]]:
    """Per site: achieved and guaranteed Mbit/s, means over the days with busy hours."""
    out = []
    for site in data.sites_summary:
        rates = [
            (c.achieved_mbps, c.guaranteed_mbps or 0.0)
            for c in data.cells
            if c.site == site.site and c.achieved_mbps is not None
        ]
        if rates:
            achieved = sum(a for a, _ in rates) / len(rates)
            guaranteed = sum(g for _, g in rates) / len(rates)
            out.append((site.name, achieved, guaranteed))
    return out


def _sites_figure(data: Acceptance) -> go.Figure:
    means = _site_means(data)[::-1]  # plotly draws the first category at the bottom
    names = [_short(m[0]) for m in means]
    fig = go.Figure()
    for index, label, colour in ((1, "achieved", "#1f77b4"), (2, "guaranteed", "#aaaaaa")):
        values = [m[index] for m in means]
        fig.add_trace(
            go.Bar(
                y=names,
                x=values,
                orientation="h",
                name=f"{label} (Mbit/s)",
                marker_color=colour,
                text=[f"{v:.1f}" for v in values],
                textposition="outside",
            )
        )
    top = max([max(m[1], m[2]) for m in means] + [1.0])
    fig.update_layout(
        barmode="group",
        title="Download goodput in each site's busy hours, mean over the days",
        xaxis={"title": "Mbit/s", "range": [0, 1.15 * top]},
        yaxis={"automargin": True},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom"},
        height=140 + 34 * len(means),
    )
    return fig


def _short(name: str, limit: int = 42) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _headroom_figure(data: Acceptance) -> go.Figure:
    days = [row.day for row in data.days_summary]
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
                    textposition="top center",
                    line={"color": colour, "dash": dash},
                )
            )
    fig.add_hline(y=100, line_dash="dash", annotation_text=f"purchase {data.purchase_mbps:g}")
    fig.update_layout(
        title="Traffic (L2) as a share of the purchase, each direction apart",
        yaxis={"title": "% of the purchase", "range": [0, 110]},
        xaxis={"title": "day", "type": "category"},
        height=420,
    )
    return fig


def _heatmap(data: Acceptance) -> go.Figure:
    sites = [_short(s.name) for s in data.sites_summary]
    ids = [s.site for s in data.sites_summary]
    lookup = {(c.day, c.site): c.busy_satisfaction for c in data.cells}
    z = [[lookup[(day, site)].value for day in data.days] for site in ids]
    text = [["-" if v is None else f"{v:.2f}" for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=data.days,
            y=sites,
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=1,
            colorscale="RdYlGn",
            colorbar={"title": "delivered / offered"},
        )
    )
    fig.update_layout(
        title=f"Busy satisfaction (threshold {data.thresholds['busy_satisfaction']:g}; "
        "- : no busy hours that day)",
        xaxis={"type": "category"},
        height=max(360, 22 * len(sites) + 120),
    )
    return fig


def _cells_table(data: Acceptance) -> str:
    header = ["day", "site", "busy h", "offered", "achieved", "guaranteed", "satisf.", "guar."]
    rows = []
    for c in data.cells:
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{escape(v)}</td>"
                for v in (
                    c.day,
                    c.name,
                    f"{c.busy_hours:g}",
                    _mbps(c.offered_mbps),
                    _mbps(c.achieved_mbps),
                    _mbps(c.guaranteed_mbps),
                )
            )
            + _verdict_cell(c.busy_satisfaction)
            + _verdict_cell(c.guarantee)
            + "</tr>"
        )
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _mbps(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _verdict_cell(c: Criterion) -> str:
    value = "-" if c.value is None else f"{c.value:.3f}"
    return f"<td class='{c.verdict}'>{value} {c.verdict}</td>"
