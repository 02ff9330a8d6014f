"""Sweep files: one scenario, a grid of overrides (product or zip) and seeds, checked up front.

    [sweep]
    name = "tiny-policies"
    scenario = "../example-small.toml"   # relative to the sweep file
    mode = "product"                     # or "zip": the i-th values of every key go together
    seeds = 5                            # 1..5, or a list such as [1, 2, 3]

    [sweep.set]                          # overrides for every point (optional)
    "scenario.duration" = "2h"

    [sweep.grid]                         # dotted scenario keys -> lists of values
    "purchase.upstream_mbps" = [100, 200]
    "policy.name" = ["htb-weighted", "max-min"]

Keys are dotted scenario keys: a key naming a table ("policy" = [{name = "..."}]) replaces that
table, and a nested TOML table (`[sweep.grid.purchase]`) reads as dotted keys. The scenario is
read once; each point's keys are converted once, here, into the scenario's typed changes
(`policy.name` with its `policy.*` parameters, `purchase.upstream_mbps`, `demand.growth`,
`connect.SITE`) and plain edits for any other key. As with `Scenario.with_policy`, naming
another policy starts from its defaults. Every point is validated and resolved and its shaping
plans compiled here, before anything runs, so a bad key or value is a ConfigError naming the
sweep file and the grid key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from sim.model.errors import ConfigError
from sim.model.filekind import expect_kind
from sim.model.loading import PathText, Strict, read_toml, validate
from sim.model.scenario import Scenario, load_scenario
from sim.model.scenario_schema import MAX_SEED
from sim.shaping.schedule import compile_schedule

MAX_SEEDS = 1000  # seeds of one sweep
MAX_RUNS = 100_000  # points times seeds: more is a typo, not a plan


def _seed_count(value: Any) -> Any:
    """A number of seeds N as the list 1..N (at least 1, at most MAX_SEEDS)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if not 1 <= value <= MAX_SEEDS:
        raise ValueError(f"a number of seeds must be at least 1 and at most {MAX_SEEDS}")
    return list(range(1, value + 1))


