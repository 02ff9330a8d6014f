"""Run a sweep: every point × seed is one job, on a local process pool or a Dask cluster.

The parent process owns the index, results/sweeps/<name>/index.sqlite (WAL): one row per
(point hash, seed) with status done or failed, its headline row, full summary and error,
committed as each result arrives. A job already done is never run again, so a killed sweep
resumes where it stopped; failed jobs are tried again on the next start. A job is
deterministic given its seed, so the table written at the end (results.csv, sorted by point
then seed, and results.parquet when pyarrow is installed) is the same whether the sweep was
interrupted or not and whichever executor ran it. Wall-clock runtimes are therefore kept in
the index and in SweepResult, not in the table.

Jobs are shipped as resolved scenarios, so Dask workers need netlab installed but not the
scenario files. The workers of the local pool and of a local Dask cluster die with the sweep,
even when it is killed with SIGKILL, and remove its temporary folders (sim.studies.pool).
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.analysis.metrics import summarize
from sim.analysis.summary import Summary
from sim.analysis.table import METRIC_COLUMNS, cell_text
from sim.model.errors import ConfigError
from sim.model.scenario import Scenario
from sim.model.topology import SITE_KINDS
from sim.run import run_scenario
from sim.studies.pool import remove_dead_scratch, worker_pool
from sim.studies.sweep.spec import GridPoint, Sweep, load_sweep

Progress = Callable[[int, int], None]  # (jobs finished, including earlier starts; all jobs)
OnResult = Callable[[int, "Outcome"], None]  # (task number, outcome)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    point_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    point TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    row TEXT,
    summary TEXT,
    error TEXT,
    runtime_s REAL NOT NULL,
    PRIMARY KEY (point_hash, seed)
)
"""


@dataclass(frozen=True)
class Outcome:
    """What a job sends back: a summary, or the one-line error it failed with."""

    summary: Summary | None
    error: str | None
    runtime_s: float


class SchedulerLost(Exception):
    """The Dask scheduler went away mid-sweep; the runs committed before stay in the index."""

    def __init__(self, address: str, done: int = 0, total: int = 0, index: Path | None = None):
        self.address, self.done, self.total, self.index = address, done, total, index
        super().__init__(f"lost the Dask scheduler at {address} after {done} of {total} runs")


