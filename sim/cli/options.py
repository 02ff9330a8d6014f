"""The `netlab` app that every command module registers its commands on, and the arguments and
options that commands in several modules share (one definition, one help text)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.model.flow import FLOW_FORMATS
from sim.shaping.policies import POLICIES

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    help="netlab: size and split a shared internet purchase, by simulation and emulation.\n\n"
    "Start with [bold]netlab run scenarios/kotim-baseline.toml[/bold]; scenario keys are "
    "documented in docs/scenario-reference.md.",
)

ScenarioArg = Annotated[
    Path,
    typer.Argument(
        help="Scenario file (TOML), e.g. scenarios/kotim-baseline.toml.", show_default=False
    ),
]
PolicyOpt = Annotated[
    str | None,
    typer.Option(
        "--policy",
        "-p",
        help=f"Use this policy (the file's parameters if it is the file's policy, else its "
        f"defaults): {', '.join(POLICIES)}. A schedule is written in the scenario file.",
        show_default=False,
    ),
]
SeedOpt = Annotated[
    int | None, typer.Option("--seed", "-s", help="Override the seed.", show_default=False)
]
DurationOpt = Annotated[
    str | None,
    typer.Option(
        "--duration", "-d", help="Override the duration, e.g. 2h, 24h, 10d.", show_default=False
    ),
]

WorkersOpt = Annotated[
    int | None, typer.Option("--workers", "-w", min=1, help="Processes (default: all cores).")
]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="Run on a Dask scheduler at this address, or 'local' for a "
        "local cluster (needs the cluster extra).",
    ),
]


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
RunFoldersOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for run folders.")]
ResultsRootOpt = Annotated[Path, typer.Option("--out", "-o", help="Results root.")]
FlowsOpt = Annotated[
    str,
    typer.Option(
        "--flows",
        help=f"How the run folder keeps one row a flow: {', '.join(FLOW_FORMATS)} (csv: "
        "classes.csv too; none: not kept, report.html then leaves out the completion-time plots).",
    ),
]
