"""`netlab sweep`, `netlab compare` and `netlab gate`: grids of scenario variants over seeds,
their comparison by group, and a candidate plan checked against a baseline on common seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from sim.cli.console import dask_failures, fail, out, progress_bar
from sim.cli.inputs import check_out, window_span
from sim.cli.options import DaskOpt, QuietOpt, ResultsRootOpt, WorkersOpt, app
from sim.model.errors import ConfigError, nearest
from sim.studies.sweep import Sweep, load_sweep

if TYPE_CHECKING:
    from sim.studies.sweep import SweepResult

# The sweep runner, the comparison, the gate and their reports are imported where used: they
# bring in NumPy, SimPy, multiprocessing and plotly (and Dask for --dask), which
# `netlab --help` and `netlab sweep --check` do not need.

ResumeOpt = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Finish an interrupted sweep (a lost Dask scheduler, a kill): refused when it "
        "has no earlier start or its points changed since.",
    ),
]


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (TOML).", show_default=False)],
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Group the comparison report by this key (default: the sweep's grid keys)."
        ),
    ] = None,
    out_dir: ResultsRootOpt = Path("results"),
    quiet: QuietOpt = False,
    check_only: Annotated[
        bool,
        typer.Option("--check", help="Validate every point and print the grid; run nothing."),
    ] = False,
    resume: ResumeOpt = False,
) -> None:
    """Run a grid of scenario variants over seeds; resumable, on all cores or on Dask.

    Finished runs are recorded in results/sweeps/NAME/index.sqlite as they arrive: run the
    same command again after an interruption and only the rest is run. A failed run is
    recorded with its error and does not stop the sweep; so is a run whose Dask workers kept
    dying under it (three times with --dask local; a run that lost one worker is given to
    another). If the Dask scheduler is lost, the sweep says so and exits with status 3,
    keeping its finished runs: --resume finishes it (on a new scheduler, or without --dask on
    this machine). Writes results.csv (and results.parquet with pyarrow) and comparison.html
    (comparison-by-KEY.html with --by KEY); a start that ran anything appends the table's
    figures to OUT/history.sqlite. With --check, every point is validated and its plans
    compiled, the grid is printed, and nothing runs or is written.

    [bold]Examples[/bold]

      netlab sweep scenarios/sweeps/tiny-policies.toml --check
      netlab sweep scenarios/sweeps/tiny-policies.toml
      netlab sweep scenarios/sweeps/kotim-purchase.toml --workers 2
      netlab sweep scenarios/sweeps/tiny-policies.toml --dask local
      netlab sweep scenarios/sweeps/kotim-purchase.toml --dask tcp://10.0.0.5:8786 --resume
    """
    loaded = _load_sweep(sweep_file, by)
    if check_only:
        print_grid(loaded)
        return
    result = _run_sweep(loaded, workers, dask, out_dir, quiet, resume)
    report = _comparison(result, _by_keys(loaded, by))
    out.print(
        f"{result.sweep.name}: ran {result.ran}, already done {result.skipped}, failed "
        f"{result.failed} (wall {result.wall_s:.1f} s, runs {result.run_s:.1f} s)",
        markup=False,
        highlight=False,
    )
    out.print(f"table: {result.csv_path}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"comparison: {report}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def compare(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep file (TOML).", show_default=False)],
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Grid key(s) to group by, comma-separated (default: every grid key). Groups "
            "may differ only by seed: pooling other grid values is refused.",
        ),
    ] = None,
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
    out_dir: ResultsRootOpt = Path("results"),
    quiet: QuietOpt = False,
    resume: ResumeOpt = False,
) -> None:
    """Compare policies (or any grid key) side by side over seeds, with a plain verdict.

    Runs what is missing of the sweep, then reports per group the mean and 95 % confidence
    interval of each figure, paired differences on common seeds against the best group,
    cost against satisfaction and fairness (Pareto), and a per-site heatmap.

    [bold]Example[/bold]

      netlab compare scenarios/sweeps/tiny-policies.toml --by policy.name
    """
    from sim.analysis.compare import compare as summarise_groups

    loaded = _load_sweep(sweep_file, by)
    keys = _by_keys(loaded, by)
    result = _run_sweep(loaded, workers, dask, out_dir, quiet, resume)
    report = _comparison(result, keys)
    comparison = summarise_groups(result.rows, keys)
    for line in comparison.verdicts:
        out.print(f"- {line}", markup=False, highlight=False)
    out.print(f"comparison: {report}", markup=False, highlight=False, soft_wrap=True)


def _load_sweep(path: Path, by: str | None) -> Sweep:
    """Read and check a sweep file, every point of it, and the --by keys against its grid:
    each must be a grid key, and the groups they make may not pool different points."""
    from sim.analysis.compare import pooled_keys

    loaded = load_sweep(path)
    keys = _by_keys(loaded, by)
    for key in keys:
        if key not in loaded.keys:
            close = nearest(key, loaded.keys)
            hint = f"; did you mean {close}?" if close else ""
            grid = ", ".join(loaded.keys)
            fail(f"--by {key}: not a grid key of {path}{hint} (grid keys: {grid})", 2)
    pooled = pooled_keys([point.values for point in loaded.points], keys)
    if pooled:
        fail(
            f"--by {','.join(keys)}: would pool points of {path} that differ in "
            f"{', '.join(pooled)}; add them: --by {','.join([*keys, *pooled])}",
            2,
        )
    return loaded


def _by_keys(loaded: Sweep, by: str | None) -> list[str]:
    """The --by keys (comma-separated), or every grid key when none is given."""
    if by is None:
        return list(loaded.keys)
    return [key.strip() for key in by.split(",") if key.strip()]


def print_grid(loaded: Sweep) -> None:
    """The points of a checked sweep, their values and hashes, and how many runs they make."""
    table = Table(title=f"{loaded.name}: every point valid", title_justify="left")
    for column in ("point", *loaded.keys, "hash"):
        table.add_column(escape(column), justify="right" if column == "point" else "left")
    for point in loaded.points:
        values = [escape(json.dumps(point.values[k], default=str)) for k in loaded.keys]
        table.add_row(str(point.index), *values, point.hash)
    out.print(table)
    runs = len(loaded.points) * len(loaded.seeds)
    out.print(
        f"{len(loaded.points)} point(s) x {len(loaded.seeds)} seed(s) = {runs} run(s); "
        "nothing was run",
        markup=False,
        highlight=False,
    )


def _run_sweep(
    loaded: Sweep, workers: int | None, dask: str | None, out_dir: Path, quiet: bool, resume: bool
) -> SweepResult:
    """Run what is missing of the sweep with a progress bar and, when it ran anything, append
    its table to OUT/history.sqlite; an unusable or lost --dask scheduler exits 3, saying how
    to resume."""
    from sim.report.history import append, sweep_figures
    from sim.studies.sweep import SchedulerLost, run_sweep

    check_out(out_dir)
    with progress_bar(quiet, f"sweeping {loaded.path.name}") as report, dask_failures(dask):
        try:
            result = run_sweep(loaded, workers, dask, out_dir, report, resume)
        except SchedulerLost as lost:
            fail(
                f"{lost} (kept in {lost.index}); to finish it, run `netlab "
                f"sweep {loaded.path} --resume` with --dask and a live scheduler, or without "
                "--dask on this machine",
                3,
            )
    if result.ran:
        append(out_dir / "history.sqlite", "sweep", loaded.name, sweep_figures(result.rows))
    return result


def _comparison(result: SweepResult, keys: list[str]) -> Path:
    """The comparison page of a sweep's rows grouped by keys; its path."""
    from sim.analysis.compare import file_name
    from sim.report.comparison import compare_report

    path = result.folder / file_name(keys, result.sweep.keys)
    return compare_report(result, result.rows, path, keys)


