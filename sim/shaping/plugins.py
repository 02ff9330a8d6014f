"""User code that netlab loads by reference: policies and controllers outside the package.

A reference is "FILE.py:Name" (the file relative to the scenario file that names it) or the
name of an installed entry point (group `netlab.policies` or `netlab.controllers`). Only the
reference travels (in the scenario): every process, a sweep's or optimiser's pool worker
included, loads the code itself, once, so nothing unpicklable crosses a process boundary. A
class is instantiated without arguments; any other object is used as it is. Every failure is
a ConfigError naming the scenario file and the key that holds the reference.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel, ValidationError

from sim.model.errors import ConfigError

_MODULES: dict[Path, ModuleType] = {}  # each file executed once per process


def load_reference(ref: str, scenario: Path, key: str, group: str) -> object:
    """The object `ref` names: "FILE.py:Name" beside the scenario, or an entry point."""
    if ":" not in ref or not ref.split(":", 1)[0].endswith(".py"):
        return _entry_point(ref, scenario, key, group)
    file_text, _, attr = ref.rpartition(":")
    file = (scenario.parent / file_text).resolve()
    if not file.is_file():
        raise ConfigError(scenario, key, f"{file_text}: no such file (looked at {file})")
    module = _MODULES.get(file) or _execute(file, scenario, key)
    if not attr.isidentifier() or not hasattr(module, attr):
        raise ConfigError(scenario, key, f"{file_text} defines no {attr!r}")
    return _instance(getattr(module, attr), scenario, key, ref)


def _execute(file: Path, scenario: Path, key: str) -> ModuleType:
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"netlab_plugin_{digest}", file)
    if spec is None or spec.loader is None:
        raise ConfigError(scenario, key, f"{file.name}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any failure is theirs, said in one line
        del sys.modules[spec.name]
        raise ConfigError(scenario, key, f"{file.name}: {type(exc).__name__}: {exc}") from exc
    _MODULES[file] = module
    return module


def _entry_point(name: str, scenario: Path, key: str, group: str) -> object:
    found = {ep.name: ep for ep in entry_points(group=group)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(
            scenario,
            key,
            f'{name!r} is neither "FILE.py:Name" nor an entry point of {group} ({known})',
        )
    try:
        target = found[name].load()
    except Exception as exc:
        raise ConfigError(
            scenario, key, f"entry point {name}: {type(exc).__name__}: {exc}"
        ) from exc
    return _instance(target, scenario, key, name)


def _instance(target: object, scenario: Path, key: str, ref: str) -> object:
    if not isinstance(target, type):
        return target
    try:
        return target()
    except Exception as exc:
        raise ConfigError(scenario, key, f"{ref}: {type(exc).__name__}: {exc}") from exc


def check_params(
    schema: type[BaseModel], values: dict[str, object], path: Path, key: str
) -> object:
    """`values` checked against a plug-in's pydantic schema: its first error as one line."""
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ConfigError(path, f"{key}.{where}" if where else key, error["msg"]) from None
