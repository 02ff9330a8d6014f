"""What kind of file (or folder) netlab was given, told by its top-level keys, so that a file
given where another kind belongs is named as what it is ("a scenario, not a sweep file")
instead of failing on its first key ("scenario: unknown key").

Every loader calls `expect_kind` before reading: a file of another kind netlab knows is one
ConfigError saying what it is and what the command takes; a file of no known kind (a typo in a
table's name, a syntax error) passes on to the loader, whose message names the key or line.
"""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path
from typing import Any

from sim.model.errors import ConfigError
from sim.model.loading import MAX_FILE_BYTES

# kind -> (what it is, called in a message; how it is used, or "" for a run folder's files,
# whose use the folder tells)
KINDS: dict[str, tuple[str, str]] = {
    "scenario": ("a scenario", "run a scenario with netlab run"),
    "sweep": ("a sweep file", "run a sweep file with netlab sweep or netlab compare"),
    "topology": ("a topology file", "a scenario names its topology in scenario.topology"),
    "plan": ("a shaping plan", "a plan deploys with netlab export, or runs in netlab gate"),
    "recommendation": ("the optimiser's recommendation (recommendation.json)", ""),
    "summary": ("a run summary (summary.json, the run's figures)", ""),
    "acceptance": ("an acceptance trial (acceptance.json)", ""),
    "manifest": ("a run manifest (manifest.json)", ""),
    "run": ("a run folder", ""),
    "whatif": ("a what-if result (whatif.json)", "whatif.html beside it draws it"),
    "import": ("a counter import report (import.json)", "netlab calibrate takes its folder"),
    "sweep results": ("a sweep's results folder", "netlab sweep writes it from a sweep file"),
}

# what a command that expects the kind takes instead
TAKES = {
    "scenario": "the command takes a scenario here (e.g. scenarios/kotim-baseline.toml)",
    "sweep": "netlab sweep and netlab compare take a sweep file "
    "(e.g. scenarios/sweeps/tiny-policies.toml)",
    "topology": "a topology file lists the sites (e.g. topologies/kotim.toml)",
    "plan": "netlab export and netlab gate take a scenario, a plan (from netlab export -f json) "
    "or a recommendation.json",
}

RUN_FILES = ("recommendation", "summary", "acceptance", "manifest", "run")

# JSON kinds: the top-level keys that make each (the first match wins)
_JSON_KEYS: tuple[tuple[str, frozenset[str]], ...] = (
    ("recommendation", frozenset({"mbps", "policy"})),
    ("summary", frozenset({"overall", "sites"})),
    ("acceptance", frozenset({"criteria", "cells"})),
    ("manifest", frozenset({"scenario_file", "plans"})),
    ("whatif", frozenset({"connect", "combinations"})),
    ("import", frozenset({"intervals", "unmapped_interfaces"})),
    ("plan", frozenset({"down", "up"})),
    ("plan", frozenset({"plan"})),
)


def kind_of(path: Path) -> str | None:
    """The kind of the file or folder at path, or None (not one netlab knows, or unreadable)."""
    try:
        status = path.stat()
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(status.st_mode):
        if (path / "manifest.json").is_file():
            return "run"
        return "sweep results" if (path / "index.sqlite").is_file() else None
    if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FILE_BYTES:
        return None  # a FIFO or device is the loader's to refuse, without blocking here
    return _kind_of_text(path)


def _kind_of_text(path: Path) -> str | None:
    """The kind of a JSON or TOML file by its top-level keys."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for parse, kind_in in ((json.loads, _json_kind), (tomllib.loads, _toml_kind)):
        try:
            data = parse(text)
        except (ValueError, RecursionError):  # JSONDecodeError, TOMLDecodeError: ValueErrors
            continue
        return kind_in(data) if isinstance(data, dict) else None
    return None


def _json_kind(data: dict[str, Any]) -> str | None:
    return next((kind for kind, keys in _JSON_KEYS if keys <= data.keys()), None)


def _toml_kind(data: dict[str, Any]) -> str | None:
    for kind in ("scenario", "sweep"):
        if isinstance(data.get(kind), dict):
            return kind
    return "topology" if "sites" in data or "hub" in data else None


def expect_kind(path: Path, *wanted: str) -> None:
    """Raise ConfigError when path is a kind netlab knows other than those wanted (the first
    of which the message names); a file of no known kind is left to its loader."""
    found = kind_of(path)
    if found is not None and found not in wanted:
        raise wrong_kind(path, found, wanted[0])


def wrong_kind(path: Path, found: str, wanted: str) -> ConfigError:
    """`PATH: a scenario, not a sweep file: WHAT TAKES ONE; HOW A SCENARIO IS USED`."""
    what, use = KINDS[found]
    if found in RUN_FILES:
        advice = _run_advice(path if found == "run" else path.parent, wanted)
    else:
        advice = f"{TAKES[wanted]}; {use}"
    return ConfigError(path, "", f"{what}, not {KINDS[wanted][0]}: {advice}")


def _run_advice(folder: Path, wanted: str) -> str:
    """What of a run folder to give instead: its recommendation to export, else its scenario."""
    recommendation = folder / "recommendation.json"
    source = scenario_of_run(folder)
    named = f"{source} (from its manifest.json)" if source else "the scenario it ran"
    if wanted == "plan" and recommendation.is_file():
        return f"give {recommendation}, the run's recommendation, instead"
    if wanted == "plan":
        return (
            "the run has no recommendation.json (netlab optimize writes one, netlab run does "
            f"not): give its scenario, {named}"
        )
    return f"{TAKES[wanted]}; the run's scenario is {named}" if source else TAKES[wanted]


def scenario_of_run(folder: Path) -> str | None:
    """The scenario file a run folder's manifest.json names, or None."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    source = manifest.get("scenario_file") if isinstance(manifest, dict) else None
    return source if isinstance(source, str) else None
