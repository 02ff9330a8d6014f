"""The command line's inputs, checked before anything runs: a scenario with the command line's
changes, --out and --window. Bad input exits with status 2."""

from __future__ import annotations

from pathlib import Path

from sim.cli.console import fail
from sim.model.errors import ConfigError
from sim.model.scenario import Scenario, load_scenario
from sim.shaping.schedule import compile_schedule

# sim.results and sim.studies.emulate are imported where used: they bring in NumPy, SimPy and
# multiprocessing, which `netlab --help` and `netlab check` do not need.


def load(
    path: Path, policy: str | None = None, seed: int | None = None, duration: str | None = None
) -> Scenario:
    """Load a scenario with the command line's changes; bad input exits with status 2."""
    try:
        scenario = load_scenario(path)
        if policy is not None:
            scenario = scenario.with_policy(policy)
        if seed is not None:
            scenario = scenario.with_run(seed=seed)
        if duration is not None:
            scenario = scenario.with_run(duration=duration)
        compile_schedule(scenario)  # plan-level input errors ([policy.sites]) surface here
    except ConfigError as exc:
        fail(str(exc), 2)
    return scenario


def check_out(out_dir: Path) -> None:
    """A bad --out exits with status 2 before anything is simulated."""
    from sim.results import check_out_dir

    try:
        check_out_dir(out_dir)
    except ConfigError as exc:
        fail(str(exc), 2)


def window_span(text: str) -> tuple[float, float]:
    """--window HH:MM+DURATION as (start, length) in seconds; bad text exits with status 2."""
    from sim.studies.emulate import parse_window

    try:
        return parse_window(text)
    except ValueError as exc:
        fail(f"--window: {exc}", 2)
