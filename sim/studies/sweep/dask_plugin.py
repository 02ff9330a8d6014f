"""The Dask worker plugin that makes a local cluster's workers die with the sweep.

Apart from sim.studies.sweep.runner so that only Dask runs import `distributed`.
"""

from __future__ import annotations

from distributed import Worker
from distributed.diagnostics.plugin import WorkerPlugin

from sim.studies.pool import die_with


class DieWithParent(WorkerPlugin):
    """Each worker dies when the sweep's process ends, removing the cluster's scratch folder
    first (sim.studies.pool), even when the sweep was killed with SIGKILL."""

    name = "netlab-die-with-parent"

    def __init__(self, starter: int, scratch: str) -> None:
        self.starter = starter
        self.scratch = scratch

    def setup(self, worker: Worker) -> None:
        die_with(self.starter, (self.scratch,))
