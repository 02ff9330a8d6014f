"""No fault loses work (issue 9): `netlab run`, `sweep` and `optimize` killed at random points.

Each command runs once uninterrupted, then is started again and killed (SIGKILL, or SIGTERM)
after a random delay (for sweeps and optimisations counted from when the workers are known to
run), each time in its own process group; one sweep is killed on a local Dask cluster. After
each kill: the caller's stdout reaches end of file (nothing the command started still holds
it), the process group empties (no orphan: forkserver, resource tracker and workers die with
the command), no visible folder is incomplete, no temporary folder is left once the next
netlab has run, and a rerun completes with the same results as the uninterrupted run. What
may or may not have survived a kill is never asserted, only what is guaranteed either way.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import NETLAB, ROOT, RUN_FILES

SAME = ("summary.json", "flows.parquet", "classes.parquet")  # the same for one scenario and seed
TOPOLOGY = (ROOT / "topologies" / "small.toml").as_posix()
SCENARIO = (ROOT / "scenarios" / "example-small.toml").read_text()
OPTIMIZE = """
[optimize]
policies = ["htb-weighted"]
seeds = 1
confirm_seeds = 1
min_mbps = 25
max_mbps = 200
step_mbps = 25
window = "1h"
growth = [1.5]
growth_seeds = 1
"""
GONE_S = 20  # a killed command's processes are all gone well within this
Ready = Callable[[int], bool]  # (process group) -> may the kill come now?


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "crash.toml"
    text = SCENARIO.replace('"../topologies/small.toml"', f'"{TOPOLOGY}"')
    path.write_text(text.replace('duration = "12h"', 'duration = "2h"') + OPTIMIZE)
    return path


def _sweep(tmp_path: Path, scenario: Path) -> Path:
    path = tmp_path / "crash-sweep.toml"
    path.write_text(
        f"""[sweep]
name = "crash"
scenario = "{scenario.as_posix()}"
seeds = 2

[sweep.set]
"scenario.duration" = "1h"

[sweep.grid]
"policy.name" = ["htb-weighted", "max-min", "equal-static"]
"""
    )
    return path


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """netlab's environment: its own short TMPDIR (short: sockets live there), linked from
    tmp_path/tmp."""
    temp = Path(tempfile.mkdtemp(prefix="nlcrash-", dir="/tmp"))
    (tmp_path / "tmp").symlink_to(temp)
    yield {**os.environ, "TMPDIR": str(temp)}
    shutil.rmtree(temp, ignore_errors=True)


def _complete(args: list[str], env: dict[str, str]) -> float:
    began = time.monotonic()
    done = subprocess.run(
        [str(NETLAB), *args], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    return time.monotonic() - began


def _kill(
    args: list[str], env: dict[str, str], ready: Ready, delay: float, sig: signal.Signals
) -> None:
    """Start netlab in its own process group; once ready(pgid) holds, wait `delay` more and
    send sig (unless it has finished); return when nothing of it is left."""
    proc = subprocess.Popen(
        [str(NETLAB), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    while proc.poll() is None and not ready(proc.pid):
        time.sleep(0.02)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(sig)
    try:
        proc.communicate(timeout=GONE_S)  # end of file: nobody holds the caller's pipes
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"netlab {args[0]} killed: its children still hold stdout after {GONE_S} s")
    deadline = time.monotonic() + GONE_S
    while _group_alive(proc.pid):
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"netlab {args[0]} killed: orphan processes after {GONE_S} s")
        time.sleep(0.05)


def _started(_pgid: int) -> bool:
    return True


def _has_children(pgid: int) -> bool:
    """Processes other than the leader in the group: the pool's workers have started."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and int(stat.parent.name) != pgid:
            return True
    return False


def _has_results(index: Path) -> Ready:
    """A sweep's index holds a finished job: the pool is running."""

    def ready(_pgid: int) -> bool:
        try:
            with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
                return db.execute("SELECT count(*) FROM runs").fetchone()[0] > 0
        except sqlite3.Error:
            return False

    return ready


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _run_folders(out: Path) -> list[Path]:
    """The visible run folders under out, each checked to be complete."""
    folders = sorted(p for p in out.iterdir() if not p.name.startswith(".")) if out.exists() else []
    for folder in folders:
        assert {p.name for p in folder.iterdir()} >= RUN_FILES, f"{folder.name} is incomplete"
    return folders


def _no_temporaries(tmp_path: Path, out: Path) -> None:
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == []
    assert [p.name for p in out.glob(".*partial*")] == []


def test_killed_runs_lose_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    scenario = _scenario(tmp_path)
    reference = tmp_path / "reference"
    took = _complete(["run", str(scenario), "-q", "--out", str(reference)], env)
    (want,) = _run_folders(reference)
    rng = random.Random(1)
    for n in range(2):
        out = tmp_path / f"out{n}"
        args = ["run", str(scenario), "-q", "--out", str(out)]
        _kill(args, env, _started, rng.uniform(0.3, took), signal.SIGKILL)
        survived = _run_folders(out)
        _complete(["run", str(scenario), "-q", "--out", str(out)], env)
        rerun = _run_folders(out)
        assert len(rerun) == len(survived) + 1
        for name in SAME:
            assert (rerun[-1] / name).read_bytes() == (want / name).read_bytes(), name
        _no_temporaries(tmp_path, out)


def test_killed_sweeps_resume_to_the_same_table(tmp_path: Path, env: dict[str, str]) -> None:
    sweep = _sweep(tmp_path, _scenario(tmp_path))
    args = ["sweep", str(sweep), "-q", "--workers", "2"]
    _complete([*args, "--out", str(tmp_path / "reference")], env)
    want = (tmp_path / "reference" / "sweeps" / "crash" / "results.csv").read_bytes()
    out = tmp_path / "out"
    rng, ready = random.Random(2), _has_results(out / "sweeps" / "crash" / "index.sqlite")
    kills: list[tuple[list[str], Ready, float, signal.Signals]] = [
        ([], ready, rng.uniform(0, 0.5), signal.SIGKILL),
        ([], ready, rng.uniform(0, 0.5), signal.SIGTERM),
        (["--dask", "local"], _has_children, rng.uniform(0.5, 2), signal.SIGKILL),
    ]
    for extra, when, delay, sig in kills:  # all in one folder
        _kill([*args, *extra, "--out", str(out)], env, when, delay, sig)
        table = out / "sweeps" / "crash" / "results.csv"
        assert not table.exists() or table.read_bytes() == want  # written whole or not at all
    _complete([*args, "--out", str(out)], env)
    assert (out / "sweeps" / "crash" / "results.csv").read_bytes() == want
    _no_temporaries(tmp_path, out)


def test_killed_optimisations_give_the_same_answer(tmp_path: Path, env: dict[str, str]) -> None:
    scenario = _scenario(tmp_path)
    args = ["optimize", str(scenario), "-q", "--workers", "2"]
    _complete([*args, "--out", str(tmp_path / "reference")], env)
    (want,) = _run_folders(tmp_path / "reference")
    out = tmp_path / "out"
    delay = random.Random(3).uniform(0, 2)  # after the workers have started
    _kill([*args, "--out", str(out)], env, _has_children, delay, signal.SIGKILL)
    survived = _run_folders(out)
    _complete([*args, "--out", str(out)], env)
    rerun = _run_folders(out)
    assert len(rerun) == len(survived) + 1
    new = (set(rerun) - set(survived)).pop()
    for name in (*SAME, "recommendation.json"):
        assert (new / name).read_bytes() == (want / name).read_bytes(), name
    _no_temporaries(tmp_path, out)
