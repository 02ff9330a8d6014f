"""JSON plan files: a ShapingPlan as a file and back, validated like scenario files.

Accepted files: a plan (`netlab export --format json`: keys policy, warnings, down, up), or
anything with a `plan` key holding one (the optimiser's recommendation.json), or a
recommendation.json without one, whose plan is the single plan in the manifest.json beside it
(the final run at the answer). Pydantic models check every key (unknown keys are errors,
identifiers match in full), then `_check_tree` checks the tree (root first, parents before
children, unique ids and sites, ceil >= rate); both name the exact key, e.g. `down[3].ceil_bps`.
What is legal but not what the kernel will do as the author may expect (oversubscribed
guarantees, inner prio or quantum) is added to the plan's warnings (sim.shaping.plan.finalize).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from sim.model.errors import ConfigError
from sim.model.filekind import expect_kind
from sim.model.loading import dotted
from sim.shaping.plan import DIRECTIONS, ClassTree, HtbClass, ShapingPlan, finalize

MAX_RATE_BPS = 1e11  # 100 Gbit/s: 50 ms of it still fits tc's 32-bit burst


class PlanError(ValueError):
    """Bad plan data; `key` is the dotted path of the offending value (e.g. `down[3].ceil_bps`)."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)


def _fullmatch(pattern: str, what: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"not {what} ({pattern}): {value!r}")
        return value

    return AfterValidator(check)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number of bits/s, got {value!r}")
    return value


