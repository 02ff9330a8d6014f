"""The run report's section on a live controller, drawn from the folder's controller.csv.

Each class's guarantee (HTB rate) over the run as a step line, one figure per direction, and
the count of changes with their reasons. A folder without controller.csv (a run without a
controller) gets no section.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from html import escape
from pathlib import Path

import plotly.graph_objects as go

from sim.model.units import MBPS
from sim.report.page import div

Steps = dict[str, tuple[list[float], list[float]]]  # class -> (times, rates)


def controller_section(run_dir: Path, start: dt.datetime, end_s: float) -> list[str]:
    """The section's HTML parts, or none when the run had no controller."""
    path = run_dir / "controller.csv"
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return ["<h2>Controller</h2>", "<p>The controller changed nothing.</p>"]
    name = rows[0]["controller"]
    reasons = Counter(row["why"] for row in rows)
    times = sorted({float(row["time_s"]) for row in rows})
    parts = [
        "<h2>Controller</h2>",
        f"<p>{escape(name)} changed {len(rows)} class figures at {len(times)} moments; "
        "each line is a class's guarantee (HTB rate), from its first value in force to the "
        "end of the run. Every change, with its reason, is in controller.csv.</p>",
    ]
    for direction, steps in _rate_steps(rows, end_s).items():
        parts.append(div(_figure(direction, steps, start)))
    top = "".join(
        f"<li>{n} × {escape(why or '(no reason given)')}</li>" for why, n in reasons.most_common(5)
    )
    return [*parts, f"<ul>{top}</ul>"]


def _rate_steps(rows: list[dict[str, str]], end_s: float) -> dict[str, Steps]:
    """Per direction and class: the guarantee at 0 s and after every change, to the end."""
    out: dict[str, Steps] = defaultdict(dict)
    for row in rows:
        if row["field"] != "rate":
            continue
        steps = out[row["direction"]]
        if row["class"] not in steps:
            steps[row["class"]] = ([0.0], [float(row["old"])])
        times, rates = steps[row["class"]]
        times.append(float(row["time_s"]))
        rates.append(float(row["new"]))
    for steps in out.values():
        for times, rates in steps.values():
            times.append(end_s)
            rates.append(rates[-1])
    return dict(out)


def _figure(direction: str, steps: Steps, start: dt.datetime) -> go.Figure:
    fig = go.Figure()
    for cid, (times, rates) in sorted(steps.items()):
        fig.add_trace(
            go.Scatter(
                x=[start + dt.timedelta(seconds=t) for t in times],
                y=[r / MBPS for r in rates],
                name=cid,
                mode="lines",
                line={"shape": "hv", "width": 1},
            )
        )
    word = "downloads" if direction == "down" else "uploads"
    fig.update_layout(
        title=f"Guarantees set by the controller ({word})",
        xaxis_title="local time",
        yaxis_title="guarantee, Mbit/s",
        yaxis_rangemode="tozero",
        height=380,
    )
    return fig