@dataclass(frozen=True)
class SweepResult:
    sweep: Sweep
    folder: Path
    columns: list[str]
    rows: list[dict[str, Any]]  # sorted by point, then seed
    csv_path: Path
    parquet_path: Path | None
    ran: int  # jobs run by this call
    skipped: int  # jobs already done by an earlier call
    failed: int  # rows of the table whose run failed
    wall_s: float  # this call, end to end
    run_s: float  # summed runtimes of the jobs run by this call

    @property
    def index_path(self) -> Path:
        return self.folder / "index.sqlite"

    def summaries(self, rows: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """The full summary of each row's run (None for a failed run)."""
        with _open_index(self.index_path) as db:
            found = [
                db.execute(
                    "SELECT summary FROM runs WHERE point_hash = ? AND seed = ?",
                    (row["point_hash"], row["seed"]),
                ).fetchone()
                for row in rows
            ]
        return [json.loads(f[0]) if f and f[0] else None for f in found]


def run_sweep(
    sweep: Sweep | Path | str,
    workers: int | None = None,
    dask: str | None = None,
    out_root: Path = Path("results"),
    progress: Progress | None = None,
    resume: bool = False,
) -> SweepResult:
    """Run what is not yet done of a sweep and write its table under out_root/sweeps/<name>/.

    sweep: a sweep file (loaded here; a bad one raises ConfigError before anything runs) or
    a loaded Sweep. workers: processes of the local pool (default: all available cores) or,
    with dask="local", of the local cluster. dask: a scheduler address, or "local". resume:
    insist on finishing an earlier start (ConfigError when there is none, or when its index
    holds points this sweep no longer has). A lost Dask scheduler raises SchedulerLost.
    """
    began = time.perf_counter()
    sweep = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    folder = out_root / "sweeps" / sweep.name
    if resume:
        _check_resume(sweep, folder / "index.sqlite")
    folder.mkdir(parents=True, exist_ok=True)
    remove_dead_scratch()  # of sweeps killed after their workers had finished
    with _open_index(folder / "index.sqlite") as db:
        done = set(db.execute("SELECT point_hash, seed FROM runs WHERE status = 'done'"))
        jobs = [(p, s) for p in sweep.points for s in sweep.seeds if (p.hash, s) not in done]
        total = len(sweep.points) * len(sweep.seeds)
        finished = total - len(jobs)
        run_s = 0.0
        if progress is not None:
            progress(finished, total)

        def on_result(task: int, outcome: Outcome) -> None:
            nonlocal finished, run_s
            if _record(db, *jobs[task], outcome):  # else done already (by another start)
                finished += 1
                run_s += outcome.runtime_s
            if progress is not None:
                progress(finished, total)

        try:
            _execute([(p.scenario, s) for p, s in jobs], workers, dask, on_result)
        except SchedulerLost as lost:
            raise SchedulerLost(lost.address, finished, total, folder / "index.sqlite") from None
        stored = _stored(db)
    columns = ["point", "point_hash", *sweep.keys, "seed", "status", *METRIC_COLUMNS, "error"]
    rows = _table(sweep, stored)
    return SweepResult(
        sweep=sweep,
        folder=folder,
        columns=columns,
        rows=rows,
        csv_path=_write_csv(folder / "results.csv", columns, rows),
        parquet_path=_write_parquet(folder / "results.parquet", columns, rows),
        ran=len(jobs),
        skipped=total - len(jobs),
        failed=sum(row["status"] == "failed" for row in rows),
        wall_s=time.perf_counter() - began,
        run_s=run_s,
    )


def run_job(scenario: Scenario, seed: int) -> Outcome:
    """One job, in a worker: simulate and summarise; an exception becomes a failed outcome."""
    began = time.perf_counter()
    try:
        summary = summarize(run_scenario(scenario.with_run(seed=seed)))
    except Exception as exc:
        error = " ".join(f"{type(exc).__name__}: {exc}".split())
        return Outcome(None, error, time.perf_counter() - began)
    return Outcome(summary, None, time.perf_counter() - began)


def headline(summary: Summary) -> dict[str, Any]:
    """The table's figures (METRIC_COLUMNS) from a run summary."""
    overall, down, cost = summary.overall, summary.upstream["down"], summary.cost
    busy = overall.busy_hour
    worst = {}
    for kind in SITE_KINDS:
        site = summary.worst_site(kind)
        worst[f"worst_{kind}_satisfaction"] = None if site is None else site.satisfaction
    return {
        "satisfaction": overall.satisfaction,
        "busy_hour_satisfaction": None if busy is None else busy.satisfaction,
        "jain": overall.jain_index,
        "paced_at_rate_share": overall.paced_at_rate_share,
        "unmet_gb": overall.unmet_gb,
        "util_mean": down.mean_utilisation,
        "util_p95": down.p95_utilisation,
        "billing95_mbps": down.billing95_mbps,
        "monthly_idr": cost.monthly_idr,
        "per_delivered_gb_idr": cost.per_delivered_gb_idr,
        "idle_idr": cost.idle_idr,
        **worst,
    }


# -- executors: run tasks, call on_result in the parent as each finishes -----------------------


def _execute(
    tasks: list[tuple[Scenario, int]], workers: int | None, dask: str | None, on_result: OnResult
) -> None:
    """Run the tasks on Dask when an address (or "local") is given, else on the local pool."""
    if tasks and dask is not None:
        _run_dask(tasks, dask, workers or _cpus(), on_result)
    elif tasks:
        _run_local(tasks, min(workers or _cpus(), len(tasks)), on_result)


def _run_local(tasks: list[tuple[Scenario, int]], workers: int, on_result: OnResult) -> None:
    """A process pool; workers fork from a server that has imported netlab once."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    pool = worker_pool(workers, context)
    try:
        futures = {pool.submit(run_job, *task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            on_result(futures[future], future.result())
    except BaseException:
        # Interrupted: stop the running jobs now (the index holds every finished one) rather
        # than let shutdown wait for them and for the calls already queued to the workers.
        for process in (pool._processes or {}).values():
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(
    tasks: list[tuple[Scenario, int]], address: str, workers: int, on_result: OnResult
) -> None:
    """On Dask (sim.studies.sweep.dask_executor), imported here: only Dask runs need it."""
    try:
        from sim.studies.sweep.dask_executor import run_on_dask
    except ImportError as exc:
        raise ImportError("--dask needs dask[distributed]: pip install 'netlab[cluster]'") from exc
    run_on_dask(tasks, address, workers, on_result)


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


# -- the index and the table -------------------------------------------------------------------


@contextmanager
def _open_index(path: Path) -> Iterator[sqlite3.Connection]:
    """The index, open for the block (WAL: readers never block the writing parent)."""
    db = sqlite3.connect(path, timeout=30.0)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(SCHEMA)
        yield db
    finally:
        db.close()


def _record(db: sqlite3.Connection, point: GridPoint, seed: int, outcome: Outcome) -> bool:
    """Store one outcome and commit; whether it was stored. A failed run's row is replaced by
    its re-run; a done run's row never is, so a run's result is written once."""
    summary = outcome.summary
    with db:
        cursor = db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (point_hash, seed) "
            "DO UPDATE SET point = excluded.point, status = excluded.status, row = excluded.row, "
            "summary = excluded.summary, error = excluded.error, runtime_s = excluded.runtime_s "
            "WHERE runs.status = 'failed'",
            (
                point.hash,
                seed,
                json.dumps(point.values, sort_keys=True, default=str),
                "failed" if summary is None else "done",
                None if summary is None else json.dumps(headline(summary)),
                None if summary is None else json.dumps(summary.to_json()),
                outcome.error,
                outcome.runtime_s,
            ),
        )
    return cursor.rowcount == 1


def _check_resume(sweep: Sweep, index: Path) -> None:
    """--resume: refuse when there is no earlier start to finish, or when its index holds
    runs of points this sweep file no longer has (the file changed since)."""
    if not index.exists():
        problem = (
            f"nothing to resume: no earlier start of sweep {sweep.name!r} ({index} is missing)"
        )
        raise ConfigError(sweep.path, "--resume", problem)
    with _open_index(index) as db:
        stored = {h for (h,) in db.execute("SELECT DISTINCT point_hash FROM runs")}
    stale = stored - {point.hash for point in sweep.points}
    if stale:
        raise ConfigError(
            sweep.path,
            "--resume",
            f"{index} holds runs of {len(stale)} point(s) this sweep no longer has: the file "
            "changed since they ran (without --resume the sweep goes on as the file is now)",
        )


def _stored(db: sqlite3.Connection) -> dict[tuple[str, int], tuple[str, str | None, str | None]]:
    """Every run in the index: (point hash, seed) -> (status, headline row, error)."""
    query = "SELECT point_hash, seed, status, row, error FROM runs"
    return {(h, s): (status, row, error) for h, s, status, row, error in db.execute(query)}


def _table(
    sweep: Sweep, stored: dict[tuple[str, int], tuple[str, str | None, str | None]]
) -> list[dict[str, Any]]:
    rows = []
    for point in sweep.points:
        for seed in sweep.seeds:
            status, row, error = stored[(point.hash, seed)]
            figures = json.loads(row) if row else dict.fromkeys(METRIC_COLUMNS)
            rows.append(
                {
                    "point": point.index,
                    "point_hash": point.hash,
                    **point.values,
                    "seed": seed,
                    "status": status,
                    **figures,
                    "error": error,
                }
            )
    return rows


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    temporary = path.with_name(f".{path.name}.partial")
    with temporary.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([cell_text(row[c]) for c in columns] for row in rows)
    temporary.replace(path)
    return path


def _write_parquet(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path | None:
    """results.parquet when pyarrow is installed (tables as JSON text, like the CSV)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    plain = [
        {c: cell_text(row[c]) if isinstance(row[c], dict | list) else row[c] for c in columns}
        for row in rows
    ]
    temporary = path.with_name(f".{path.name}.partial")
    pq.write_table(pa.Table.from_pylist(plain), temporary)
    temporary.replace(path)
    return path
