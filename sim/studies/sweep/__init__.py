"""Sweeps: grids of scenario overrides × seeds, run in parallel, resumable, one results table.

The runner (and with it SimPy, NumPy and the metrics) is imported on first use, so that reading
and checking a sweep file (`netlab sweep FILE --check`) stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.studies.sweep.spec import GridPoint, Sweep, load_sweep

if TYPE_CHECKING:
    from sim.studies.sweep.runner import SchedulerLost, SweepResult, run_sweep

__all__ = ["GridPoint", "SchedulerLost", "Sweep", "SweepResult", "load_sweep", "run_sweep"]


def __getattr__(name: str) -> Any:
    if name in ("SchedulerLost", "SweepResult", "run_sweep"):
        from sim.studies.sweep import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'sim.studies.sweep' has no attribute {name!r}")
