"""The optimiser's work queue: each distinct simulation once, the most urgent first.

The optimiser's searches run side by side as asyncio tasks in one thread and ask this queue
for results. A request names its job by a key (the resolved scenario of a probe): a key asked
for again, finished or still running, is answered from the first request, so no probe is
simulated twice (the growth search at x1.2 and the sensitivity search with users x1.2 probe
the very same scenarios). Requests wait in a priority queue and go to the worker processes
only as workers free up, so a job that others wait on (the answer's confirmation) overtakes
jobs nothing waits on (the price-tier edges), and a search never waits for another's round.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any, Generic, TypeVar

from sim.studies.pool import worker_pool

T = TypeVar("T")
Progress = Callable[[int, int], None]


class ProbeQueue(Generic[T]):
    """Runs `work(*args)` on `workers` processes (that die with this one), once per key."""

    def __init__(self, workers: int, work: Callable[..., T], progress: Progress | None) -> None:
        self.executor = worker_pool(workers)
        self.workers = workers
        self.work = work
        self.progress = progress
        self.results: dict[Hashable, asyncio.Future[T]] = {}
        self.waiting: list[tuple[int, int, Hashable, tuple[Any, ...]]] = []
        self.running = 0
        self.done = 0
        self.closed = False

    @property
    def submitted(self) -> int:
        """Distinct jobs asked for so far (what is or will be simulated)."""
        return len(self.results)

    def run(self, key: Hashable, args: tuple[Any, ...], priority: int) -> asyncio.Future[T]:
        """The result of `work(*args)`, computed once per `key`; lower `priority` runs first
        (requests of equal priority in the order asked). Call from the running event loop.
        The result is shielded: a cancelled waiter leaves it to the others sharing it."""
        if key not in self.results:
            self.results[key] = asyncio.get_running_loop().create_future()
            heapq.heappush(self.waiting, (priority, len(self.results), key, args))
            self._dispatch()
        return asyncio.shield(self.results[key])

    def close(self) -> None:
        """Drop the waiting requests and wait for the running ones (at most one per worker)."""
        self.closed = True
        for _, _, key, _ in self.waiting:
            self.results[key].cancel()
        self.waiting.clear()
        self.executor.shutdown(wait=True, cancel_futures=True)

    def _dispatch(self) -> None:
        """Hand waiting jobs to idle workers, most urgent first."""
        while self.waiting and self.running < self.workers and not self.closed:
            _, _, key, args = heapq.heappop(self.waiting)
            self.running += 1
            done = asyncio.wrap_future(self.executor.submit(self.work, *args))
            done.add_done_callback(partial(self._finished, key))

    def _finished(self, key: Hashable, done: asyncio.Future[T]) -> None:
        self.running -= 1
        target = self.results[key]
        if not target.done():
            if done.cancelled():
                target.cancel()
            elif (error := done.exception()) is not None:
                target.set_exception(error)
            else:
                target.set_result(done.result())
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.submitted)
        self._dispatch()
