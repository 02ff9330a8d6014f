"""A Dask worker preload for the fault tests: every job writes a numbered marker file when it
starts, and one start is held until the test has killed what it means to kill.

NETLAB_TEST_STARTS names the folder. The preload wraps the sweep's job function in the worker
(tasks name `sim.studies.sweep.runner.run_job`, which the worker looks up when it unpickles
them, so it finds the wrapper). The n-th job start anywhere in the cluster (numbers taken by
hard links, so no two starts share one) writes `start-<n>` holding "<worker pid> <job>", the
job being its scenario's hash and seed. The start numbered NETLAB_TEST_HOLD (or, when it is
"job", every start of the job that started first) then waits in its worker thread (up to
HOLD_S) before running: the worker's event loop stays free, so earlier results are still
fetched, but that job cannot finish before the test kills its worker or the scheduler. No
sleep decides anything: the test waits for the marker, then kills.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from distributed import Worker

HOLD_S = 120.0  # a test that never kills must not hang its worker forever


def mark(folder: Path, job: str) -> int:
    """Write the next start marker for job; its number."""
    draft = folder / f".draft-{os.getpid()}"  # written whole, then linked: never seen half-written
    draft.write_text(f"{os.getpid()} {job}")
    number = 1
    while True:
        try:
            os.link(draft, folder / f"start-{number}")
            break
        except FileExistsError:
            number += 1
    draft.unlink()
    return number


def dask_setup(worker: Worker) -> None:
    """Preload hook: wrap the sweep's job so that each start is marked and one is held."""
    from sim.studies.sweep import runner

    folder, hold = Path(os.environ["NETLAB_TEST_STARTS"]), os.environ["NETLAB_TEST_HOLD"]
    job = runner.run_job

    def marked(scenario: Any, seed: int) -> Any:
        name = f"{hashlib.sha256(scenario.spec.model_dump_json().encode()).hexdigest()[:12]}/{seed}"
        number = mark(folder, name)
        first = (folder / "start-1").read_text().split()[1]
        if str(number) == hold or (hold == "job" and name == first):
            time.sleep(HOLD_S)
        return job(scenario, seed)

    runner.run_job = marked  # type: ignore[assignment]
