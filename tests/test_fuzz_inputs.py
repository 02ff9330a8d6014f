"""Fuzz: mutated scenario, topology, sweep and plan files through the real `netlab` process.

Hypothesis draws mutations of the shipped files (deleted keys, wrong types, NaN and inf, huge
and tiny numbers, hostile strings, other encodings, truncation). Every case must end as a user
expects: exit 0 (the mutation happened to be valid) or exit 2 with exactly one line that names
the mutated file (the topology for a topology mutation, even when the scenario reads it), no
traceback, no results folder, and no hang; a plan that exports must give a script `sh -n`
accepts. The cases run a few at a time, each in its own `netlab` process.
"""

from __future__ import annotations

import functools
import json
import math
import shutil
import subprocess
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import NETLAB, ROOT

CASES = 320
WORKERS = 4  # netlab processes at a time
BATCH = 16  # cases an example: the pool waits for a batch's slowest case, so not too few
TIMEOUT_S = 60

SCENARIOS = ["example-small.toml", "small-workday.toml", "kotim-baseline.toml"]
TOPOLOGIES = ["small.toml", "tiny.toml"]
SWEEPS = ["tiny-policies.toml"]

HOSTILE = [
    "",
    " ",
    "[/x]",
    "[bold]x[/bold]",
    "$(touch /tmp/netlab-fuzz-pwned)",
    "a;rm -rf /",
    "../../etc/passwd",
    "x\ny",
    "x\r\n",
    "é漢字",
    "\x1b[31m",
    "a" * 5000,
    "{}",
    "%s%n",
]
NUMBERS = [math.nan, math.inf, -math.inf, 0, -1, 1e-300, 1e300, 10**12, -(10**12), 0.5, 2**63]
WRONG_TYPES: list[Any] = [True, [], [1, 2], {}, {"x": 1}, "abc", "1", 1.5, 7]


@dataclass(frozen=True)
class Case:
    """One mutated input: which shipped file, which kind, what was done to it."""

    kind: str  # scenario, topology, sweep or plan
    source: str
    what: str  # a readable description of the mutation, for the failure report
    text: bytes


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in nested tables and arrays (tables and arrays themselves included)."""
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, (*prefix, index))
    return out


def _apply(data: Any, path: tuple, op: str, value: Any) -> Any:
    """A deep copy of `data` with `op` ('delete' or 'set') applied at `path`."""
    data = json.loads(json.dumps(data, default=str, allow_nan=True))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if op == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


@st.composite
def values(draw: st.DrawFn) -> Any:
    return draw(
        st.one_of(
            st.sampled_from(HOSTILE),
            st.sampled_from(NUMBERS),
            st.sampled_from(WRONG_TYPES),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(2**64), 2**64),
        )
    )


@functools.cache
def _load(kind: str, name: str) -> tuple[Any, str]:
    """A shipped file's data (read once; `_apply` and the dumps copy it)."""
    if kind == "plan":
        return json.loads(PLAN.read_text()), "json"
    folder = {"scenario": "scenarios", "topology": "topologies", "sweep": "scenarios/sweeps"}
    return tomllib.loads((ROOT / folder[kind] / name).read_text()), "toml"


def _dump(data: Any, form: str) -> bytes:
    if form == "json":
        return json.dumps(data, allow_nan=True).encode()
    return tomli_w.dumps(_toml_safe(data)).encode()


def _toml_safe(data: Any) -> Any:
    """TOML has no null and needs tables at the top: drop None, wrap scalars."""
    if isinstance(data, dict):
        return {k: _toml_safe(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_toml_safe(v) for v in data if v is not None]
    return data


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["scenario", "scenario", "topology", "sweep", "plan"]))
    source = {
        "scenario": SCENARIOS,
        "topology": TOPOLOGIES,
        "sweep": SWEEPS,
        "plan": ["plan.json"],
    }[kind]
    name = draw(st.sampled_from(source))
    data, form = _load(kind, name)
    ops = ["delete", "set", "set", "set", "encoding", "truncate"]
    ops += ["duplicate"] if form == "toml" else []
    ops += ["grid", "grid"] if kind == "sweep" else []
    op = draw(st.sampled_from(ops))
    if op in ("delete", "set"):
        path = draw(st.sampled_from(_paths(data)))
        value = draw(values()) if op == "set" else None
        mutated = _apply(data, path, op, value)
        text = _dump(mutated, form)
        what = f"{op} {'.'.join(map(str, path))}" + (f" = {value!r:.60}" if op == "set" else "")
    elif op == "encoding":
        encoding = draw(st.sampled_from(["utf-16", "utf-32", "latin-1-bytes"]))
        raw = _dump(data, form).decode()
        text = (
            (raw + "# é\n").encode("latin-1")
            if encoding == "latin-1-bytes"
            else raw.encode(encoding)
        )
        what = f"encoded as {encoding}"
    elif op == "grid":  # a grid over any scenario key or table, with a drawn value
        scenario, _ = _load("scenario", "small-workday.toml")
        keys = [".".join(p) for p in _paths(scenario) if all(isinstance(k, str) for k in p)]
        key = draw(st.sampled_from([*keys, "demand", "demand.apps.web", "connect.nowhere"]))
        value = draw(values())
        mutated = _apply(data, ("sweep", "grid"), "set", {key: [value]})
        text = _dump(mutated, form)
        what = f"grid {key} = [{value!r:.60}]"
    elif op == "duplicate":  # a key given twice, as a hand edit leaves it
        lines = _dump(data, form).decode().splitlines(keepends=True)
        keyed = [i for i, line in enumerate(lines) if " = " in line]
        line = draw(st.sampled_from(keyed))
        text = "".join(lines[: line + 1] + lines[line:]).encode()
        what = f"line {line + 1} given twice"
    else:
        raw = _dump(data, form)
        cut = draw(st.integers(0, len(raw) - 1))
        text = raw[:cut]
        what = f"truncated at byte {cut}"
    return Case(kind, name, what, text)


