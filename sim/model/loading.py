"""Read a TOML file into a pydantic model, turning every failure into one ConfigError line."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from sim.model.errors import ConfigError, nearest

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 16 * 2**20  # the regency's topology is 30 kB; anything this large is a mistake
MAX_PATH_CHARS = 1024
_BOMS = (
    (b"\xef\xbb\xbf", "UTF-8 with a byte-order mark"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _no_nul(path: str) -> str:
    if "\x00" in path:
        raise ValueError("the path contains a NUL character")
    return path


# a file path written in an input file: not empty, not absurdly long, no NUL
PathText = Annotated[str, Field(min_length=1, max_length=MAX_PATH_CHARS), AfterValidator(_no_nul)]


class Strict(BaseModel):
    """Base for file-facing models: unknown keys are errors, so a typo never passes silently;
    types are strict (`start = 0` is no date, `essential = 0` no boolean) and every float
    must be finite (NaN passes every comparison, so no bound would catch it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def read_bytes(path: Path, what: str) -> bytes:
    """The bytes of a regular file; any other outcome is a ConfigError naming the path.

    A FIFO or device would block or never end, so the file is checked before it is opened.
    """
    text = str(path)
    if "\x00" in text:
        raise ConfigError(repr(text)[1:-1], "", "the path contains a NUL character")
    if len(text) > MAX_PATH_CHARS:
        raise ConfigError(text[:60] + "...", "", f"path longer than {MAX_PATH_CHARS} characters")
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(path, "", f"is a directory, expected {what}")
        if not stat.S_ISREG(mode):
            raise ConfigError(path, "", f"not a regular file (a FIFO, socket or device), {what}")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(path, "", f"larger than {MAX_FILE_BYTES // 2**20} MiB, {what}")
        with path.open("rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except NotADirectoryError:
        raise ConfigError(path, "", "a part of the path is a file, not a directory") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read: {os.strerror(exc.errno or 0)}") from None


def decode(path: Path, raw: bytes, what: str) -> str:
    """UTF-8 text (what TOML and JSON files must be), else a ConfigError saying what it is."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise ConfigError(path, "", f"{name} text; save it as UTF-8 without a BOM ({what})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start}); save it as UTF-8 ({what})"
        raise ConfigError(path, "", problem) from None
    if "\x00" in text:
        raise ConfigError(path, "", f"contains NUL characters: a binary file, not {what}")
    return text


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; missing, unreadable or malformed files become ConfigError."""
    text = decode(path, read_bytes(path, "a TOML file"), "a TOML file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        key, problem = toml_problem(text, str(exc))
        raise ConfigError(path, key, problem) from None


_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")


def toml_problem(text: str, message: str) -> tuple[str, str]:
    """(key, problem) for a TOML syntax error; a key or table given twice names the key."""
    at = _AT_LINE.search(message)
    line = int(at.group(1)) if at else None
    where = f" (line {line})" if line else ""
    declared = re.match(r"Cannot declare \((.*)\) twice", message)
    if declared:
        parts = [p.strip().strip("'\"") for p in declared.group(1).split(",") if p.strip()]
        return ".".join(parts), f"table declared twice{where}"
    if message.startswith("Cannot overwrite a value") and line is not None:
        lines = text.splitlines()
        own = lines[line - 1].split("=", 1)[0].strip().strip("'\"")
        table = next(
            (m.group(1) for ln in reversed(lines[: line - 1]) if (m := _HEADER.match(ln))), ""
        )
        return (f"{table}.{own}" if table else own), f"key given twice{where}"
    return "", f"not valid TOML: {message}"


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
            known = missing or sorted(_fields_at(model, first["loc"][:-1]))
            close = nearest(str(first["loc"][-1]), known)
            if close:
                problem += f"; did you mean {close!r}?"
        raise ConfigError(path, dotted(first["loc"]), problem) from None


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> set[str]:
    """The keys the model accepts at loc (for suggestions); empty where it cannot tell."""
    current: Any = model
    parts = list(loc)
    while parts:
        field = _is_model(current) and current.model_fields.get(str(parts.pop(0)))
        if not field:
            return set()
        annotation = field.annotation
        if get_origin(annotation) in (dict, list) and parts:
            parts.pop(0)  # the key or index inside the table or array
            annotation = get_args(annotation)[-1]
        current = _model_in(annotation)
    return set(current.model_fields) if _is_model(current) else set()


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_in(annotation: Any) -> Any:
    """The pydantic model a field holds, directly or as `X | None` (else None)."""
    if _is_model(annotation):
        return annotation
    models = [a for a in get_args(annotation) if _is_model(a)]
    return models[0] if len(models) == 1 else None


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
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] in ("float_type", "int_type", "bool_type", "string_type", "datetime_type"):
        message += f", got {_shown(error.get('input'))}"
    return message


def _shown(value: Any) -> str:
    """A value as the message shows it: its TOML-ish form, cut short."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, list):
        text = "an array"
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
