"""The sweep's Dask executor: jobs on a cluster, through lost workers, up to a lost scheduler.

A worker that dies (killed, out of memory, its machine gone) loses the jobs it was running,
and the scheduler gives each of them to another worker by itself: Dask's `retries` is not
used, as it counts exceptions raised by a task and `run_job` raises none. The scheduler's
`distributed.scheduler.allowed-failures` bounds the retries: a job whose worker died under it
more than that many times ends in KilledWorker, recorded as a failed run with that error (the
next start tries it again) without stopping the sweep. The local cluster sets it to
ALLOWED_FAILURES; a remote scheduler keeps its own (Dask's default is 3). Each job is one
future whose result arrives once, the table is sorted by point and seed whatever the order of
arrival, and the index never replaces a done run, so a retried job is written once and in its
place.

A lost scheduler cancels every future (Dask's client: "scheduler-connection-lost"); the sweep
stops with SchedulerLost, the runs committed so far stay in the index, and the next start
(`netlab sweep FILE --resume`) runs only the rest.

Apart from sim.studies.sweep.runner so that only Dask runs import `distributed`.
"""

from __future__ import annotations

import logging
import os
import shutil
from contextlib import ExitStack

import dask
from distributed import Client, Future, LocalCluster, as_completed
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker

from sim.model.scenario import Scenario
from sim.studies.pool import scratch_folder
from sim.studies.sweep.dask_plugin import DieWithParent
from sim.studies.sweep.runner import OnResult, Outcome, SchedulerLost, run_job

ALLOWED_FAILURES = 2  # worker deaths one job may see on the local cluster: 3 tries at most
WORKER_SATURATION = 1.0  # jobs the local cluster's scheduler gives a worker per thread
LOST = "scheduler-connection-lost"  # why Dask's client cancels its futures


def run_on_dask(
    tasks: list[tuple[Scenario, int]], address: str, workers: int, on_result: OnResult
) -> None:
    """Run the tasks on the scheduler at address, or on a LocalCluster of worker processes for
    "local"; on_result(task number, outcome) in this process as each finishes."""
    with ExitStack() as after, ExitStack() as stack:  # `after` unwinds once the client is closed
        client, where = dask_client(stack, address, workers)
        futures = [client.submit(run_job, *task, pure=False) for task in tasks]
        number = {future.key: i for i, future in enumerate(futures)}
        for future in as_completed(futures):
            on_result(number[future.key], _outcome(future, where, after))
            future.release()


def dask_client(stack: ExitStack, address: str, workers: int) -> tuple[Client, str]:
    """A client of the scheduler at address, or of a new local cluster whose workers die with
    this process and whose jobs are tried at most ALLOWED_FAILURES + 1 times; and the
    scheduler's address."""
    if address != "local":
        return stack.enter_context(Client(address)), address
    scratch = scratch_folder()  # for the scheduler's and the workers' files
    stack.callback(shutil.rmtree, scratch, ignore_errors=True)
    settings = {
        "temporary-directory": scratch,
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        # one job per single-thread worker at a time, so a worker that dies counts against
        # the job it was running only (1.1 would queue a second one there too)
        "distributed.scheduler.worker-saturation": WORKER_SATURATION,
    }
    stack.enter_context(dask.config.set(settings))
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    stack.enter_context(cluster)
    client = stack.enter_context(Client(cluster))
    client.register_plugin(DieWithParent(os.getpid(), scratch))
    return client, str(cluster.scheduler_address)


def _outcome(future: Future, address: str, after: ExitStack) -> Outcome:
    """The job's outcome; a job its workers kept dying under is a failed run; a cancelled one
    means the scheduler is gone: SchedulerLost, said once, so Dask's own log lines (the client
    failing to reconnect, with tracebacks) are dropped until `after` unwinds."""
    try:
        outcome: Outcome = future.result()
    except KilledWorker as exc:
        return Outcome(None, " ".join(f"KilledWorker: {exc}".split()), 0.0)
    except (FutureCancelledError, OSError) as exc:  # cancelled, or its result's fetch failed
        if isinstance(exc, FutureCancelledError) and exc.reason != LOST:
            raise
        for handler in logging.getLogger("distributed").handlers:
            handler.addFilter(_silent)
            after.callback(handler.removeFilter, _silent)
        raise SchedulerLost(address) from None
    return outcome


def _silent(record: logging.LogRecord) -> bool:
    """A logging filter that drops every record."""
    return False
