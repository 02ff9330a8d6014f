"""Sweeps on Dask through faults: a worker killed mid-job, a job whose workers keep dying, the
scheduler killed (one line, then --resume). Every kill waits for a job's start marker
(tests/dask_starts.py), never for a sleep; only processes these tests started are killed, by
their pid."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from sim.model.errors import ConfigError
from sim.studies.sweep import run_sweep
from tests.conftest import ROOT
from tests.test_sweep import GRID, index_rows, write_sweep

pytest.importorskip("distributed")

PRELOAD = ROOT / "tests" / "dask_starts.py"
NETLAB = Path(sys.executable).with_name("netlab")
WAIT_S = 120.0  # the longest any wait may take before the test fails (never reached when well)


def wait_for(what: str, ready: Callable[[], bool], alive: Callable[[], bool]) -> None:
    """Poll ready() until true; fail if alive() turns false or WAIT_S passes."""
    deadline = time.monotonic() + WAIT_S
    while not ready():
        assert alive(), f"stopped before {what}"
        assert time.monotonic() < deadline, f"no {what} in {WAIT_S:.0f} s"
        time.sleep(0.02)


def starts(folder: Path) -> list[tuple[int, str]]:
    """(worker pid, job key) of every job start so far, in order."""
    found = sorted(folder.glob("start-*"), key=lambda p: int(p.name.split("-")[1]))
    return [(int(pid), key) for pid, key in (p.read_text().split(" ", 1) for p in found)]


@contextmanager
def cluster(monkeypatch: pytest.MonkeyPatch, folder: Path, hold: str) -> Iterator[object]:
    """A local cluster of two worker processes that mark their starts and hold `hold`."""
    import dask
    from distributed import LocalCluster

    from sim.studies.sweep.dask_executor import ALLOWED_FAILURES, WORKER_SATURATION

    folder.mkdir()
    monkeypatch.setenv("NETLAB_TEST_STARTS", str(folder))
    monkeypatch.setenv("NETLAB_TEST_HOLD", hold)
    with (
        dask.config.set(
            {
                "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                # one job at a time on each worker: a killed worker fails only the held job
                "distributed.scheduler.worker-saturation": WORKER_SATURATION,
            }
        ),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            preload=[str(PRELOAD)],
        ) as local,
    ):
        yield local


def worker_pids(local: object) -> set[int]:
    return {nanny.process.pid for nanny in local.workers.values()}  # type: ignore[attr-defined]


def kill_held(folder: Path, local: object, sweeping: Future, number: int) -> tuple[int, str]:
    """Wait for start number `number` (held by its worker), SIGKILL that worker; (pid, key)."""
    wait_for(f"start {number}", lambda: len(starts(folder)) >= number, lambda: not sweeping.done())
    pid, key = starts(folder)[number - 1]
    assert pid in worker_pids(local)  # one of this test's workers, by its pid
    os.kill(pid, signal.SIGKILL)
    return pid, key


def test_killed_worker_sweep_completes_to_the_same_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_sweep(tmp_path)
    whole = run_sweep(path, workers=2, out_root=tmp_path / "whole")
    marks = tmp_path / "starts"
    with cluster(monkeypatch, marks, hold="2") as local, ThreadPoolExecutor(1) as thread:
        address = local.scheduler_address  # type: ignore[attr-defined]
        sweeping = thread.submit(run_sweep, path, dask=address, out_root=tmp_path / "killed")
        pid, key = kill_held(marks, local, sweeping, 2)
        result = sweeping.result(timeout=WAIT_S)
    # the killed worker's job ran again on another worker, once, and the sweep lost nothing
    again = [p for p, k in starts(marks) if k == key]
    assert again[0] == pid and len(again) == 2 and again[1] != pid
    assert (result.ran, result.failed) == (6, 0)
    assert result.csv_path.read_bytes() == whole.csv_path.read_bytes()
    assert result.parquet_path is not None and whole.parquet_path is not None
    assert result.parquet_path.read_bytes() == whole.parquet_path.read_bytes()
    rows = index_rows(tmp_path / "killed")
    assert len(rows) == len({(h, s) for h, s, _ in rows}) == 6
    assert {status for _, _, status in rows} == {"done"}


def test_job_whose_workers_keep_dying_fails_alone_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.studies.sweep.dask_executor import ALLOWED_FAILURES

    path = write_sweep(tmp_path)
    whole = run_sweep(path, workers=2, out_root=tmp_path / "whole")
    marks, root = tmp_path / "starts", tmp_path / "killed"
    with cluster(monkeypatch, marks, hold="job") as local, ThreadPoolExecutor(1) as thread:
        sweeping = thread.submit(
            run_sweep,
            path,
            dask=local.scheduler_address,
            out_root=root,  # type: ignore[attr-defined]
        )
        key = starts_first(marks, sweeping)
        for attempt in range(1, ALLOWED_FAILURES + 2):  # every try of that job: its worker killed
            kill_try(marks, key, attempt, local, sweeping)
        result = sweeping.result(timeout=WAIT_S)
    assert tries(marks, key) == ALLOWED_FAILURES + 1  # bounded: no fourth try
    failed = [row for row in result.rows if row["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"].startswith("KilledWorker: ")
    assert "\n" not in failed[0]["error"]
    assert sum(row["status"] == "done" for row in result.rows) == 5
    # the next start runs that job alone and the table is the undisturbed one
    resumed = run_sweep(path, workers=1, out_root=root, resume=True)
    assert (resumed.ran, resumed.skipped, resumed.failed) == (1, 5, 0)
    assert resumed.csv_path.read_bytes() == whole.csv_path.read_bytes()


def kill_try(folder: Path, key: str, attempt: int, local: object, sweeping: Future) -> None:
    """Wait for try number `attempt` of job `key` (held), SIGKILL the worker running it."""
    wait_for(f"try {attempt}", lambda: tries(folder, key) >= attempt, lambda: not sweeping.done())
    pid = [p for p, k in starts(folder) if k == key][attempt - 1]
    assert pid in worker_pids(local)  # one of this test's workers, by its pid
    os.kill(pid, signal.SIGKILL)


def starts_first(folder: Path, sweeping: Future) -> str:
    wait_for("a start", lambda: bool(starts(folder)), lambda: not sweeping.done())
    return starts(folder)[0][1]


def tries(folder: Path, key: str) -> int:
    return sum(k == key for _, k in starts(folder))


def spawn(started: list[subprocess.Popen[bytes]], *args: str, env: dict[str, str]) -> int:
    """Start a Dask command (distributed.cli.dask_scheduler, ...), quietly; its pid."""
    process = subprocess.Popen(
        [sys.executable, "-m", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    started.append(process)
    return process.pid


def test_lost_scheduler_says_so_in_one_line_and_resume_finishes(tmp_path: Path) -> None:
    path = write_sweep(tmp_path)
    whole = run_sweep(path, workers=2, out_root=tmp_path / "whole")
    marks, root, contact = tmp_path / "starts", tmp_path / "lost", tmp_path / "scheduler.json"
    marks.mkdir()
    env = {**os.environ, "NETLAB_TEST_STARTS": str(marks), "NETLAB_TEST_HOLD": "3"}
    started: list[subprocess.Popen[bytes]] = []
    held: list[int] = []
    try:
        spawn(
            started,
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(contact),
            env=env,
        )
        wait_for("the scheduler", contact.exists, lambda: started[0].poll() is None)
        address = json.loads(contact.read_text())["address"]
        # one worker of one thread: jobs start one after the other, and the third is held
        spawn(
            started,
            "distributed.cli.dask_worker",
            "--scheduler-file",
            str(contact),
            "--nthreads",
            "1",
            "--nworkers",
            "1",
            "--no-dashboard",
            "--preload",
            str(PRELOAD),
            env=env,
        )
        sweeping = subprocess.Popen(
            [str(NETLAB), "sweep", str(path), "--dask", address, "--out", str(root), "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        alive = lambda: sweeping.poll() is None  # noqa: E731
        wait_for("start 3", lambda: len(starts(marks)) >= 3, alive)
        held.append(starts(marks)[2][0])
        # the first two jobs finished before the third started: their runs reach the index
        wait_for("two committed runs", lambda: committed_runs(root) >= 2, alive)
        started[0].kill()  # the scheduler, by its pid
        _, stderr = sweeping.communicate(timeout=WAIT_S)
    finally:
        for pid in held:  # the held worker process (its loop is blocked), then the rest
            os.kill(pid, signal.SIGKILL)
        for process in started:
            process.kill()
            process.wait()
    kept = index_rows(root)
    assert len(kept) == 2 and {status for _, _, status in kept} == {"done"}
    assert sweeping.returncode == 3
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert stderr.startswith(f"netlab: error: lost the Dask scheduler at {address} after ")
    assert f" after {len(kept)} of 6 runs " in stderr and "--resume" in stderr
    assert not (root / "sweeps" / "t" / "results.csv").exists()

    resumed = subprocess.run(
        [
            str(NETLAB),
            "sweep",
            str(path),
            "--resume",
            "--workers",
            "1",
            "--out",
            str(root),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"ran {6 - len(kept)}, already done {len(kept)}, failed 0" in resumed.stdout
    table = root / "sweeps" / "t" / "results.csv"
    assert table.read_bytes() == whole.csv_path.read_bytes()


def committed_runs(out_root: Path) -> int:
    """Runs in the sweep's index so far (0 before it exists)."""
    try:
        return len(index_rows(out_root))
    except sqlite3.OperationalError:
        return 0


def test_resume_refuses_a_sweep_never_started_or_changed(tmp_path: Path) -> None:
    path = write_sweep(tmp_path)
    never = subprocess.run(
        [str(NETLAB), "sweep", str(path), "--resume", "--out", str(tmp_path / "r"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert never.returncode == 2 and never.stderr.count("\n") == 1
    assert f"netlab: error: {path}: --resume: nothing to resume" in never.stderr
    assert not (tmp_path / "r" / "sweeps").exists()
    run_sweep(path, workers=1, out_root=tmp_path / "r")
    changed = write_sweep(tmp_path, grid=GRID.replace("20, 40, 60", "20, 40"))
    with pytest.raises(ConfigError, match=r"--resume: .* holds runs of 1 point\(s\) this sweep"):
        run_sweep(changed, workers=1, out_root=tmp_path / "r", resume=True)
