"""docs/architecture.md is the map of the code: every module of sim/, every command and every
page netlab writes must be on it by name, so a module added without a word about it fails here."""

from __future__ import annotations

import re
from pathlib import Path

from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _modules() -> list[str]:
    """Every module of sim/ by its path from the repository (a package by its folder)."""
    paths = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        paths.append(relative.removesuffix("__init__.py"))
    return paths


def test_every_sim_module_is_on_the_map() -> None:
    missing = [module for module in _modules() if f"`{module}`" not in DOC]
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"


def test_every_command_is_on_the_map() -> None:
    names = [command.name or command.callback.__name__ for command in app.registered_commands]
    missing = [name for name in names if f"`netlab {name}" not in DOC]
    assert not missing, f"docs/architecture.md does not name the commands: {', '.join(missing)}"


def test_every_page_is_on_the_map() -> None:
    """Every HTML page a module of sim/report names is in the results-folder tables."""
    pages = set()
    for path in (ROOT / "sim" / "report").glob("*.py"):
        pages.update(re.findall(r'"([a-z_-]+\.html)"', path.read_text(encoding="utf-8")))
    missing = sorted(page for page in pages if f"`{page}`" not in DOC)
    assert pages and not missing, f"docs/architecture.md does not name: {', '.join(missing)}"
