"""Shared fixtures: paths and a helper that runs the installed `netlab` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests on a fixed sequence of examples so that a landing never depends
# on luck; local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
NETLAB = Path(sys.executable).parent / "netlab"
# What a one-day run folder holds (sim/results.py), as tests that run `netlab run` expect it
RUN_FILES = frozenset(
    {
        "manifest.json",
        "flows.parquet",
        "classes.parquet",
        "summary.json",
        "report.html",
        "plotly.min.js",
    }
)


@pytest.fixture
def netlab():
    """Run `netlab ARGS...` as a user would; returns the CompletedProcess."""

    def run(
        *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(NETLAB), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            env=env,
        )

    return run
