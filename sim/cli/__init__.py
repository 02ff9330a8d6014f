"""The `netlab` command: run scenarios, check them, and (with root) emulate and validate.

Errors in input files and options end in one line naming the file (or option), the key and the
problem, and exit status 2; environment problems (emulation without root, missing Mininet, an
unreachable Dask scheduler) exit with status 3. `main` is the one place that turns them into
that line: commands raise ConfigError or call `fail`. Every value in a message is printed as
text, never as rich markup, so `[/x]` in a file is shown, not interpreted.

The package:
- `options.py`: `app`, the Typer app every command registers on, and the arguments and options
  that several commands share (ScenarioArg, PolicyOpt, QuietOpt...).
- `console.py`: the consoles, `fail` (one line on stderr, then an exit status), `say`, `warn`
  and the progress bar.
- `inputs.py`: a scenario loaded with the command line's changes, --out, --window and the
  options that take one of a fixed set of names, checked; a bad value is blamed on its option.
- `folders.py`: a run written to its folder with its reports.
- `tables.py`: the tables the commands print.
- one module per group of commands, listed in COMMAND_MODULES below.

To add a command, write one module, e.g. sim/cli/hello.py:

    from sim.cli.console import say
    from sim.cli.inputs import load
    from sim.cli.options import ScenarioArg, app

    @app.command()
    def hello(scenario: ScenarioArg) -> None:
        \"\"\"The line `netlab --help` shows.\"\"\"
        say(load(scenario).name)

and add "hello" to COMMAND_MODULES: importing a module registers its commands, and the list's
order is the order `netlab --help` shows them in. Bad input raises ConfigError or calls
`fail(message, 2)`; heavy modules (NumPy, SimPy, plotly, Mininet, Dask) are imported inside the
command that needs them, so that `netlab --help` stays quick.
"""

from __future__ import annotations

import importlib
import sys

import typer

from sim.cli.console import err, say_error
from sim.cli.options import app
from sim.model.compiled import StaleCompiledCopy
from sim.model.errors import ConfigError

__all__ = ["COMMAND_MODULES", "app", "main"]

COMMAND_MODULES = ("runs", "sweeps", "emulation", "exports", "counters", "configs", "whatif")
"""The modules of sim/cli/ that hold commands, in the order `netlab --help` lists them."""

for _module in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_module}")


def main() -> None:
    """Entry point and the one error path: bad input or options are one line and status 2.

    Commands raise ConfigError (or call `fail`); a bad option or argument is a usage error of
    the command line itself; Ctrl-C is one line and status 130.
    """
    try:
        status = app(standalone_mode=False)
    except typer.TyperException as exc:  # the command line's usage errors (click's)
        status = _usage_error(exc)
    except ConfigError as exc:
        say_error(str(exc))
        status = 2
    except StaleCompiledCopy as exc:  # the set-up, not the input: `make core` mends it
        say_error(str(exc))
        status = 1
    except (KeyboardInterrupt, typer.Abort):
        err.print("netlab: interrupted", markup=False)
        status = 130
    sys.exit(status or 0)


def _usage_error(exc: typer.TyperException) -> int:
    """A bad option or argument as one line; no arguments at all print the help."""
    ctx = getattr(exc, "ctx", None)
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if not message and ctx is not None:  # `netlab` alone
        ctx.get_help()  # typer prints it
    else:
        where = ctx.command_path if ctx is not None else "netlab"
        say_error(f"{where}: {message} (see {where} --help)")
    return int(getattr(exc, "exit_code", 2))
