"""Worker processes that die with the netlab process that started them.

A sweep or an optimisation killed with SIGKILL (or SIGTERM, whose default action is the same
for Python) runs no clean-up code, so its workers would finish their jobs and wait for more,
the forkserver and resource tracker with them, all holding the caller's stdout open. Every
worker therefore watches its starter: a daemon thread waits on a pidfd of the starting process
and, when it ends, removes the starter's temporary folders (multiprocessing's /tmp/pymp-*, a
Dask scratch folder) and kills its own worker. The forkserver exits by itself once its starter
is gone, and the resource tracker once every process holding its pipe is.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import select
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from pathlib import Path

SCRATCH = "netlab-scratch-"  # scratch folders: netlab-scratch-<pid>-<random>
POLL_S = 0.2  # without pidfds (Linux < 5.3): how often to look for the starter


def die_with(starter: int, leftovers: tuple[str, ...] = ()) -> None:
    """In a worker: from now on, die when process `starter` ends, removing `leftovers` first."""
    threading.Thread(
        target=_watch, args=(starter, leftovers), daemon=True, name="netlab-die-with"
    ).start()


def worker_pool(workers: int, context: BaseContext | None = None) -> ProcessPoolExecutor:
    """A process pool (in `context`, default the platform's) whose workers die with this process."""
    context = context or multiprocessing.get_context()
    leftovers: tuple[str, ...] = ()
    if context.get_start_method() != "fork":  # the forkserver's socket lives in /tmp/pymp-*
        leftovers = (multiprocessing.util.get_temp_dir(),)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=die_with,
        initargs=(os.getpid(), leftovers),
    )


def scratch_folder() -> str:
    """A new temporary folder named after this process, for workers' files (a Dask cluster's
    scratch space); those of processes that are gone (killed before removing theirs) are
    removed first."""
    root = Path(tempfile.gettempdir())
    for path in root.glob(f"{SCRATCH}*"):
        pid = path.name[len(SCRATCH) :].partition("-")[0]
        if path.is_dir() and pid.isdigit() and not _exists(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{SCRATCH}{os.getpid()}-")


def _watch(starter: int, leftovers: tuple[str, ...]) -> None:
    _wait_for_exit(starter)
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    os.kill(os.getpid(), signal.SIGKILL)


def _wait_for_exit(pid: int) -> None:
    """Block until process pid has ended (at once if it already has)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # no pidfds here: poll
        while _exists(pid):
            time.sleep(POLL_S)
        return
    try:
        select.select([fd], [], [])  # a pidfd turns readable when its process ends
    finally:
        os.close(fd)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
