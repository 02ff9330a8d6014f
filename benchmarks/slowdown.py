"""A deliberate slowdown of the allocator, for proving that the benchmark gate catches one.

`NETLAB_BENCH_SLOWDOWN=0.3 make bench-check` makes `CompiledTree.allocate` do 30 % more work:
3 calls in 10 run the whole allocation twice (any factor: its fraction of calls repeat, whole
multiples always), with no timer in between to add cost of its own. Only the benchmarks'
conftest installs it; the shipped code never reads the variable.
"""

from __future__ import annotations

import functools
import os

from sim.shaping.htb import CompiledTree

VARIABLE = "NETLAB_BENCH_SLOWDOWN"


def install() -> float:
    """Wrap CompiledTree.allocate if the variable asks for it; return the factor (0: none)."""
    factor = float(os.environ.get(VARIABLE, "0") or 0)
    if factor <= 0:
        return 0.0
    original = CompiledTree.allocate
    owed = [0.0]  # allocations owed: grows by `factor` per call, paid in whole ones

    @functools.wraps(original)
    def slowed(self, *args, **kwargs):
        owed[0] += factor
        while owed[0] >= 1.0 - 1e-9:  # 0.3 + 0.3 + ... reaches 1 from below
            owed[0] -= 1.0
            original(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    CompiledTree.allocate = slowed  # type: ignore[method-assign]
    return factor
