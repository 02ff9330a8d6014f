"""Side-by-side comparison of sweep groups (usually policies) over seeds, and its HTML report.

`compare` takes sweep table rows (SweepResult.rows, or results.csv read back) and, per metric:
- each group's mean over its runs with a 95 % confidence interval, mean ± t(0.975, n-1)·s/√n;
- paired differences against the best group: runs pair up when they share the seed and every
  other grid value, so both saw the same demand; the mean difference gets the same t-interval,
  and it is significant when that interval excludes 0;
- a plain verdict per pair ("a beats b on busy-hour satisfaction by 0.21 ± 0.03 (95 % CI,
  10 paired seeds)", or "no significant difference").

t quantiles come from a table (scipy is not a dependency), read conservatively: beyond 30
degrees of freedom the nearest tabulated df below (40, 60, 120) is used, so a CI is never
narrower than the exact one (at most 1 % wider).
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

from sim.report.html import div, page
from sim.sweep.runner import METRIC_COLUMNS, cell_text

if TYPE_CHECKING:
    from sim.sweep.runner import SweepResult

# t(0.975, df): two-sided 95 % quantiles of Student's t, df 1..30, then 40, 60 and 120.
_T975_TABLE = """
12.7062 4.3027 3.1824 2.7764 2.5706 2.4469 2.3646 2.3060 2.2622 2.2281
2.2010 2.1788 2.1604 2.1448 2.1314 2.1199 2.1098 2.1009 2.0930 2.0860
2.0796 2.0739 2.0687 2.0639 2.0595 2.0555 2.0518 2.0484 2.0452 2.0423
"""
T975 = {
    **dict(enumerate(map(float, _T975_TABLE.split()), start=1)),
    40: 2.0211,
    60: 2.0003,
    120: 1.9799,
}

HIGHER_IS_BETTER = {
    "satisfaction",
    "busy_hour_satisfaction",
    "jain",
    "paced_at_rate_share",
    *(c for c in METRIC_COLUMNS if c.startswith("worst_")),
}
LOWER_IS_BETTER = {"unmet_gb", "monthly_idr", "per_delivered_gb_idr", "idle_idr"}
DEFAULT_METRICS = (
    "busy_hour_satisfaction",
    "satisfaction",
    "jain",
    "paced_at_rate_share",
    "worst_office_satisfaction",
    "unmet_gb",
    "per_delivered_gb_idr",
)
LABELS = {
    "busy_hour_satisfaction": "busy-hour satisfaction",
    "jain": "Jain's fairness index",
    "paced_at_rate_share": "calls and video at their rate",
    "unmet_gb": "unmet demand (GB)",
    "util_mean": "mean utilisation",
    "util_p95": "p95 utilisation",
    "billing95_mbps": "95th-percentile billing (Mbit/s)",
    "monthly_idr": "monthly cost (Rp)",
    "per_delivered_gb_idr": "cost per delivered GB (Rp)",
    "idle_idr": "idle capacity (Rp)",
}
# Columns that are neither grid values nor the seed: left out when runs are paired.
NOT_CONTEXT = {"point", "point_hash", "status", "error", *METRIC_COLUMNS}


def t_quantile(df: int) -> float:
    """t(0.975, df) from the table; between or beyond tabulated df, the next smaller one."""
    if df < 1:
        raise ValueError("the t distribution needs at least one degree of freedom")
    return T975[max(k for k in T975 if k <= df)]


def mean_ci(values: Sequence[float]) -> dict[str, Any]:
    """n, mean, sample standard deviation and the 95 % CI half-width (None below n = 2)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return {"n": 0, "mean": None, "sd": None, "ci": None}
    if x.size == 1:
        return {"n": 1, "mean": float(x[0]), "sd": None, "ci": None}
    sd = float(np.std(x, ddof=1))
    return {
        "n": int(x.size),
        "mean": float(np.mean(x)),
        "sd": sd,
        "ci": t_quantile(x.size - 1) * sd / math.sqrt(x.size),
    }


