"""The calibration workload the benchmark gate divides every figure by.

A machine shared by several people runs the same code 60 % slower in one run than in the
next, so seconds are not comparable across runs. The gate counts CPU seconds, not wall
seconds (`cpu_time`), and divides each benchmark by a fixed workload measured in the same
test, interleaved with its rounds (one repetition before each round), which slows down with
it. The workload is a bare SimPy loop (timeouts only, no netlab code): the engine's floor,
pure Python like the allocator. Each round is divided by the repetition just before it, and
the median of those ratios is the figure (benchmarks/check.py). Fastest round over fastest
repetition, the figure before, picked the two minima from different moments: four runs in a
row on one quiet machine put the same code at 0.79-1.33 of its baseline, against 0.94-1.05
for the median of pairs.
"""

from __future__ import annotations

import resource
import time

import simpy

EVENTS = 20_000
PROCESSES = 100


def bare_loop(events: int = EVENTS, processes: int = PROCESSES) -> None:
    """`events` timeouts spread over `processes` processes."""
    env = simpy.Environment()
    per_process = events // processes

    def ticker(offset: float):
        for _ in range(per_process):
            yield env.timeout(1.0 + offset)

    for i in range(processes):
        env.process(ticker(i / processes))
    env.run()


def cpu_time() -> float:
    """CPU seconds of this process and of its waited-for children (the optimiser's pool).

    The gate's timer (`--benchmark-timer calibration.cpu_time`): wall time also counts the
    time a process waits for a CPU, which on a shared machine is the drift itself.
    """
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class Calibration:
    """Times one repetition of the bare loop per call (CPU seconds) and keeps every time."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self) -> None:
        began = cpu_time()
        bare_loop()
        self.times.append(cpu_time() - began)