@app.command()
def gate(
    baseline: Annotated[
        Path, typer.Argument(help="Scenario (TOML) or plan file (JSON).", show_default=False)
    ],
    candidate: Annotated[
        Path, typer.Argument(help="Scenario (TOML) or plan file (JSON).", show_default=False)
    ],
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario", help="Demand and topology for plan files (default: the other side's)."
        ),
    ] = None,
    seeds: Annotated[int, typer.Option("--seeds", "-n", help="Common seeds 1..N.", min=2)] = 3,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Allowed loss of a share (0..1).", min=0)
    ] = 0.02,
    window: Annotated[
        str | None,
        typer.Option("--window", help="HH:MM+DURATION (default: the baseline's optimize window)."),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for junit.xml and summary.md.")
    ] = Path("results/gate"),
    history: Annotated[
        Path, typer.Option("--history", help="SQLite results history to append to.")
    ] = Path("results/history.sqlite"),
) -> None:
    """Fail (exit 1) when a candidate plan serves any site or tier worse than the baseline.

    Both run the same window on seeds 1..N; per site, per tier and for the regency, each
    objective share (satisfaction, busy-hour satisfaction, calls and video at their rate) gets
    the paired difference candidate - baseline with its 95 % CI. A figure regresses when the
    whole interval lies below -tolerance. Sites match by id, else by name. Writes junit.xml
    (one test case per figure) and summary.md, and appends to the results history.

    [bold]Examples[/bold]

      netlab gate scenarios/kotim-baseline.toml my-change.toml
      netlab gate plan-old.json plan-new.json --scenario scenarios/kotim-baseline.toml
      netlab gate base.toml cand.toml --seeds 5 --window 09:00+1h --tolerance 0.01
    """
    from sim.report.gate import headline, publish, table_text
    from sim.studies.gate import default_window, load_sides
    from sim.studies.gate import gate as run_gate

    try:
        sides = load_sides(baseline, candidate, scenario)
    except (ConfigError, ValueError) as exc:
        fail(str(exc), 2)
    span = window_span(window) if window else default_window(sides[0].scenario)
    result = run_gate(*sides, list(range(1, seeds + 1)), span, tolerance)
    out.print(table_text(result), highlight=False, soft_wrap=True)
    for path in publish(result, out_dir, history):
        out.print(f"wrote {path}", highlight=False, soft_wrap=True)
    out.print(headline(result), highlight=False, soft_wrap=True)
    if result.failed:
        raise typer.Exit(1)