def paired_difference(a: dict[Any, float], b: dict[Any, float]) -> dict[str, Any]:
    """Mean of a - b over the keys both have, with its 95 % CI and whether it excludes 0.

    A difference within rounding noise (1e-9 of the values) counts as exactly 0.
    """
    common = [key for key in a if key in b]
    stats = mean_ci([_difference(a[key], b[key]) for key in common])
    stats["significant"] = stats["ci"] is not None and abs(stats["mean"]) > stats["ci"]
    return stats


def compare(
    rows: list[dict[str, Any]],
    by: str | Sequence[str] = "policy.name",
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> dict[str, Any]:
    """Groups by the `by` column(s), then per metric: means ± CI, paired differences, verdicts."""
    keys = [by] if isinstance(by, str) else list(by)
    done = [row for row in rows if row.get("status", "done") == "done"]
    context_keys = sorted({k for row in done for k in row} - NOT_CONTEXT - set(keys))
    varying = {k for k in context_keys if len({_text(row.get(k)) for row in done}) > 1}
    unit = "paired seeds" if varying <= {"seed"} else "paired runs"
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in done:
        groups.setdefault(group_label(row, keys), []).append(row)
    out: dict[str, Any] = {"by": keys, "groups": list(groups), "metrics": {}, "verdicts": []}
    for metric in metrics:
        values = {
            name: {
                tuple(_text(row.get(k)) for k in context_keys): float(row[metric])
                for row in members
                if row.get(metric) not in (None, "")
            }
            for name, members in groups.items()
        }
        values = {name: v for name, v in values.items() if v}
        if not values:
            continue
        stats = {name: mean_ci(list(v.values())) for name, v in values.items()}
        sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
        best = max(stats, key=lambda name: sign * stats[name]["mean"])
        paired = {}
        for name in values:
            if name == best:
                continue
            diff = paired_difference(values[best], values[name])
            diff["verdict"] = verdict(metric, best, name, diff, unit)
            paired[name] = diff
            out["verdicts"].append(diff["verdict"])
        out["metrics"][metric] = {
            "direction": _direction(metric),
            "best": best,
            "groups": stats,
            "paired": paired,
        }
    return out


def verdict(metric: str, best: str, other: str, diff: dict[str, Any], unit: str) -> str:
    """One sentence on best - other for a metric (diff from paired_difference)."""
    label = LABELS.get(metric, metric.replace("_", " "))
    n, mean, ci = diff["n"], diff["mean"], diff["ci"]
    if ci is None:
        return f"{best} vs {other} on {label}: too few {unit} to tell ({n})"
    if mean == 0.0 and ci == 0.0:
        return f"{best} and {other} give the same {label} on all {n} {unit}"
    amount, spread = _pair(mean, ci)
    if not diff["significant"]:
        return (
            f"{best} vs {other}: no significant difference on {label} "
            f"({amount} ± {spread}, 95 % CI, {n} {unit})"
        )
    winner, loser = (best, other) if _better(metric, mean) else (other, best)
    size, _ = _pair(abs(mean), ci)
    how = "is higher than" if metric not in HIGHER_IS_BETTER | LOWER_IS_BETTER else "beats"
    lower = "; lower is better" if metric in LOWER_IS_BETTER else ""
    return f"{winner} {how} {loser} on {label} by {size} ± {spread} (95 % CI, {n} {unit}{lower})"


def group_label(row: dict[str, Any], keys: Sequence[str]) -> str:
    return " / ".join(_text(row.get(k)) for k in keys)


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both (lower x, higher y), by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best_y = [], -math.inf
    for i in order:
        if points[i][1] > best_y:
            front.append(i)
            best_y = points[i][1]
    return front


def _difference(a: float, b: float) -> float:
    return 0.0 if abs(a - b) <= 1e-9 * max(abs(a), abs(b)) else a - b


def _better(metric: str, best_minus_other: float) -> bool:
    return best_minus_other < 0 if metric in LOWER_IS_BETTER else best_minus_other > 0


def _direction(metric: str) -> str:
    if metric in HIGHER_IS_BETTER:
        return "higher"
    return "lower" if metric in LOWER_IS_BETTER else "neutral"


def _pair(value: float, ci: float) -> tuple[str, str]:
    """Value and half-width to the CI's precision: 1 significant digit (2 when it starts 1-2),
    at most 6 decimals."""
    if ci <= 0:
        return f"{value:,.4g}", "0"
    exponent = math.floor(math.log10(ci))
    decimals = min(6, max(0, -exponent + (1 if ci / 10**exponent < 3 else 0)))
    return f"{value:,.{decimals}f}", f"{ci:,.{decimals}f}"


def _text(value: Any) -> str:
    """A grid value as text, the same whether the row came from memory or from results.csv."""
    return value if isinstance(value, str) else cell_text(value)


# -- the report ----------------------------------------------------------------------------------


def compare_report(
    result: SweepResult,
    rows: list[dict[str, Any]],
    out_path: Path,
    by: str | Sequence[str] = "policy.name",
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> Path:
    """Write a self-contained HTML comparison (plotly.js inlined once) and return its path."""
    keys = [by] if isinstance(by, str) else list(by)
    comparison = compare(rows, keys, metrics)
    done = [row for row in rows if row.get("status", "done") == "done"]
    body = [
        f"<h1>netlab comparison: {escape(result.sweep.name)}</h1>",
        f"<p class='meta'>{escape(result.sweep.description)} · {len(done)} runs · grouped by "
        f"{escape(', '.join(keys))} · seeds {escape(', '.join(map(str, result.sweep.seeds)))}</p>",
        "<h2>Verdict</h2>",
        "<ul>" + "".join(f"<li>{escape(v)}</li>" for v in comparison["verdicts"]) + "</ul>",
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
    out_path.write_text(page(f"comparison {result.sweep.name}", body), encoding="utf-8")
    return out_path


def _pareto_figure(rows: list[dict[str, Any]], keys: list[str], metric: str) -> go.Figure:
    """Monthly cost against a service figure: every run, and the frontier of point means."""
    label = LABELS.get(metric, metric.replace("_", " "))
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
        title=f"Monthly cost against {label}",
        xaxis_title="monthly cost (Rp)",
        yaxis_title=label,
        height=420,
    )
    return fig


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


def _bars(comparison: dict[str, Any]) -> go.Figure:
    metrics = list(comparison["metrics"])
    cols = 2
    fig = make_subplots(
        rows=max(1, math.ceil(len(metrics) / cols)),
        cols=cols,
        subplot_titles=[LABELS.get(m, m.replace("_", " ")) for m in metrics],
    )
    for i, metric in enumerate(metrics):
        stats = comparison["metrics"][metric]["groups"]
        fig.add_bar(
            x=list(stats),
            y=[s["mean"] for s in stats.values()],
            error_y={"type": "data", "array": [s["ci"] or 0.0 for s in stats.values()]},
            showlegend=False,
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_layout(height=280 * max(1, math.ceil(len(metrics) / cols)))
    return fig


def _means_table(comparison: dict[str, Any]) -> str:
    groups = comparison["groups"]
    head = "".join(f"<th>{escape(g)}</th>" for g in ["metric", *groups])
    body = []
    for metric, info in comparison["metrics"].items():
        cells = [escape(LABELS.get(metric, metric.replace("_", " ")))]
        for group in groups:
            stats = info["groups"].get(group)
            text = "-" if stats is None else _mean_text(stats)
            cells.append(f"<b>{text}</b>" if group == info["best"] else escape(text))
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _mean_text(stats: dict[str, Any]) -> str:
    if stats["ci"] is None:
        return f"{stats['mean']:,.4g} (n={stats['n']})"
    mean, ci = _pair(stats["mean"], stats["ci"])
    return f"{mean} ± {ci} (n={stats['n']})"


def _hover(row: dict[str, Any], seed: bool = True) -> str:
    skip = NOT_CONTEXT | ({"seed"} if not seed else set())
    return "<br>".join(f"{k} = {_text(v)}" for k, v in row.items() if k not in skip)
