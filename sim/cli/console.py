"""Where the command line speaks: the consoles, the one-line error, warning and output helpers
every command uses, and the progress bar of the long commands.

Every value in a message is printed as text, never as rich markup, so `[/x]` in a file is shown,
not interpreted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

out = Console()
err = Console(stderr=True)


def fail(message: str, status: int) -> NoReturn:
    """Say what is wrong in one line on stderr and exit with status (2 input, 3 environment)."""
    say_error(message)
    raise typer.Exit(status)


def say_error(message: str) -> None:
    """`netlab: error: MESSAGE` as one line of plain text (control characters shown escaped)."""
    err.print(Text.assemble(("netlab: error: ", "bold red"), one_line(message)), soft_wrap=True)


def warn(message: str) -> None:
    """`warning: MESSAGE` on stderr, as plain text."""
    err.print(Text.assemble(("warning: ", "yellow"), one_line(message)), soft_wrap=True)


def say(text: str) -> None:
    """A line of output on stdout, as plain text (paths and values are never markup)."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def one_line(text: str) -> str:
    """Text with newlines and other control characters escaped, so it stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@contextlib.contextmanager
def dask_failures(dask: str | None) -> Iterator[None]:
    """A missing Dask install or an unreachable scheduler as one line and status 3."""
    try:
        yield
    except ImportError as exc:
        fail(f"--dask needs the cluster extra (pip install 'netlab[cluster]'): {exc}", 3)
    except OSError as exc:
        if dask is None:
            raise
        fail(f"--dask {dask}: cannot reach the Dask scheduler: {exc}", 3)


@contextlib.contextmanager
def progress_bar(
    quiet: bool, label: str, total: float | None = None
) -> Iterator[Callable[[float, float], None]]:
    """One task's progress bar, as the callback report(done, total) that the work calls;
    the total reported is used when none is given here."""
    with _progress(quiet) as bar:
        task = bar.add_task(label, total=total)

        def report(done: float, reported: float) -> None:
            bar.update(task, completed=done, total=reported if total is None else total)

        yield report


@contextlib.contextmanager
def progress_steps(quiet: bool, label: str, total: int) -> Iterator[Callable[[str], None]]:
    """A bar over `total` named stages, as the callback step(what) called as each starts: the
    stages before it count as done and the bar reads `label: what`, so a long stage is never
    mistaken for a hang."""
    with _progress(quiet) as bar:
        task = bar.add_task(label, total=total)
        started = 0

        def step(what: str) -> None:
            nonlocal started
            bar.update(task, completed=started, description=f"{label}: {what}")
            started += 1

        yield step


def _progress(quiet: bool) -> Progress:
    """A transient bar on stderr, shown only on a terminal and without --quiet."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=True,
    )
