"""A Dask worker preload for the fault tests: every job start is a numbered marker file, and
one start is held until the test has killed what it means to kill.

NETLAB_TEST_STARTS names the folder. The n-th start anywhere in the cluster (numbers taken
by hard links, so no two starts share one) writes `start-<n>` holding "<worker pid> <key>". The
start numbered NETLAB_TEST_HOLD (or, when it is "job", every start of the job that started
first) then holds its worker's event loop (up to HOLD_S): the job
may compute in its thread, but its result cannot reach the scheduler, so the job is still
running, as the scheduler sees it, whenever the test kills the worker or the scheduler. No
sleep decides anything: the test waits for the marker, then kills.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from distributed import Worker
from distributed.diagnostics.plugin import WorkerPlugin

HOLD_S = 120.0  # a test that never kills must not hang its worker forever


class StartMarker(WorkerPlugin):
    """Marks each job's start (its transition to executing) and holds one of them."""

    name = "netlab-test-starts"

    def __init__(self, folder: Path, hold: str) -> None:
        self.folder = folder
        self.hold = hold

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing":
            return
        # written whole, then linked to the first free number: a marker is never seen half-written
        draft = self.folder / f".draft-{os.getpid()}"
        draft.write_text(f"{os.getpid()} {key}")
        number = 1
        while True:
            try:
                os.link(draft, self.folder / f"start-{number}")
                break
            except FileExistsError:
                number += 1
        draft.unlink()
        first = (self.folder / "start-1").read_text().split()[1]
        if str(number) == self.hold or (self.hold == "job" and str(key) == first):
            time.sleep(HOLD_S)


async def dask_setup(worker: Worker) -> None:
    """Preload hook: give the worker the marker plugin."""
    folder = Path(os.environ["NETLAB_TEST_STARTS"])
    await worker.plugin_add(StartMarker(folder, os.environ["NETLAB_TEST_HOLD"]))
