"""results/history.sqlite written by several processes at once loses nothing: appends from two
processes interleave, and two sweeps run at once both land whole."""

from __future__ import annotations

import csv
import multiprocessing
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from sim.analysis.table import METRIC_COLUMNS
from sim.report.history import Figure, append, rows
from tests.test_sweep import write_sweep

BATCHES, PER_BATCH = 150, 7  # per process: 150 transactions of 7 figures


def appender(db: Path, label: str, ready: object, go: object) -> None:
    """In a child process: wait for the start signal, then append BATCHES batches fast."""
    ready.set()  # type: ignore[attr-defined]
    go.wait()  # type: ignore[attr-defined]
    for batch in range(BATCHES):
        figures = [
            Figure(f"{batch}/{i}", float(batch * PER_BATCH + i), None, "new")
            for i in range(PER_BATCH)
        ]
        append(db, "bench", label, figures)


def test_two_processes_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "results" / "history.sqlite"
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    children, ready = [], []
    for label in ("a", "b"):
        started = context.Event()
        child = context.Process(target=appender, args=(db, label, started, go))
        child.start()
        children.append(child)
        ready.append(started)
    for started in ready:
        assert started.wait(60)
    go.set()  # both start appending together, each at once reading as it goes
    seen = 0
    while any(child.is_alive() for child in children):
        if db.exists():
            found = len(rows(db, "bench"))  # a reader during the writes: never blocked, growing
            assert found >= seen
            seen = found
        time.sleep(0.01)
    for child in children:
        child.join()
        assert child.exitcode == 0
    found = rows(db, "bench")
    assert len(found) == 2 * BATCHES * PER_BATCH
    for label in ("a", "b"):
        values = sorted(value for _, lab, _, value, _, _ in found if lab == label)
        assert values == [float(v) for v in range(BATCHES * PER_BATCH)]
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def first_append(db: Path, go: object) -> None:
    """In a child process: one append to a file that may not exist yet, when told."""
    go.wait()  # type: ignore[attr-defined]
    append(db, "bench", "x", [Figure("a", 1.0, None, "new")])


def test_processes_racing_to_make_the_file_all_land(tmp_path: Path) -> None:
    """Four processes make a new history file at once, 20 times: switching a new file to WAL
    is refused at once to all but one (SQLite does not wait for that lock), so each retries;
    without the retry about one process in twelve failed here with `database is locked`."""
    context = multiprocessing.get_context("fork")
    for attempt in range(20):
        db = tmp_path / f"h{attempt}.sqlite"
        go = context.Event()
        racers = [context.Process(target=first_append, args=(db, go)) for _ in range(4)]
        for racer in racers:
            racer.start()
        go.set()
        for racer in racers:
            racer.join()
        assert [racer.exitcode for racer in racers] == [0] * 4
        assert len(rows(db, "bench")) == 4


def test_two_sweeps_at_once_both_reach_the_history(tmp_path: Path) -> None:
    netlab = Path(sys.executable).with_name("netlab")
    out = tmp_path / "results"
    files = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        path = write_sweep(folder)
        path.write_text(path.read_text().replace('name = "t"', f'name = "{name}"'))
        files.append(path)
    sweeps = [
        subprocess.Popen(
            [str(netlab), "sweep", str(path), "--workers", "1", "--out", str(out), "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in files
    ]
    for sweep in sweeps:
        _, stderr = sweep.communicate(timeout=300)
        assert sweep.returncode == 0, stderr
    found = rows(out / "history.sqlite", "sweep")
    for name in ("one", "two"):  # 3 points x 2 seeds, every figure of each run
        names = [figure for _, label, figure, _, _, verdict in found if label == name]
        assert len(names) == len(set(names)) == 6 * len(METRIC_COLUMNS)
    with (out / "sweeps" / "one" / "results.csv").open() as handle:
        table = list(csv.DictReader(handle))
    recorded = {figure: value for _, label, figure, value, _, _ in found if label == "one"}
    for row in table:
        assert recorded[f"{row['point_hash']}/{row['seed']}/jain"] == float(row["jain"])
