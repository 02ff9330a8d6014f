"""The year day by day against the 10-day trial, in the same run, and the year's peak memory.

Run: make bench (or .venv/bin/pytest benchmarks/test_bench_year.py --benchmark-only -s).
Each is `netlab run` as a user runs it, in a child process: the trial as one run, the year
(scenarios/kotim-year.toml) on 2 workers. The targets (issue: a year in one run): the year's
wall time at most 20 times the trial's, and no process of the year above 1 GiB resident
(ru_maxrss of the children: the largest process, netlab or one of its workers).
NETLAB_BENCH_YEAR_DAYS shortens the year (e.g. 30) for a quicker, indicative ratio: the
target is then scaled by days / 365.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NETLAB = Path(sys.executable).parent / "netlab"
DAYS = int(os.environ.get("NETLAB_BENCH_YEAR_DAYS", "365"))
WALL: dict[str, float] = {}


# Runs the command and prints the largest resident size (KiB) of it and its descendants.
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)
PEAK_MIB: dict[str, float] = {}


def _run(scenario: str, *options: str) -> float:
    """Wall seconds of `netlab run scenario options` into a scratch folder; its largest
    process's peak resident size goes into PEAK_MIB."""
    with tempfile.TemporaryDirectory(prefix="netlab-bench-") as out:
        began = time.perf_counter()
        command = [str(NETLAB), "run", str(ROOT / "scenarios" / scenario), "-q", "--out", out]
        done = subprocess.run(
            [sys.executable, "-c", PEAK, *command, *options],
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        PEAK_MIB[scenario] = int(done.stdout.split()[-1]) / 1024
        return time.perf_counter() - began


def test_trial_ten_days(benchmark) -> None:
    WALL["trial"] = benchmark.pedantic(_run, args=("kotim-trial-10d.toml",), rounds=1)
    benchmark.extra_info.update(peak_rss_mib=PEAK_MIB["kotim-trial-10d.toml"])


def test_year_by_day(benchmark) -> None:
    if "trial" not in WALL:
        pytest.skip("needs the trial's time from the same run")
    args = ("kotim-year.toml", "--workers", "2", "--duration", f"{DAYS}d")
    wall = benchmark.pedantic(_run, args=args, rounds=1)
    peak_mib = PEAK_MIB["kotim-year.toml"]
    ratio = wall / WALL["trial"]
    benchmark.extra_info.update(
        days=DAYS, trial_s=WALL["trial"], ratio_to_trial=ratio, peak_rss_mib=peak_mib
    )
    print(f"\nyear ({DAYS} days) / trial: {ratio:.2f}; largest process {peak_mib:.0f} MiB")
    assert peak_mib <= 1024
    assert ratio <= 20 * DAYS / 365