class SweepSection(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    description: str = Field(default="", max_length=1000)
    scenario: PathText = Field(
        description="scenario file, relative to the sweep file",
    )
    mode: Literal["product", "zip"] = "product"
    # `seeds = N` means seeds 1..N; a list is taken as it is
    seeds: Annotated[
        list[Annotated[int, Field(ge=0, le=MAX_SEED)]], BeforeValidator(_seed_count)
    ] = Field(default=1, validate_default=True, max_length=MAX_SEEDS)
    set: dict[str, Any] = {}
    grid: dict[str, Any] = {}

    @field_validator("seeds")
    @classmethod
    def _seed_list(cls, seeds: list[int]) -> list[int]:
        if not seeds:
            raise ValueError("needs at least one seed")
        if len(set(seeds)) != len(seeds):
            raise ValueError("a seed appears twice")
        return seeds


class SweepFile(Strict):
    sweep: SweepSection


@dataclass(frozen=True)
class GridPoint:
    """One combination of grid values, resolved to a scenario (its seed is set per run)."""

    index: int
    values: dict[str, Any]  # grid key -> value
    scenario: Scenario
    hash: str  # of the overrides and the resolved scenario and topology, seed left out


@dataclass(frozen=True)
class Sweep:
    path: Path
    name: str
    description: str
    keys: list[str]  # grid keys, in file order
    seeds: list[int]
    points: list[GridPoint]


def load_sweep(path: Path | str) -> Sweep:
    """Read a sweep file and resolve every point (raises ConfigError naming file and key)."""
    path = Path(path)
    expect_kind(path, "sweep")  # a scenario given for it says so, not "scenario: unknown key"
    section = validate(path, read_toml(path), SweepFile).sweep
    fixed = _flatten(section.set)
    grid = _flatten(section.grid)
    _check_grid(path, fixed, grid, section.mode)
    _check_size(path, grid, section.mode, len(section.seeds))
    if section.mode == "product":
        combos = list(itertools.product(*grid.values()))
    else:
        combos = list(zip(*grid.values(), strict=True))
    try:
        base = load_scenario(path.parent / section.scenario)
    except ConfigError as exc:
        raise ConfigError(path, "sweep.scenario", str(exc)) from None
    points = []
    for index, combo in enumerate(combos):
        values = dict(zip(grid, combo, strict=True))
        overrides = {**fixed, **values}
        try:
            scenario = changed(base, overrides)
            compile_schedule(scenario)  # plan errors, e.g. a guarantee above a ceiling
        except ConfigError as exc:
            raise _blame(path, exc, fixed, values) from None
        points.append(GridPoint(index, values, scenario, point_hash(overrides, scenario)))
    return Sweep(
        path=path,
        name=section.name,
        description=section.description,
        keys=list(grid),
        seeds=list(section.seeds),
        points=points,
    )


def point_hash(overrides: dict[str, Any], scenario: Scenario) -> str:
    """Identity of a point in the index: changing the scenario or topology changes it."""
    spec = scenario.spec.model_dump(mode="json")
    spec["scenario"]["seed"] = None
    blob = json.dumps(
        {
            "overrides": overrides,
            "scenario": spec,
            "topology": scenario.topology.model_dump(mode="json"),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def changed(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """The scenario with a point's dotted keys applied (raises ConfigError for bad values)."""
    rest = dict(overrides)
    if "policy.name" in rest:
        params = {
            k: rest.pop(k) for k in list(rest) if k.startswith("policy.") and k.count(".") == 1
        }
        scenario = scenario.with_policy(
            params.pop("policy.name"), **{k.removeprefix("policy."): v for k, v in params.items()}
        )
    if "purchase.upstream_mbps" in rest:
        scenario = scenario.with_purchase(rest.pop("purchase.upstream_mbps"))
    if "demand.growth" in rest:
        scenario = scenario.with_growth(rest.pop("demand.growth"))
    for key in [k for k in rest if k.startswith("connect.") and k.count(".") == 1]:
        scenario = scenario.with_connect(key.removeprefix("connect."), rest.pop(key))
    if not rest:
        return scenario
    data = scenario.spec.model_dump()
    for key, value in rest.items():
        _set_dotted(data, key, value)
    return scenario.edited(data)


def _set_dotted(data: dict[str, Any], dotted_key: str, value: Any) -> None:
    """Set data["a"]["b"]["c"] for "a.b.c", making tables where there are none (or null)."""
    *parents, leaf = dotted_key.split(".")
    node = data
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[leaf] = value


def key_label(table: str, key: str) -> str:
    """sweep.grid."policy.name": the TOML path of a dotted override key."""
    return f'sweep.{table}."{key}"' if "." in key else f"sweep.{table}.{key}"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"purchase": {"upstream_mbps": [..]}} -> {"purchase.upstream_mbps": [..]}."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _check_grid(path: Path, fixed: dict[str, Any], grid: dict[str, Any], mode: str) -> None:
    if not grid:
        raise ConfigError(path, "sweep.grid", 'needs at least one key, e.g. "policy.name" = [...]')
    for table, keys in (("set", fixed), ("grid", grid)):
        if "scenario.seed" in keys:
            raise ConfigError(path, key_label(table, "scenario.seed"), "give seeds in [sweep]")
    for key, values in grid.items():
        label = key_label("grid", key)
        if key in fixed:
            raise ConfigError(path, label, "is also set in [sweep.set]")
        if not isinstance(values, list):
            raise ConfigError(path, label, "must be a list of values, e.g. [100, 200]")
        if not values:
            raise ConfigError(path, label, "needs at least one value")
        seen = [json.dumps(value, sort_keys=True, default=str) for value in values]
        if mode == "product" and len(set(seen)) != len(seen):
            raise ConfigError(path, label, "a value appears twice")
    if mode == "zip":
        _check_zip(path, grid)


def _check_size(path: Path, grid: dict[str, Any], mode: str, seeds: int) -> None:
    """At most MAX_RUNS runs, counted before any point is built."""
    points = (
        math.prod(len(v) for v in grid.values())
        if mode == "product"
        else len(next(iter(grid.values())))
    )
    if points * seeds > MAX_RUNS:
        raise ConfigError(
            path,
            "sweep.grid",
            f"{points:,} points x {seeds:,} seeds = {points * seeds:,} runs, at most {MAX_RUNS:,}",
        )


def _check_zip(path: Path, grid: dict[str, Any]) -> None:
    """Zip mode: every key has as many values as the first, and no combination repeats."""
    first, *rest = grid
    for key in rest:
        if len(grid[key]) != len(grid[first]):
            raise ConfigError(
                path,
                key_label("grid", key),
                f"has {len(grid[key])} values but {first!r} has {len(grid[first])} "
                "(zip mode takes the i-th value of every key together)",
            )
    combos = zip(*grid.values(), strict=True)
    seen = [json.dumps(combo, sort_keys=True, default=str) for combo in combos]
    if len(set(seen)) != len(seen):
        raise ConfigError(path, "sweep.grid", "a combination of values appears twice")


def _blame(
    path: Path, exc: ConfigError, fixed: dict[str, Any], values: dict[str, Any]
) -> ConfigError:
    """Re-address a scenario error to the sweep key that caused it (else to sweep.scenario).

    An error at or below an override's key is that override's; an error at a table above
    several overrides (a cross-field check) names the whole point.
    """
    keys = {("grid", k): v for k, v in values.items()} | {("set", k): v for k, v in fixed.items()}
    at_or_below = [k for k in keys if _within(exc.key, k[1])]
    above = [k for k in keys if _within(k[1], exc.key)]
    if at_or_below or len(above) == 1:
        table, key = max(at_or_below, key=lambda k: len(k[1])) if at_or_below else above[0]
        where = "" if exc.key == key else f" (scenario key {exc.key})"
        problem = f"{keys[table, key]!r}: {exc.problem}{where}"
        return ConfigError(path, key_label(table, key), problem)
    if above:
        point = json.dumps(values, default=str)
        return ConfigError(path, "sweep.grid", f"point {point}: {exc.key}: {exc.problem}")
    return ConfigError(path, "sweep.scenario", str(exc))


def _within(key: str, table: str) -> bool:
    """Whether the dotted key is the table itself or lies inside it ("" is no key at all)."""
    if not key or not table:
        return False
    return key == table or key.startswith((f"{table}.", f"{table}["))
