"""Sweeps: grids of scenario overrides × seeds, run in parallel, resumable, one results table."""

from sim.sweep.runner import SweepResult, run_sweep
from sim.sweep.spec import Point, Sweep, load_sweep

__all__ = ["Point", "Sweep", "SweepResult", "load_sweep", "run_sweep"]
