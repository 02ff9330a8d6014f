"""The results history: every figure the gates measured, appended to one SQLite file, and
its trend plot, so a slow drift shows before it crosses a gate.

One row a figure: when, which gate (`bench` for `make bench-check`, `gate` for `netlab
gate`, `sweep` for `netlab sweep` and `compare`), a label for the comparison (e.g. the
candidate's file, the sweep's name), the figure's name, its value, the baseline's value and
the verdict. Gates, benchmark checks and sweeps may append at the same time from several
processes: the file is in WAL mode (readers never block the writer), each append is one
transaction that takes the write lock at its start (BEGIN IMMEDIATE), and a writer waits up to
BUSY_S for another's, so concurrent appends queue and none is lost. `trend_page` draws each
figure's value over time (one line a figure, baseline dotted) as a page that opens offline.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from sim.analysis.table import METRIC_COLUMNS
from sim.report.page import div, write_page

SCHEMA = """
CREATE TABLE IF NOT EXISTS figures (
    recorded_at TEXT NOT NULL,  -- UTC, ISO 8601
    gate TEXT NOT NULL,         -- 'bench', 'gate' or 'sweep'
    label TEXT NOT NULL,        -- what was compared
    name TEXT NOT NULL,         -- the figure, e.g. 'test_check_allocator' or 'rsud/satisfaction'
    value REAL,
    baseline REAL,
    verdict TEXT NOT NULL       -- 'pass', 'fail', 'new'...
)
"""
WAL_RETRY_S = 0.01
BUSY_S = 60.0  # how long an append waits for another process's transaction


@dataclass(frozen=True)
class Figure:
    """One measured figure and how it compared with its baseline."""

    name: str
    value: float | None
    baseline: float | None
    verdict: str


def append(db: Path, gate: str, label: str, figures: Iterable[Figure]) -> str:
    """Append the figures of one check in one transaction, stamped with the current UTC time
    (returned)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    values = [(stamp, gate, label, f.name, f.value, f.baseline, f.verdict) for f in figures]
    with closing(_connect(db)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany("INSERT INTO figures VALUES (?, ?, ?, ?, ?, ?, ?)", values)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    return stamp


def sweep_figures(table: Iterable[dict[str, Any]]) -> list[Figure]:
    """A sweep's table of runs as history figures: every figure of each done run, named
    POINT_HASH/SEED/COLUMN (no baseline; verdict 'done')."""
    return [
        Figure(f"{row['point_hash']}/{row['seed']}/{column}", row[column], None, "done")
        for row in table
        if row["status"] == "done"
        for column in METRIC_COLUMNS
    ]


def rows(db: Path, gate: str) -> list[tuple[str, str, str, float | None, float | None, str]]:
    """(recorded_at, label, name, value, baseline, verdict) of one gate, oldest first."""
    with closing(_connect(db)) as connection:
        return connection.execute(
            "SELECT recorded_at, label, name, value, baseline, verdict FROM figures "
            "WHERE gate = ? ORDER BY recorded_at, rowid",
            (gate,),
        ).fetchall()


def _connect(db: Path) -> sqlite3.Connection:
    """The history in WAL mode with a busy timeout, its table made if missing; transactions
    are the caller's (autocommit otherwise)."""
    connection = sqlite3.connect(db, timeout=BUSY_S, isolation_level=None)
    try:
        _wal(connection)
        connection.execute(SCHEMA)
    except BaseException:
        connection.close()
        raise
    return connection


def _wal(connection: sqlite3.Connection) -> None:
    """Put the file in WAL mode (it stays so). Switching takes a lock that SQLite does not
    wait for when two connections race to switch a new file (`database is locked` at once,
    busy timeout or not), so the switch is retried for up to BUSY_S."""
    deadline = time.monotonic() + BUSY_S
    while connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(WAL_RETRY_S)


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
    write_page(out, title, [f"<h1>{title}</h1>", div(fig)])
    return out