PolicyName = Annotated[str, _fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}", "a policy name")]
ClassId = Annotated[str, _fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", "an identifier")]
SiteId = Annotated[str, _fullmatch(r"[a-z][a-z0-9_]{0,15}", "a site identifier")]
Rate = Annotated[float, Field(strict=True, gt=0, le=MAX_RATE_BPS), AfterValidator(_finite)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassSpec(_Strict):
    """One class as a plan file holds it (ShapingPlan.to_dict)."""

    id: ClassId
    parent: ClassId | None = None
    rate_bps: Rate
    ceil_bps: Rate
    prio: int = Field(default=0, ge=0, le=7, strict=True)
    quantum: int | None = Field(default=None, ge=1, le=2**32 - 1, strict=True)
    site: SiteId | None = None
    per_user_bps: Rate | None = None  # leaves only: each user's cap (RouterOS PCQ's pcq-rate)


class PlanSpec(_Strict):
    """A whole plan file."""

    policy: PolicyName
    warnings: list[str] = []
    down: list[ClassSpec]
    up: list[ClassSpec]


class Wrapped(BaseModel):
    """A file that carries a plan under `plan` beside other keys (recommendation.json)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    plan: PlanSpec


class Manifest(BaseModel):
    """The plans of a run folder's manifest.json (other keys are not read)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    plans: list[PlanSpec] = Field(min_length=1)


def to_json(plan: ShapingPlan) -> str:
    """The plan as JSON text (ShapingPlan.to_dict), read back by plan_from_dict."""
    return json.dumps(plan.to_dict(), indent=2, allow_nan=False) + "\n"


def plan_from_dict(data: Any) -> ShapingPlan:
    """The inverse of ShapingPlan.to_dict, validated; bad data raises PlanError (a ValueError)."""
    return _plan(_validated(data, PlanSpec))


def _validated(data: Any, model: type[BaseModel]) -> Any:
    if not isinstance(data, dict):
        raise PlanError("", "expected an object (a JSON plan: policy, warnings, down, up)")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        key = dotted(first["loc"])
        if first["type"] == "extra_forbidden":
            raise PlanError(key, "unknown key (see docs/scenario-reference.md)") from None
        if first["type"] == "missing":
            raise PlanError(key, "required key is missing") from None
        raise PlanError(key, f"{first['msg'].removeprefix('Value error, ')}") from None


def _plan(spec: PlanSpec, prefix: str = "") -> ShapingPlan:
    """The plan of a validated spec; prefix: where the plan sits in its file (`plan.`)."""
    trees = {d: _check_tree(getattr(spec, d), prefix + d) for d in DIRECTIONS}
    warnings = list(spec.warnings)
    for direction in DIRECTIONS:
        infinite = {c.site: math.inf for c in trees[direction].leaves if c.site is not None}
        _, found = finalize(list(trees[direction].classes), infinite, f"{spec.policy} {direction}")
        warnings += [w for w in found if w not in warnings]
    return ShapingPlan(spec.policy, trees["down"], trees["up"], tuple(warnings))


def _check_tree(items: list[ClassSpec], direction: str) -> ClassTree:
    """Tree rules with exact keys: root first, parents first, unique ids and sites."""
    if not items:
        raise PlanError(direction, "no root: the tree has no classes")
    index: dict[str, ClassSpec] = {}
    sites: dict[str, str] = {}
    for i, c in enumerate(items):
        where = f"{direction}[{i}]"
        if c.id in index:
            raise PlanError(f"{where}.id", f"class {c.id!r} appears twice")
        if c.ceil_bps < c.rate_bps:
            raise PlanError(f"{where}.ceil_bps", f"ceil {c.ceil_bps:.0f} is below rate")
        if (i == 0) != (c.parent is None):
            problem = "no root: the first class must have parent null"
            raise PlanError(f"{where}.parent", problem if i == 0 else "only the root has none")
        if c.parent is not None and c.parent not in index:
            later = any(x.id == c.parent for x in items[i + 1 :])
            problem = "must come after its parent" if later else "unknown class"
            raise PlanError(f"{where}.parent", f"{problem} {c.parent!r}")
        if c.parent is not None and index[c.parent].site is not None:
            raise PlanError(f"{where}.parent", f"class {c.parent!r} carries a site: a leaf")
        if c.site is not None:
            if i == 0:
                raise PlanError(f"{where}.site", "the root cannot carry a site's traffic")
            if c.site in sites:
                raise PlanError(f"{where}.site", f"site {c.site!r} is also on {sites[c.site]!r}")
            sites[c.site] = c.id
        if c.per_user_bps is not None and c.site is None:
            problem = "only a site's leaf caps its users (this class carries no site)"
            raise PlanError(f"{where}.per_user_bps", problem)
        index[c.id] = c
    classes = tuple(
        HtbClass(c.id, c.parent, c.rate_bps, c.ceil_bps, c.prio, c.quantum, c.site, c.per_user_bps)
        for c in items
    )
    return ClassTree(classes)


def load_plan_file(path: Path | str) -> ShapingPlan:
    """Read a plan, a file with a `plan` key, or a recommendation with a manifest beside it."""
    path = Path(path)
    expect_kind(path, "plan", "recommendation")  # e.g. a summary.json: say what it is
    data = _read_json(path)
    try:
        if isinstance(data, dict) and "plan" in data:
            return _plan(_validated(data, Wrapped).plan, "plan.")
        if isinstance(data, dict) and "down" not in data and "mbps" in data:
            return _from_manifest(path)
        return plan_from_dict(data)
    except PlanError as exc:
        raise ConfigError(path, exc.key, exc.problem) from None


def _from_manifest(recommendation: Path) -> ShapingPlan:
    """A recommendation.json without a plan: the plan of the run at the answer, beside it."""
    path = recommendation.parent / "manifest.json"
    if not path.exists():
        raise PlanError("plan", f"no plan here, and no {path} beside it to take it from")
    try:
        plans = _validated(_read_json(path), Manifest).plans
        if len(plans) > 1:
            raise PlanError("plans", f"{len(plans)} plans (a schedule): export the scenario --at")
        return _plan(plans[0], "plans[0].")
    except PlanError as exc:
        raise ConfigError(path, exc.key, exc.problem) from None


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a directory, expected a JSON plan file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "", "not UTF-8 text, expected a JSON plan file") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            path, "", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise ConfigError(path, "", f"not valid JSON: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
