"""The shape of sim/cli/: every command module is registered once, in the order `netlab --help`
lists the commands, and `netlab --help` loads no simulation library (module sizes:
tests/test_function_length.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import typer.main

from sim.cli import COMMAND_MODULES, app

CLI = Path(__file__).resolve().parents[1] / "sim" / "cli"
HELP_ORDER = [
    "run",
    "optimize",
    "sweep",
    "compare",
    "gate",
    "emulate",
    "validate",
    "check",
    "export",
    "import-counters",
    "calibrate",
    "import-config",
    "whatif",
]


def test_every_module_with_commands_is_in_the_registry() -> None:
    with_commands = {
        p.stem for p in CLI.glob("*.py") if re.search(r"^@app\.command", p.read_text(), re.M)
    }
    assert with_commands == set(COMMAND_MODULES)


def test_help_lists_the_commands_in_the_registry_order() -> None:
    group = typer.main.get_command(app)
    assert list(group.commands) == HELP_ORDER  # type: ignore[attr-defined]


def test_help_imports_no_simulation_libraries() -> None:
    """NumPy, SimPy, plotly, Mininet and Dask are imported inside the commands that use them:
    at module level they would about double the time `netlab --help` takes."""
    code = (
        "import sys, sim.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'numpy', 'simpy', 'plotly', 'mininet', 'dask', 'distributed'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
