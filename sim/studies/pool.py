"""Worker processes that die with the netlab process that started them.

A sweep or an optimisation killed with SIGKILL (or SIGTERM, whose default action is the same
for Python) runs no clean-up code, so its workers would finish their jobs and wait for more,
the forkserver and resource tracker with them, all holding the caller's stdout open. Every
worker therefore watches its starter: a daemon thread waits on a pidfd of the starting process
and, when it ends, removes the starter's temporary folders (multiprocessing's /tmp/pymp-*, a
Dask scratch folder) and kills its own worker. The forkserver exits by itself once its starter
and its workers are gone, and the resource tracker once every process holding its pipe is.
Temporary folders live in scratch folders named after the starting process, so a netlab killed
before any worker could remove them has them removed by the next one.
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
SOCKET_PATH_MAX = 107  # bytes of an AF_UNIX socket path (Linux)
SOCKET_TAIL = len("/pymp-12345678/listener-12345678")  # multiprocessing's part of the path
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
    if context.get_start_method() != "fork":  # the forkserver's socket lives in pymp-*
        leftovers = (_multiprocessing_scratch(),)
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
    remove_dead_scratch()
    return tempfile.mkdtemp(prefix=f"{SCRATCH}{os.getpid()}-")


def remove_dead_scratch() -> None:
    """Remove the scratch folders of netlab processes that are gone (killed)."""
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH}*"):
        pid = path.name[len(SCRATCH) :].partition("-")[0]
        if path.is_dir() and pid.isdigit() and not process_exists(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


_mp_scratch: str | None = None


def _multiprocessing_scratch() -> str:
    """The folder to remove when this process dies: multiprocessing's temporary folder (pymp-*),
    made on first use inside a scratch folder named after this process, so that the next
    netlab removes both if this process is killed before its workers could (unless the path
    of the forkserver's socket would be too long: then multiprocessing's folder alone). At a
    normal exit multiprocessing removes its folder, and then the scratch folder goes."""
    global _mp_scratch
    if _mp_scratch is None:
        scratch, saved = scratch_folder(), tempfile.tempdir
        if len(scratch) + SOCKET_TAIL < SOCKET_PATH_MAX:  # else the socket's path is too long
            tempfile.tempdir = scratch  # multiprocessing's folder goes there, if not made yet
        try:
            _mp_scratch = multiprocessing.util.get_temp_dir()
        finally:
            tempfile.tempdir = saved
        if Path(_mp_scratch).parent == Path(scratch):
            _mp_scratch = scratch
        # after multiprocessing's own clean-up (exit priority -100)
        multiprocessing.util.Finalize(None, _remove, args=(scratch,), exitpriority=-101)
    return _mp_scratch


def _remove(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


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
        while process_exists(pid):
            time.sleep(POLL_S)
        return
    try:
        select.select([fd], [], [])  # a pidfd turns readable when its process ends
    finally:
        os.close(fd)


def process_exists(pid: int) -> bool:
    """Whether a process with this pid exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
