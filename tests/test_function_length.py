"""No function in sim/ is over 60 lines, docstring included: a longer one does several jobs;
and no module is over 500 lines: a longer one holds several concerns.

Measured as the AST sees it (end_lineno - lineno + 1 of every def, nested ones too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
MAX_LINES = 60
MAX_MODULE_LINES = 500


def long_functions(source: str) -> list[str]:
    """'name (N lines)' for every function of the source longer than MAX_LINES."""
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]


SOURCES = sorted(SIM.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(SIM).as_posix() for p in SOURCES])
def test_no_function_over_60_lines(path: Path) -> None:
    assert long_functions(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(SIM).as_posix() for p in SOURCES])
def test_no_module_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} lines; split it by concern"


def test_the_measure_counts_the_docstring_and_nested_functions() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(57))
    sixty = f'def f():\n    """Doc."""\n{body}    return 0\n'  # 1 + 1 + 57 + 1 lines
    assert long_functions(sixty) == []
    assert long_functions(sixty.replace('"""Doc."""', '"""Doc.\n\n    More."""')) == [
        "f (62 lines)"
    ]
    nested = "def outer():\n" + "".join("    " + line + "\n" for line in sixty.splitlines())
    assert long_functions(nested) == ["outer (61 lines)"]
