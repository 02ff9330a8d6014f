"""The fluid engine's one reach into SimPy's internals still holds for the installed SimPy.

`FluidEnvironment.step` (sim/backends/fluid.py) reads `Environment._queue`, SimPy's heap of
(time, priority, id, event), and sets `Environment._now`, to serve the backend's deadlines
between SimPy's events without an event for each (on SimPy's public API, a timeout per
deadline, the regency's day took 1.2 to 1.3 times as long). pyproject.toml pins simpy to major 4
for it.
"""

from __future__ import annotations

import simpy

FIX = (
    "FluidEnvironment.step (sim/backends/fluid.py) relies on simpy.Environment._queue and "
    "_now, which SimPy {version} no longer has as it expects: move step onto this SimPy's API "
    "(and measure the regency's day, benchmarks/test_bench_engine.py), or keep simpy on the "
    "major pinned in pyproject.toml"
)


def test_simpy_still_has_the_members_the_engine_relies_on() -> None:
    fix = FIX.format(version=simpy.__version__)
    env = simpy.Environment()
    event = env.timeout(5.0)
    queue = getattr(env, "_queue", None)
    assert isinstance(queue, list), fix
    assert len(queue) == 1 and queue[0][0] == 5.0 and queue[0][-1] is event, fix
    assert getattr(env, "_now", None) == 0.0, fix
    env._now = 3.0  # what step does when it serves a deadline
    assert env.now == 3.0, fix
    env.step()  # SimPy's own step still takes its next event from that queue
    assert env.now == 5.0 and not queue, fix
