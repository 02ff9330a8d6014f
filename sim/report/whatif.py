"""whatif.html: what each way of connecting unreached sites costs, gives them and takes.

Verdicts in plain words, then a table per newly connected site (cost, throughput, page-load
p50/p95, call MOS, at-rate share, each mean ± 95 % CI over the seeds), the paired differences
of the other sites against not connecting, and bars of page-load p50 and call MOS.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.analysis.compare import MeanCI, estimate_text
from sim.report.page import div, nav, write_page
from sim.studies.whatif import OTHERS_FIGURES, SITE_FIGURES, Combination, WhatIfResult, taken


def whatif_report(out_path: Path, title: str, result: WhatIfResult) -> Path:
    """Write the what-if page (and plotly.min.js beside it) and return its path."""
    combos, new_sites, lines = result.combinations, list(result.connect), result.verdicts
    seeds = sorted(combos[0].runs)
    body = [
        nav(out_path.parent, out_path.name),
        f"<h1>netlab what-if: {escape(title)}</h1>",
        f"<p class='meta'>{len(combos) - 1} combinations and not connecting, each on seeds "
        f"{escape(', '.join(map(str, seeds)))} (common seeds: differences are paired)</p>",
        "<h2>Verdict</h2>",
        "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>",
        "<h2>Cost and what the new sites get</h2>",
        "<p>Mean ± 95 % CI over the seeds. A page abandoned (web patience, 20 s by default) "
        "counts as its patience, so a p95 at the patience means more than 5 % gave up.</p>",
        *(_site_table(combos, site_id) for site_id in new_sites),
        "<h2>What it takes from the sites already served</h2>",
        _others_table(combos),
        "<h2>Page loads and calls</h2>",
        div(_bars(combos, new_sites)),
    ]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_page(out_path, f"what-if {title}", body)
    return out_path


def cell(stats: MeanCI) -> str:
    """mean ± CI as text, rounded to what the interval tells (`estimate_text`)."""
    return estimate_text(stats.mean, stats.ci)


def _site_table(combos: list[Combination], site_id: str) -> str:
    head = ["combination", "Rp a month", "Rp a year", *(label for _, label in SITE_FIGURES)]
    rows = []
    for combo in combos:
        cells = [escape(combo.name), f"{combo.monthly_idr:,.0f}", f"{12 * combo.monthly_idr:,.0f}"]
        cells += [escape(cell(combo.stats(f"{site_id}:{key}"))) for key, _ in SITE_FIGURES]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
    return f"<h3>{escape(site_id)}</h3><table>{header}{''.join(rows)}</table>"


def _others_table(combos: list[Combination]) -> str:
    head = ["combination"]
    for _, label in OTHERS_FIGURES:
        head += [label, "change against not connecting"]
    rows = []
    for combo in combos:
        cells = [escape(combo.name)]
        for key, _ in OTHERS_FIGURES:
            diff = taken(combo, combos[0], key)
            change = "—" if combo is combos[0] else cell(diff)
            cells += [escape(cell(combo.stats(key))), escape(change)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
    return f"<table>{header}{''.join(rows)}</table>"


def _bars(combos: list[Combination], new_sites: list[str]) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("web page-load p50 (s)", "call MOS"))
    for site_id in new_sites:
        for col, key in ((1, "page_load_p50_s"), (2, "call_mos")):
            shown = [c for c in combos[1:] if c.stats(f"{site_id}:{key}").mean is not None]
            stats = [c.stats(f"{site_id}:{key}") for c in shown]
            fig.add_bar(
                x=[c.name for c in shown],
                y=[s.mean for s in stats],
                error_y={"type": "data", "array": [s.ci or 0 for s in stats]},
                name=f"{site_id}, {'page load' if col == 1 else 'call MOS'}",
                row=1,
                col=col,
            )
    fig.update_layout(height=520, barmode="group", margin={"b": 200})
    return fig