PLAN = (
    ROOT / "tests" / "data" / "fuzz-plan.json"
)  # `netlab export scenarios/example-small.toml -f json`


def _prepare(case: Case, folder: Path) -> tuple[list[str], Path]:
    """Lay the case out like the repository (scenarios refer to ../topologies); return the
    netlab command that reads it and the mutated file."""
    shutil.copytree(ROOT / "topologies", folder / "topologies")
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    out = str(folder / "results")
    if case.kind == "scenario":
        target = folder / "scenarios" / case.source
        target.write_bytes(case.text)
        return ["check", str(target)], target
    if case.kind == "topology":
        target = folder / "topologies" / case.source
        target.write_bytes(case.text)
        scenario = "example-small.toml" if case.source == "small.toml" else "tiny-day.toml"
        if scenario == "tiny-day.toml":
            text = (ROOT / "scenarios" / "example-small.toml").read_text()
            text = text.replace("../topologies/small.toml", "../topologies/tiny.toml")
            text = text.replace('kec_seranau = "lte"', "")
            (folder / "scenarios" / scenario).write_text(text)
        return ["check", str(folder / "scenarios" / scenario)], target
    if case.kind == "sweep":
        target = folder / "scenarios" / "sweeps" / case.source
        target.write_bytes(case.text)
        return ["sweep", str(target), "--check", "--out", out], target
    target = folder / "plan.json"
    target.write_bytes(case.text)
    return ["export", str(target), "--format", "tc"], target


def _run(case: Case, folder: Path) -> str | None:
    """Run one case; return what went wrong, or None."""
    folder.mkdir()
    argv, target = _prepare(case, folder)
    try:
        result = subprocess.run(
            [str(NETLAB), *argv],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            cwd=folder,
        )
    except subprocess.TimeoutExpired:
        return f"hung for {TIMEOUT_S} s"
    said = (result.stdout + result.stderr).strip()
    if (folder / "results").exists() and any((folder / "results").iterdir()):
        return "left a results folder"
    if result.returncode == 0:
        return _script_problem(result.stdout) if argv[0] == "export" else None
    if result.returncode != 2:
        return f"exit {result.returncode}: {said[-300:]}"
    lines = result.stderr.strip().splitlines()
    if "Traceback" in said or len(lines) != 1:
        return f"not one line: {said[-300:]}"
    if target.name not in lines[0]:
        return f"does not name {target.name}: {lines[0]}"
    return None


def _script_problem(script: str) -> str | None:
    """What `sh -n` finds wrong with an exported tc script (None: it parses)."""
    check = subprocess.run(["sh", "-n"], input=script, capture_output=True, text=True)
    return None if check.returncode == 0 else f"sh -n rejects the script: {check.stderr[:200]}"


@settings(
    max_examples=CASES // BATCH,
    deadline=None,
    database=None,
    phases=[Phase.generate],  # no shrinking: a failing case is reported as it was drawn
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(cases(), min_size=BATCH, max_size=BATCH))
def test_every_bad_input_ends_in_one_clear_line(batch: list[Case]) -> None:
    """BATCH cases an example, WORKERS at a time; CASES cases in all."""
    root = Path(tempfile.mkdtemp(prefix="netlab-fuzz-"))
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            outcomes = list(pool.map(lambda ic: _run(ic[1], root / str(ic[0])), enumerate(batch)))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    failures = [
        f"{c.kind} {c.source}: {c.what}: {o}" for c, o in zip(batch, outcomes, strict=True) if o
    ]
    assert not failures, "\n".join(failures)
