"""Benchmarks run with `make bench` (pytest-benchmark); they are not part of `make test`.

`make bench-check` runs test_bench_check.py, whose tests measure the calibration workload
(calibration.py) between the rounds of each benchmark; `NETLAB_BENCH_SLOWDOWN` slows the
allocator benchmark down (slowdown.py) to prove that the gate catches it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from calibration import Calibration
from slowdown import factor

SLOWDOWN = factor()


@pytest.fixture
def calibrated(benchmark) -> Callable[..., Any]:
    """Benchmark `target(*args)` for `rounds` rounds with one calibration repetition before
    each (untimed by the benchmark); the rounds' and the repetitions' times, in order, go into
    the benchmark's extra_info (`round_times`, `calibration_times`) for the gate to pair.
    Returns the target's result."""

    def measure(target: Callable[..., Any], args: tuple[Any, ...], rounds: int) -> Any:
        calibration = Calibration()
        result = benchmark.pedantic(target, args=args, setup=calibration, rounds=rounds)
        benchmark.extra_info.update(
            round_times=list(benchmark.stats.stats.data),
            calibration_times=calibration.times,
            slowdown=SLOWDOWN,
        )
        return result

    measure.extra_info = benchmark.extra_info  # type: ignore[attr-defined]
    return measure
