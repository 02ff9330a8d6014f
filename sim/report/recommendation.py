"""recommendation.html: the optimiser's answer as a page a finance office can read and sign.

Made from the run folder's recommendation.json only: the answer and its cost against today's
purchase and the budget ceiling, the frontier (every purchase simulated for the chosen
policy, priced by tier, the answer and the next cheaper option among them), what each policy
and each demand growth needs, the objectives at the answer, and the split to deploy. Every
figure carries its numbers as text, so nothing needs hovering.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path

import plotly.graph_objects as go

from sim.analysis.labels import objective_label
from sim.analysis.objectives import ObjectiveRow, met
from sim.analysis.recommendation import (
    Finance,
    FreshCheck,
    FrontierRow,
    Recommendation,
    Sensitivity,
    SplitRow,
    frontier_purchases,
)
from sim.analysis.summary import Summary
from sim.model.scenario_schema import TARGET_NAMES
from sim.report.page import ROW_PX, div, nav, write_page

MILLION = 1e6
MEETS, MISSES = "#2ca02c", "#d62728"


def write_recommendation_report(run_dir: Path) -> Path:
    """Write run_dir/recommendation.html from run_dir/recommendation.json; return its path."""
    source = run_dir / "recommendation.json"
    data = Recommendation.from_json(json.loads(source.read_text()))
    mbps, money, fresh = data.mbps, data.finance, data.fresh_seeds
    if mbps is None or money is None or fresh is None:
        raise ValueError(f"{source}: no purchase meets the objectives: nothing to recommend")
    judged = data.judged_on
    run, names = _run_summary(run_dir)
    judged_line = "" if judged is None else f"<p>Every verdict is {escape(judged.line())}.</p>"
    body = [
        nav(run_dir, "recommendation.html"),
        f"<h1>Recommended purchase: {mbps:g} Mbit/s with {escape(data.policy or '')}</h1>",
        judged_line,
        _finance_table(data, money, fresh),
        "<h2>Frontier: cost against service</h2>",
        div(_frontier_figure(data, mbps, money)),
        _frontier_table(data.frontier),
        "<h2>What each policy and each demand growth needs</h2>",
        div(_needs_figure(data, mbps)),
        *_tornado_section(data, mbps),
        "<h2>Objectives at the answer</h2>",
        "<p>Both over each site kind's busy windows of the whole run: the mean over the fresh "
        "seeds (the verdict above), and the run at the answer on the scenario's own seed "
        "(summary.json, report.html).</p>",
        _objectives_table(data, fresh, run, names),
        "<h2>The split to deploy (downloads; uploads have the same shape)</h2>",
        _deploy_note(data),
        _split_table(data.split, names),
    ]
    path = run_dir / "recommendation.html"
    write_page(path, f"recommendation {mbps:g} Mbit/s", body)
    return path


def _deploy_note(data: Recommendation) -> str:
    """How to deploy the split on the target it was simulated for, and what RouterOS needs."""
    if data.target == "routeros":
        return (
            "<p>Simulated for RouterOS (every leaf one quantum, as RouterOS queues have): "
            "deploy with <code>netlab export recommendation.json -f mikrotik</code> "
            "(<code>-f tc</code> deploys the same split on Linux).</p>"
        )
    return (
        "<p>Simulated for Linux tc: deploy with <code>netlab export recommendation.json -f tc"
        "</code>. RouterOS has no HTB quantum: for a MikroTik router run <code>netlab optimize "
        "--target routeros</code>, since <code>-f mikrotik</code> refuses a plan whose spare "
        "capacity is split by quantum.</p>"
    )


def _rp(value: float | None) -> str:
    return "-" if value is None else f"Rp{value:,.0f}"


def _finance_table(data: Recommendation, money: Finance, fresh: FreshCheck) -> str:
    rows = [
        ("Recommended", f"{data.mbps:g} Mbit/s each way, {data.policy}"),
        ("Simulated for", TARGET_NAMES[data.target]),
        ("Cost", f"{_rp(data.monthly_idr)} a month, {_rp(data.yearly_idr)} a year"),
        (
            f"Today's purchase ({money.current_mbps:g} Mbit/s)",
            f"{_rp(money.current_yearly_idr)} a year: the answer {money.against_today()}",
        ),
    ]
    margin = money.below_budget_yearly_idr
    if money.budget_yearly_idr is not None and margin is not None:
        rows.append(
            (
                "Budget ceiling",
                f"{_rp(money.budget_yearly_idr)} a year: the answer is "
                + (f"{_rp(margin)} below it" if margin >= 0 else f"{_rp(-margin)} OVER it"),
            )
        )
    answer = fresh.at_answer
    rows.append(
        (
            f"On {len(answer.probes)} seeds the search never saw",
            ("meets every objective" if answer.feasible else "misses an objective")
            + f" ({answer.seeds_meeting} of {len(answer.probes)} seeds alone)",
        )
    )
    if fresh.at_cheaper is not None:
        verdict = "meets them too" if fresh.at_cheaper.feasible else "misses them"
        rows.append((f"Next cheaper option, {fresh.cheaper_mbps:g} Mbit/s", verdict))
    return _table(["question", "answer"], rows)


def _frontier_figure(data: Recommendation, mbps: float, money: Finance) -> go.Figure:
    """One horizontal bar per purchase simulated (its yearly cost, coloured by the verdict it
    is known by: on fresh seeds where it was checked on them), so no two labels share a row."""
    purchases = frontier_purchases(data.frontier)
    names = [_purchase_name(row.mbps, rows, money.current_mbps) for row, rows in purchases][::-1]
    verdicts = [row.feasible for row, _ in purchases][::-1]
    costs = [12 * row.monthly_idr / MILLION for row, _ in purchases][::-1]
    fig = go.Figure()
    for feasible, colour, label in ((True, MEETS, "meets"), (False, MISSES, "misses")):
        mine = [i for i, v in enumerate(verdicts) if v == feasible]
        fig.add_trace(
            go.Bar(
                y=[names[i] for i in mine],
                x=[costs[i] for i in mine],
                orientation="h",
                name=f"{label} the objectives",
                marker_color=colour,
                text=[f"Rp{costs[i]:,.0f}M" for i in mine],
                textposition="outside",
                cliponaxis=False,
            )
        )
    if money.budget_yearly_idr is not None:
        fig.add_vline(
            x=money.budget_yearly_idr / MILLION,
            line_dash="dash",
            annotation_text="budget ceiling",
            annotation_position="top",
        )
    top = max([*costs, (money.budget_yearly_idr or 0) / MILLION])
    fig.update_layout(
        title=f"{data.policy}: yearly cost of each purchase simulated",
        xaxis={"title": "cost (million Rp a year)", "range": [0, 1.2 * top]},
        yaxis={"type": "category", "automargin": True, "categoryarray": names},
        legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},
        margin={"t": 100},
        height=160 + 2 * ROW_PX * len(names),
    )
    return fig


def _purchase_name(mbps: float, rows: list[FrontierRow], current: float) -> str:
    """ "525 Mbit/s (the answer, today's)": the purchase and what it is."""
    what = [r.role.removesuffix(" (fresh seeds)") for r in rows if r.role != "search"]
    what = [w for w in what if w != "price tier edge"]
    if mbps == current:
        what.append("today's")
    return f"{mbps:g} Mbit/s" + (f" ({', '.join(what)})" if what else "")


def _needs_figure(data: Recommendation, mbps: float) -> go.Figure:
    """Horizontal bars: what each policy, and the chosen one under each growth, needs."""
    labels, values = [], []
    for policy, found in data.policies.items():
        labels.append(f"{policy}")
        values.append(found.mbps)
    for growth, found in data.growth.items():
        labels.append(f"{data.policy}, demand x{growth}")
        values.append(found.mbps)
    fig = go.Figure(
        go.Bar(
            y=labels[::-1],
            x=[v or 0 for v in values][::-1],
            orientation="h",
            text=["above the grid" if v is None else f"{v:g} Mbit/s" for v in values][::-1],
            textposition="outside",
            cliponaxis=False,
            marker_color="#1f77b4",
        )
    )
    fig.add_vline(x=mbps, line_dash="dash")  # named in the title: a label here meets a bar's
    top = max([v or 0 for v in values] + [mbps])
    fig.update_layout(
        title=f"Smallest purchase meeting the objectives (dashed: the answer, {mbps:g} Mbit/s)",
        xaxis={"title": "Mbit/s each way", "range": [0, 1.25 * top]},
        yaxis={"type": "category", "automargin": True},
        height=140 + 2 * ROW_PX * len(labels),
    )
    return fig


def _tornado_section(data: Recommendation, mbps: float) -> list[str]:
    rows = data.sensitivities
    if not rows:
        return []
    return [
        "<h2>What the answer depends on</h2>",
        div(_tornado(rows, mbps, data.grid["max_mbps"])),
        "<p>Each assumption set low and high, the others as in the scenario; the purchase "
        "the chosen policy then needs (searched on fewer seeds: indicative). Largest swing "
        "first.</p>",
    ]


def _tornado(rows: list[Sensitivity], answer: float, ceiling: float) -> go.Figure:
    fig = go.Figure()
    names = [r.assumption for r in rows][::-1]
    for side, colour in (("low", "#6baed6"), ("high", "#fd8d3c")):
        needs = [r.low_mbps if side == "low" else r.high_mbps for r in rows][::-1]
        labels = [r.low if side == "low" else r.high for r in rows][::-1]
        fig.add_trace(
            go.Bar(
                y=names,
                x=[(ceiling if n is None else n) - answer for n in needs],
                base=answer,
                orientation="h",
                name=f"assumption {side}",
                marker_color=colour,
                text=[
                    f"{lab}: {'above ' + format(ceiling, 'g') if n is None else format(n, 'g')}"
                    for lab, n in zip(labels, needs, strict=True)
                ],
                textposition="outside",
            )
        )
    fig.add_vline(x=answer, line_dash="dash", annotation_text=f"answer {answer:g}")
    ends = [ceiling if n is None else n for r in rows for n in (r.low_mbps, r.high_mbps)]
    pad = 0.25 * (max([*ends, answer]) - min([*ends, answer]) or answer)
    fig.update_traces(cliponaxis=False)
    fig.update_layout(
        barmode="overlay",
        title="Purchase needed (Mbit/s) with each assumption low and high",
        xaxis={
            "title": "Mbit/s each way",
            "range": [min([*ends, answer]) - pad, max([*ends, answer]) + pad],
        },
        height=120 + 70 * len(rows),
        margin={"l": 180},
    )
    return fig


def _frontier_table(rows: list[FrontierRow]) -> str:
    """One row per purchase; a purchase simulated on two sets of seeds (searched, then
    checked on fresh ones) lists both verdicts in its row rather than appearing twice."""
    header = [
        "Mbit/s",
        "Rp a month",
        "Rp a year",
        "Rp per Mbit/s a month",
        "verdict",
        "simulated as: seeds (mean over) and verdict",
    ]
    body = []
    for stands, runs in frontier_purchases(rows):
        body.append(
            (
                f"{stands.mbps:g}",
                f"{stands.monthly_idr:,.0f}",
                f"{12 * stands.monthly_idr:,.0f}",
                f"{stands.idr_per_mbps_month:,.0f}",
                "meets" if stands.feasible else "misses",
                "; ".join(
                    f"{r.role}, seeds {', '.join(map(str, r.seeds))}: "
                    + ("meets" if r.feasible else f"misses {_missed(r.missed)}")
                    for r in runs
                ),
            )
        )
    return _table(header, body)


def _run_summary(run_dir: Path) -> tuple[dict[str, ObjectiveRow], dict[str, str]]:
    """The objectives of the run at the answer by name, and its sites' names by id (neither
    if the folder has no summary.json)."""
    path = run_dir / "summary.json"
    if not path.exists():
        return {}, {}
    summary = Summary.from_json(json.loads(path.read_text()))
    return {row.name: row for row in summary.objectives}, {s.id: s.name for s in summary.sites}


def _missed(names: list[str]) -> str:
    if len(names) > 3:
        return f"{len(names)} objectives"
    return ", ".join(names) or "-"


def _objectives_table(
    data: Recommendation, fresh: FreshCheck, run: dict[str, ObjectiveRow], names: dict[str, str]
) -> str:
    mean = fresh.at_answer.mean
    verdicts = {True: "met", False: "MISSED", None: "-"}
    rows = []
    for name, target in data.objectives.items():
        if name == "busy_fraction":
            continue
        value, whole = mean.get(name), run.get(name)
        measured = None if whole is None else whole.value
        rows.append(
            (
                objective_label(name).text(),
                name,
                "information" if target is None else f"{target:g}",
                "-" if value is None else f"{value:.3f}",
                verdicts[met(value, target, name)],
                "-" if measured is None else f"{measured:.3f}",
                verdicts[None if whole is None else whole.met],
                "" if whole is None or whole.site is None else names.get(whole.site, whole.site),
            )
        )
    seeds = ", ".join(map(str, fresh.seeds))
    header = [
        "objective, unit",
        "code name",
        "target",
        f"fresh seeds {seeds} (mean)",
        "verdict",
        "run at the answer",
        "verdict",
        "site",
    ]
    return _table(header, rows)


def _split_table(split: list[SplitRow], names: dict[str, str]) -> str:
    header = ["site", "guarantee Mbit/s", "ceiling Mbit/s", "priority", "quantum B"]
    rows = [
        (
            names.get(r.site, r.site),
            f"{r.rate_mbps:.3f}",
            f"{r.ceil_mbps:.3f}",
            str(r.prio),
            "-" if r.quantum is None else str(r.quantum),
        )
        for r in split
    ]
    return _table(header, rows)


def _table(header: list[str], rows: Sequence[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
