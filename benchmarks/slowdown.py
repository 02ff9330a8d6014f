"""A deliberate slowdown of the allocator, for proving that the benchmark gate catches one.

`NETLAB_BENCH_SLOWDOWN=0.3 make bench-check` makes the allocator benchmark's passes
(`CompiledTree.allocate`) do 30 % more work: 3 calls in 10 run the whole allocation twice (any
factor: its fraction of calls repeat, whole multiples always), with no timer in between to add
cost of its own. The engine is compiled (`make core`), so its classes cannot be patched: the
benchmark wraps its own calls in `slowed`. The shipped code never reads the variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable

VARIABLE = "NETLAB_BENCH_SLOWDOWN"
Allocate = Callable[[list[float]], list[float]]


def factor() -> float:
    """The slowdown the variable asks for (0: none)."""
    return max(float(os.environ.get(VARIABLE, "0") or 0), 0.0)


def slowed(allocate: Allocate) -> Allocate:
    """`allocate`, repeated as often as `factor()` says (itself when that is 0)."""
    extra = factor()
    if not extra:
        return allocate
    owed = [0.0]  # allocations owed: grows by `extra` per call, paid in whole ones

    def repeated(demand: list[float]) -> list[float]:
        owed[0] += extra
        while owed[0] >= 1.0 - 1e-9:  # 0.3 + 0.3 + ... reaches 1 from below
            owed[0] -= 1.0
            allocate(demand)
        return allocate(demand)

    return repeated
