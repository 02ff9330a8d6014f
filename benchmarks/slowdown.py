"""A deliberate slowdown of the allocator, for proving that the benchmark gate catches one.

`NETLAB_BENCH_SLOWDOWN=0.3 make bench-check` makes every `CompiledTree.allocate` call spin
for 0.3 times as long as the call itself took (CPU time, as the gate measures), i.e. 30 %
slower. Only the benchmarks'
conftest installs it; the shipped code never reads the variable.
"""

from __future__ import annotations

import functools
import os
import time

from sim.shaping.htb import CompiledTree

VARIABLE = "NETLAB_BENCH_SLOWDOWN"


def install() -> float:
    """Wrap CompiledTree.allocate if the variable asks for it; return the factor (0: none)."""
    factor = float(os.environ.get(VARIABLE, "0") or 0)
    if factor <= 0:
        return 0.0
    original = CompiledTree.allocate

    @functools.wraps(original)
    def slowed(self, *args, **kwargs):
        began = time.process_time()
        result = original(self, *args, **kwargs)
        until = time.process_time() + factor * (time.process_time() - began)
        while time.process_time() < until:
            pass
        return result

    CompiledTree.allocate = slowed  # type: ignore[method-assign]
    return factor
