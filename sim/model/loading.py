"""Read a TOML file into a pydantic model, turning every failure into one ConfigError line."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from sim.model.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base for file-facing models: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; missing or malformed files become ConfigError."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a directory, expected a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None


def validate(path: Path, data: dict[str, Any], model: type[M]) -> M:
    """Validate data against model; the first error names its dotted key path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key shows up as "unknown" plus "missing": the unknown one is the cause
        unknown = [e for e in errors if e["type"] == "extra_forbidden"]
        first = unknown[0] if unknown else errors[0]
        problem = describe(first)
        if unknown:
            missing = [
                str(e["loc"][-1])
                for e in errors
                if e["type"] == "missing" and e["loc"][:-1] == first["loc"][:-1]
            ]
            close = difflib.get_close_matches(str(first["loc"][-1]), missing, n=1)
            if close:
                problem += f"; did you mean {close[0]!r}?"
        raise ConfigError(path, dotted(first["loc"]), problem) from None


def dotted(loc: tuple[Any, ...]) -> str:
    """('sites', 3, 'users') -> 'sites[3].users'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe(error: Any) -> str:
    """A short problem statement from one pydantic error."""
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see docs/scenario-reference.md)"
    if error["type"] == "missing":
        return "required key is missing"
    message = error["msg"]
    return message.removeprefix("Value error, ")
