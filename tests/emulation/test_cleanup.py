"""Nothing leaks, nothing foreign is touched.

A run's interfaces and processes carry its tag (nlXXX). After a normal exit, an exception,
Ctrl-C or SIGTERM none remain. After kill -9 the run's bridge (it lives in the root namespace
and belongs to no process) and its record always remain; its host shells and agents may die
with their parent (their stdin closes) or linger, whichever the race gives. `cleanup()` then
removes all of it, leaving a live run, foreign interfaces (even ones starting with "nl") and
foreign processes alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import simpy.rt

from sim.backends.mininet import cleanup
from sim.backends.mininet.topo import NetSpec, SiteLink

pytestmark = pytest.mark.emulation

REPO = Path(__file__).resolve().parents[2]
SPEC = NetSpec("cleanup", 50e6, (SiteLink("a", 20e6), SiteLink("b", 10e6)))
# a child that runs a 10-minute emulation window until it is stopped
CHILD = (
    "from sim.model.scenario import load_scenario\n"
    "from sim.studies.emulate import emulate\n"
    "emulate(load_scenario('scenarios/example-small.toml'), 10 * 3600, 600, interval_s=10)\n"
)


def leftovers(tag: str) -> tuple[list[str], list[int]]:
    interfaces = [n for n in cleanup._interfaces() if n.startswith(tag)]
    processes = [pid for pid, t in cleanup._processes() if t == tag]
    return interfaces, processes


def start_child() -> tuple[subprocess.Popen[bytes], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for record in cleanup.RUN_DIR.glob("nl*.json"):
            try:
                owner = json.loads(record.read_text())["pid"]
            except (OSError, ValueError, KeyError):
                continue
            if owner == child.pid and cleanup._processes_of(record.stem) >= 4:
                time.sleep(1.0)  # agents started, users running
                return child, record.stem
        if child.poll() is not None:
            raise AssertionError(f"child died: {child.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    child.kill()
    raise AssertionError("child did not bring its network up")


def new_backend():
    from sim.backends.mininet.backend import MininetBackend

    return MininetBackend(simpy.rt.RealtimeEnvironment(strict=False), SPEC, 1514 / 1448)


def test_normal_exit_leaves_nothing():
    with new_backend() as backend:
        tag = backend.run.tag
        interfaces, processes = leftovers(tag)
        assert interfaces and processes
        assert all(len(name) <= 15 for name in interfaces)
    assert leftovers(tag) == ([], [])
    assert not (cleanup.RUN_DIR / f"{tag}.json").exists()


def test_exception_leaves_nothing():
    tag = None
    with pytest.raises(RuntimeError), new_backend() as backend:
        tag = backend.run.tag
        raise RuntimeError("boom")
    assert tag is not None and leftovers(tag) == ([], [])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_leaves_nothing(signum):
    child, tag = start_child()
    assert leftovers(tag)[0]
    child.send_signal(signum)
    child.wait(timeout=30)
    assert leftovers(tag) == ([], [])
    assert not (cleanup.RUN_DIR / f"{tag}.json").exists()


def test_kill9_then_cleanup_removes_only_dead_runs():
    foreign = ["fxnl0", "nlforeign0"]  # "nl..." but not a run's name pattern
    subprocess.run(
        ["ip", "link", "add", foreign[0], "type", "veth", "peer", "name", foreign[1]], check=True
    )
    sleeper = subprocess.Popen(["sleep", "120"])
    live = new_backend()
    try:
        child, dead_tag = start_child()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        bridge, record = dead_tag + "b0", cleanup.RUN_DIR / f"{dead_tag}.json"
        assert bridge in cleanup._interfaces() and record.exists()  # nothing could clean up
        removed = cleanup.cleanup()
        assert bridge in removed["interfaces"]
        assert leftovers(dead_tag) == ([], []) and not record.exists()
        assert leftovers(live.run.tag)[0] and leftovers(live.run.tag)[1]  # live run untouched
        names = cleanup._interfaces()
        assert all(name in names for name in foreign)  # foreign interfaces untouched
        assert sleeper.poll() is None  # foreign process untouched
    finally:
        live.close()
        sleeper.kill()
        subprocess.run(["ip", "link", "del", foreign[0]], check=False)
    assert leftovers(live.run.tag) == ([], [])
