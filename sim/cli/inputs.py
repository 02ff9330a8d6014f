"""The command line's inputs, checked before anything runs: a scenario with the command line's
changes, --out, --window, --flows and every option that takes one of a fixed set of names. Bad input
exits with status 2, and a bad option value is blamed on the option, not on the file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sim.cli.console import fail
from sim.model.errors import ConfigError, unknown_choice
from sim.model.flow import FLOW_FORMATS, FlowFormat
from sim.model.policy_spec import SCHEDULE
from sim.model.scenario import Scenario, load_scenario
from sim.shaping.policies import POLICIES
from sim.shaping.schedule import compile_schedule

# sim.results and sim.studies.emulate are imported where used: they bring in NumPy, SimPy and
# multiprocessing, which `netlab --help` and `netlab check` do not need.


def load(
    path: Path, policy: str | None = None, seed: int | None = None, duration: str | None = None
) -> Scenario:
    """Load a scenario with the command line's changes; bad input exits with status 2."""
    try:
        scenario = load_scenario(path)
    except ConfigError as exc:
        fail(str(exc), 2)
    if policy is not None:
        scenario = _with_option(scenario, "--policy", chosen_policy(policy, scenario), "policy")
    if seed is not None:
        scenario = _with_option(scenario, "--seed", seed, "seed")
    if duration is not None:
        scenario = _with_option(scenario, "--duration", duration, "duration")
    try:
        compile_schedule(scenario)  # plan-level input errors ([policy.sites]) surface here
    except ConfigError as exc:
        fail(str(exc), 2)
    return scenario


def chosen_policy(name: str, scenario: Scenario) -> str:
    """--policy NAME, one of the static policies. `schedule` is refused: its periods and
    fallback can only be written in a file, and a file that has them uses them without
    --policy."""
    if name == SCHEDULE:
        mine = scenario.spec.policy.name == SCHEDULE
        already = "; it is this scenario's policy: leave out --policy" if mine else ""
        fail(
            f"--policy schedule: a schedule is written in the scenario file ([[policy.schedule]] "
            f"and [policy.otherwise]){already} (--policy takes one of: {', '.join(POLICIES)})",
            2,
        )
    return choose("--policy", name, POLICIES, "policy")


def _with_option(scenario: Scenario, option: str, value: Any, key: str) -> Scenario:
    """The scenario changed by an option; a value it refuses is blamed on the option, and on
    the file's key too when the two only clash (a --duration shorter than its sample_interval)."""
    try:
        if key == "policy":
            return scenario.with_policy(value)
        return scenario.with_run(**{key: value})
    except ConfigError as exc:
        own = exc.key in (f"scenario.{key}", f"{key}.name")
        fail(option_problem(option, str(value), exc.problem if own else str(exc)), 2)


def option_problem(option: str, value: str, problem: str) -> str:
    """`--duration: not a duration: '10days' (...)`, or `--seed -1: PROBLEM` when the problem
    does not show the value itself."""
    return f"{option}: {problem}" if repr(value) in problem else f"{option} {value}: {problem}"


def choose(option: str, value: str, choices: Iterable[str], what: str) -> str:
    """value when it is one of choices; else exit 2 naming the option, the nearest choice and
    all of them: `--format tx: unknown format; did you mean tc? (one of: tc, mikrotik, json)`."""
    known = list(choices)
    if value not in known:
        fail(f"{option} {value}: {unknown_choice(what, value, known)}", 2)
    return value


def flows_format(value: str) -> FlowFormat:
    """--flows as a format name; anything else exits 2 with the nearest name."""
    return FLOW_FORMATS[FLOW_FORMATS.index(choose("--flows", value, FLOW_FORMATS, "format"))]


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
