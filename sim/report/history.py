"""The results history: every figure the gates measured, appended to one SQLite file, and
its trend plot, so a slow drift shows before it crosses a gate.

One row a figure: when, which gate (`bench` for `make bench-check`, `gate` for `netlab
gate`), a label for the comparison (e.g. the candidate's file), the figure's name, its value,
the baseline's value and the verdict. `trend_page` draws each figure's value over time (one
line a figure, baseline dotted) as a self-contained offline page.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go

from sim.report.page import div, page

SCHEMA = """
CREATE TABLE IF NOT EXISTS figures (
    recorded_at TEXT NOT NULL,  -- UTC, ISO 8601
    gate TEXT NOT NULL,         -- 'bench' or 'gate'
    label TEXT NOT NULL,        -- what was compared
    name TEXT NOT NULL,         -- the figure, e.g. 'test_check_allocator' or 'rsud/satisfaction'
    value REAL,
    baseline REAL,
    verdict TEXT NOT NULL       -- 'pass', 'fail', 'new'...
)
"""


@dataclass(frozen=True)
class Figure:
    """One measured figure and how it compared with its baseline."""

    name: str
    value: float | None
    baseline: float | None
    verdict: str


def append(db: Path, gate: str, label: str, figures: Iterable[Figure]) -> str:
    """Append the figures of one check, stamped with the current UTC time (returned)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with sqlite3.connect(db) as connection:
        connection.execute(SCHEMA)
        connection.executemany(
            "INSERT INTO figures VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(stamp, gate, label, f.name, f.value, f.baseline, f.verdict) for f in figures],
        )
    connection.close()
    return stamp


def rows(db: Path, gate: str) -> list[tuple[str, str, str, float | None, float | None, str]]:
    """(recorded_at, label, name, value, baseline, verdict) of one gate, oldest first."""
    with sqlite3.connect(db) as connection:
        connection.execute(SCHEMA)
        found = connection.execute(
            "SELECT recorded_at, label, name, value, baseline, verdict FROM figures "
            "WHERE gate = ? ORDER BY recorded_at, rowid",
            (gate,),
        ).fetchall()
    connection.close()
    return found


def trend_page(db: Path, gate: str, out: Path, title: str) -> Path:
    """Write the trend of every figure of one gate as an offline HTML page."""
    fig = go.Figure()
    series: dict[str, list[tuple[str, float | None, float | None]]] = {}
    for stamp, _label, name, value, baseline, _verdict in rows(db, gate):
        series.setdefault(name, []).append((stamp, value, baseline))
    for name, points in sorted(series.items()):
        stamps = [p[0] for p in points]
        fig.add_scatter(x=stamps, y=[p[1] for p in points], name=name, mode="lines+markers")
        fig.add_scatter(
            x=stamps,
            y=[p[2] for p in points],
            name=f"{name} (baseline)",
            mode="lines",
            line={"dash": "dot"},
            showlegend=False,
        )
    fig.update_layout(title=title, xaxis_title="recorded (UTC)", yaxis_title="figure")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(title, [f"<h1>{title}</h1>", div(fig)]))
    return out
