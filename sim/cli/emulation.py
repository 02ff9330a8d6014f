"""`netlab emulate` and `netlab validate`: a window of a scenario on real Mininet hosts (kernel
HTB, real TCP), and the same window or a stress test compared with the fluid backend. Both need
root; environment problems exit with status 3."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim.cli.console import fail, out, progress_bar, warn
from sim.cli.folders import write_record
from sim.cli.inputs import check_out, flows_format, load, window_span
from sim.cli.options import FlowsOpt, PolicyOpt, RunFoldersOpt, ScenarioArg, app
from sim.cli.tables import fmt_figure, print_summary
from sim.model.flow import FlowFormat
from sim.model.scenario import Scenario

# sim.studies.emulate and the validation report are imported where used: they bring in NumPy, SimPy,
# plotly and (once a network is built) Mininet, which `netlab --help` does not need.


WindowOpt = Annotated[
    str,
    typer.Option("--window", help="HH:MM+DURATION of the scenario's first day, e.g. 09:00+5m."),
]
ScaleOpt = Annotated[
    float,
    typer.Option(
        "--scale",
        help="Multiply every rate and size on the wire (small machines); "
        "figures are scaled back and the factor is recorded.",
        min=0.001,
    ),
]


@app.command()
def emulate(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file (TOML).")] = None,
    window: WindowOpt = "09:00+5m",
    scale: ScaleOpt = 1.0,
    out_dir: RunFoldersOpt = Path("results"),
    cleanup_only: Annotated[
        bool, typer.Option("--cleanup", help="Only remove leftovers of killed earlier runs.")
    ] = False,
    flows: FlowsOpt = "parquet",
) -> None:
    """Run a window of a scenario on real Mininet hosts: kernel HTB, real TCP (needs root).

    The same SimPy demand drives real transfers between the hosts in real time; the run folder
    holds the same files as `netlab run`. Delay and loss are emulated only where the kernel
    has netem (recorded in the manifest). Environment problems exit with status 3.

    [bold]Examples[/bold]

      sudo netlab emulate scenarios/example-small.toml --window 09:00+2m
      sudo netlab emulate scenarios/kotim-baseline.toml --window 09:00+5m
      sudo netlab emulate --cleanup
    """
    from sim.studies.emulate import cleanup, describe
    from sim.studies.emulate import emulate as run_window

    if cleanup_only:
        out.print(describe(cleanup()), highlight=False, markup=False, soft_wrap=True)
        return
    if scenario is None:
        fail("emulate: give a scenario file (or --cleanup)", 2)
    kept = flows_format(flows)
    loaded = load(scenario)
    check_out(out_dir)
    start, length = window_span(window)
    label = f"emulating {loaded.name} (real time)"
    with _emulation_errors(scenario), progress_bar(False, label, length) as report:
        record = run_window(loaded, start, length, scale, report)
    summary, folder = write_record(record, out_dir, flows=kept)
    for warning in record.warnings:
        warn(warning)
    print_summary(summary, record.scenario)
    out.print(f"report: {folder / 'report.html'}", highlight=False, soft_wrap=True)


@app.command()
def validate(
    scenario: ScenarioArg,
    policy: PolicyOpt = None,
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            help="HH:MM+DURATION of the scenario's first day (default 09:00+2m); with "
            "--stress the time picks the plan and the duration is measured per direction "
            "(default 09:00+10s).",
            show_default=False,
        ),
    ] = None,
    stress: Annotated[
        bool,
        typer.Option(
            "--stress",
            help="Every site greedy (several TCP flows each), downloads then uploads: compare "
            "every class where the split decides it.",
        ),
    ] = False,
    scale: ScaleOpt = 1.0,
    out_dir: RunFoldersOpt = Path("results"),
    flows: FlowsOpt = "parquet",
) -> None:
    """Run a scenario on both backends and compare them class by class (needs root).

    By default a window of the demand runs on both with the same seed; the kernel's run folder
    gets validation.csv and validation.html (throughput per site and direction). With
    --stress every site is greedy under the plan in force at the window's time, so every class
    is contended: the kernel's class counters against the fluid allocation, the error as a
    share of the root's rate, in stress.csv.

    [bold]Examples[/bold]

      sudo netlab validate scenarios/example-small.toml --window 09:00+2m
      sudo netlab validate scenarios/kotim-baseline.toml -p htb-priority --stress --window 09:00+20s
    """
    kept = flows_format(flows)
    loaded = load(scenario, policy)
    start, length = window_span(window or ("09:00+10s" if stress else "09:00+2m"))
    if stress:
        _validate_stress(scenario, loaded, start, length, scale, out_dir)
    else:
        _validate_window(scenario, loaded, (start, length), scale, out_dir, kept)


def _validate_window(
    path: Path,
    loaded: Scenario,
    span: tuple[float, float],
    scale: float,
    out_dir: Path,
    flows: FlowFormat,
) -> None:
    """`validate` without --stress: the same window of demand on both backends."""
    from sim.report.validation import write_validation
    from sim.studies.emulate import validate as compare_window

    with _emulation_errors(path):
        result = compare_window(loaded, *span, scale)
    rows = [r.as_dict() for r in result.rows]
    _, folder = write_record(
        result.kernel, out_dir, also=lambda f: write_validation(f, rows, loaded.name), flows=flows
    )
    table = Table(title="fluid vs kernel, busiest classes", title_justify="left")
    for column in ("site", "dir", "fluid Mbit/s", "kernel Mbit/s", "difference"):
        table.add_column(column, justify="left" if column in ("site", "dir") else "right")
    for r in sorted(result.rows, key=lambda r: -r.fluid_bps)[:15]:
        table.add_row(
            r.site,
            r.direction,
            f"{r.fluid_bps / 1e6:.2f}",
            f"{r.kernel_bps / 1e6:.2f}",
            fmt_figure(r.rel_diff * 100, "+.1f", suffix=" %") if r.fluid_bps > 0 else "n/a",
        )
    out.print(table)
    out.print(f"validation: {folder / 'validation.html'}", highlight=False, soft_wrap=True)


def _validate_stress(
    path: Path, loaded: Scenario, start: float, length: float, scale: float, out_dir: Path
) -> None:
    """`validate --stress`: every site greedy; print the largest per-class errors."""
    from sim.studies.emulate import stress

    with _emulation_errors(path):
        result = stress(loaded, start, length, scale)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = out_dir / f"{loaded.name}-stress-{result.policy}-{stamp}"
    result.write(folder)
    for warning in result.warnings:
        warn(warning)
    title = f"{result.policy}, every site greedy: fluid vs kernel, largest errors"
    table = Table(title=title, title_justify="left")
    for column in ("class", "dir", "fluid Mbit/s", "kernel Mbit/s", "error, % of root"):
        table.add_column(column, justify="left" if column in ("class", "dir") else "right")
    for r in sorted(result.rows, key=lambda r: -abs(r.error))[:15]:
        table.add_row(
            r.class_id,
            r.direction,
            f"{r.fluid_bps / 1e6:.2f}",
            f"{r.kernel_bps / 1e6:.2f}",
            f"{r.error * 100:+.2f}",
        )
    out.print(table)
    for direction in ("down", "up"):
        worst = result.worst(direction)
        cost = result.info["cpu_per_direction"][direction]
        out.print(
            f"{direction}: worst {worst.class_id} {worst.error * 100:+.2f} % of the root; "
            f"{cost['cores_busy']:.2f} cores busy for {cost['wire_mbps']:.0f} Mbit/s on the "
            f"wire ({cost['cores_per_gbps']:.2f} cores per Gbit/s)",
            highlight=False,
        )
    out.print(f"stress: {folder / 'stress.csv'}", highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _emulation_errors(scenario: Path) -> Iterator[None]:
    """Environment problems exit 3, a window outside the scenario 2, a signal 143."""
    from sim.studies.emulate import EmulationUnavailable, Terminated

    try:
        yield
    except EmulationUnavailable as exc:
        fail(str(exc), 3)
    except Terminated as exc:
        fail(f"stopped by {exc}; the emulated network was removed", 143)
    except ValueError as exc:
        fail(f"{scenario}: --window: {exc}", 2)
