"""The `netlab` command: run scenarios, check them, and (with root) emulate and validate.

Errors in input files and options end in one line naming the file (or option), the key and the
problem, and exit status 2; environment problems (emulation without root, missing Mininet, an
unreachable Dask scheduler) exit with status 3. `main` is the one place that turns them into
that line: commands raise ConfigError or call `fail`. Every value in a message is printed as
text, never as rich markup, so `[/x]` in a file is shown, not interpreted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from sim.model.compiled import StaleCompiledCopy
from sim.model.errors import ConfigError
from sim.model.scenario import STATIC_POLICIES, Scenario, load_scenario
from sim.model.topology import SITE_KINDS, Topology, load_topology
from sim.shaping.plan import ShapingPlan, kernel_quantum
from sim.shaping.schedule import compile_schedule

if TYPE_CHECKING:
    from sim.analysis.optimize import Recommendation
    from sim.analysis.summary import Summary
    from sim.run import RunRecord
    from sim.sweep import Sweep, SweepResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    help="netlab: size and split a shared internet purchase, by simulation and emulation.\n\n"
    "Start with [bold]netlab run scenarios/kotim-baseline.toml[/bold]; scenario keys are "
    "documented in docs/scenario-reference.md.",
)
out = Console()
err = Console(stderr=True)

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
        f"defaults): {', '.join(STATIC_POLICIES)}.",
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


def fail(message: str, status: int) -> NoReturn:
    """Say what is wrong in one line on stderr and exit with status (2 input, 3 environment)."""
    say_error(message)
    raise typer.Exit(status)


def _time_zone(zone: str) -> dt.tzinfo:
    """The --tz option as a time zone, or exit 2 naming it."""
    from sim.measure.formats import parse_zone

    try:
        return parse_zone(zone)
    except ValueError as exc:
        fail(f"--tz: {exc}", 2)


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


def load(
    path: Path, policy: str | None = None, seed: int | None = None, duration: str | None = None
) -> Scenario:
    """Load a scenario with the command line's changes; bad input exits with status 2."""
    try:
        scenario = load_scenario(path)
        if policy is not None:
            scenario = scenario.with_policy(policy)
        if seed is not None:
            scenario = scenario.with_run(seed=seed)
        if duration is not None:
            scenario = scenario.with_run(duration=duration)
        compile_schedule(scenario)  # plan-level input errors ([policy.sites]) surface here
    except ConfigError as exc:
        fail(str(exc), 2)
    return scenario


def check_out(out_dir: Path) -> None:
    """A bad --out exits with status 2 before anything is simulated."""
    from sim.results import check_out_dir

    try:
        check_out_dir(out_dir)
    except ConfigError as exc:
        fail(str(exc), 2)


@app.command()
def run(
    scenario: ScenarioArg,
    policy: PolicyOpt = None,
    seed: SeedOpt = None,
    duration: DurationOpt = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for run folders.")] = Path(
        "results"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Simulate a scenario with the fluid HTB backend and write a run folder with a report.

    [bold]Examples[/bold]

      netlab run scenarios/kotim-baseline.toml
      netlab run scenarios/kotim-baseline.toml --policy max-min --seed 2
      netlab run scenarios/kotim-trial-10d.toml --duration 2d --out /tmp/runs
    """
    loaded = load(scenario, policy, seed, duration)
    check_out(out_dir)
    for warning in compile_schedule(loaded).warnings:
        warn(warning)
    summary, folder = simulate_and_write(loaded, out_dir, quiet)
    print_summary(summary, loaded)
    out.print(f"report: {folder / 'report.html'}", markup=False, highlight=False, soft_wrap=True)
    if (folder / "acceptance.json").exists():
        print_acceptance(folder)


def simulate_and_write(
    scenario: Scenario,
    out_dir: Path,
    quiet: bool,
    extra: dict[str, object] | None = None,
    also: Callable[[Path], object] | None = None,
) -> tuple[Summary, Path]:
    """Run on the fluid backend with a progress bar; write the run folder and its reports."""
    from sim.run import run_scenario

    with _progress_bar(quiet, f"simulating {scenario.name}", scenario.duration) as report:
        record = run_scenario(scenario, progress=report)
    if scenario.duration > DAY_S:
        extra, also = _with_acceptance(record, extra, also)
    return _write_record(record, out_dir, extra, also)


DAY_S = 86400.0


def _with_acceptance(
    record: RunRecord, extra: dict[str, object] | None, also: Callable[[Path], object] | None
) -> tuple[dict[str, object], Callable[[Path], object]]:
    """A multi-day run's folder also gets the acceptance trial: acceptance.json and .html."""
    from sim.analysis.acceptance import acceptance
    from sim.report.acceptance import write_acceptance_report

    def both(folder: Path) -> None:
        write_acceptance_report(folder)
        if also is not None:
            also(folder)

    return {**(extra or {}), "acceptance.json": acceptance(record).to_json()}, both


@app.command()
def optimize(
    scenario: ScenarioArg,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=1, help="Processes (default: all cores)."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for run folders.")] = Path(
        "results"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Find the cheapest purchase and split that meet the scenario's service objectives.

    Searches each policy in \\[optimize] by bisection on the purchase grid (one search per seed;
    the answer is the largest per-seed answer), prices it with the tiered price table, checks
    it on fresh seeds (stepping up until they all pass) and the next cheaper option, finds the
    answer under demand growth, compares it with today's purchase and the budget ceiling, then
    simulates the whole scenario at the answer and writes a run folder with
    recommendation.json (its plan exports with `netlab export`), recommendation.html and the
    run's report. Objectives and search settings are the \\[optimize] keys in
    docs/scenario-reference.md.

    [bold]Examples[/bold]

      netlab optimize scenarios/kotim-baseline.toml
      netlab optimize scenarios/example-small.toml --workers 1
    """
    from sim.analysis.optimize import recommend

    loaded = load(scenario)
    check_out(out_dir)
    with _progress_bar(quiet, "searching purchases") as report:
        answer = recommend(loaded, workers, report)
    if not answer.feasible or answer.scenario is None:
        fail(
            f"{scenario}: optimize: no policy meets the objectives up to "
            f"{loaded.spec.optimize.max_mbps:g} Mbit/s; raise optimize.max_mbps or relax "
            "optimize.objectives",
            4,
        )
    from sim.report.recommendation import write_recommendation_report

    summary, folder = simulate_and_write(
        answer.scenario,
        out_dir,
        quiet,
        extra={"recommendation.json": answer.to_json()},
        also=write_recommendation_report,
    )
    print_recommendation(answer, summary, loaded)
    print_summary(summary, answer.scenario)
    say(f"recommendation: {folder / 'recommendation.json'}")
    say(f"its report: {folder / 'recommendation.html'}")
    say(f"report of the run at the answer: {folder / 'report.html'}")


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
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Results root.")] = Path("results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    check_only: Annotated[
        bool,
        typer.Option("--check", help="Validate every point and print the grid; run nothing."),
    ] = False,
) -> None:
    """Run a grid of scenario variants over seeds; resumable, on all cores or on Dask.

    Finished runs are recorded in results/sweeps/NAME/index.sqlite as they arrive: run the
    same command again after an interruption and only the rest is run. A failed run is
    recorded with its error and does not stop the sweep. Writes results.csv (and
    results.parquet with pyarrow) and comparison.html (comparison-by-KEY.html with --by
    KEY). With --check, every point is
    validated and its plans compiled, the grid is printed, and nothing runs or is written.

    [bold]Examples[/bold]

      netlab sweep scenarios/sweeps/tiny-policies.toml --check
      netlab sweep scenarios/sweeps/tiny-policies.toml
      netlab sweep scenarios/sweeps/kotim-purchase.toml --workers 2
      netlab sweep scenarios/sweeps/tiny-policies.toml --dask local
    """
    loaded = _load_sweep(sweep_file, by)
    if check_only:
        print_grid(loaded)
        return
    result = _run_sweep(loaded, workers, dask, out_dir, quiet)
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
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Results root.")] = Path("results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
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
    result = _run_sweep(loaded, workers, dask, out_dir, quiet)
    report = _comparison(result, keys)
    comparison = summarise_groups(result.rows, keys)
    for line in comparison.verdicts:
        out.print(f"- {line}", markup=False, highlight=False)
    out.print(f"comparison: {report}", markup=False, highlight=False, soft_wrap=True)


def _load_sweep(path: Path, by: str | None) -> Sweep:
    """Read and check a sweep file, every point of it, and the --by keys against its grid:
    each must be a grid key, and the groups they make may not pool different points."""
    from sim.analysis.compare import pooled_keys
    from sim.sweep import load_sweep

    loaded = load_sweep(path)
    keys = _by_keys(loaded, by)
    for key in keys:
        if key not in loaded.keys:
            fail(
                f"--by: {key!r} is not a grid key of {path} (grid keys: {', '.join(loaded.keys)})",
                2,
            )
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
    loaded: Sweep, workers: int | None, dask: str | None, out_dir: Path, quiet: bool
) -> SweepResult:
    from sim.sweep import run_sweep

    check_out(out_dir)
    with _progress_bar(quiet, f"sweeping {loaded.path.name}") as report:
        try:
            return run_sweep(loaded, workers, dask, out_dir, report)
        except ImportError as exc:
            fail(f"--dask needs the cluster extra (pip install 'netlab[cluster]'): {exc}", 3)
        except OSError as exc:
            if dask is None:
                raise
            fail(f"--dask {dask}: cannot reach the Dask scheduler: {exc}", 3)


def _comparison(result: SweepResult, keys: list[str]) -> Path:
    from sim.analysis.compare import file_name
    from sim.report.comparison import compare_report

    path = result.folder / file_name(keys, result.sweep.keys)
    return compare_report(result, result.rows, path, keys)


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
    from sim.analysis.gate import default_window, load_sides
    from sim.analysis.gate import gate as run_gate
    from sim.report.gate import headline, publish, table_text

    try:
        sides = load_sides(baseline, candidate, scenario)
    except (ConfigError, ValueError) as exc:
        fail(str(exc), 2)
    span = _window(window) if window else default_window(sides[0].scenario)
    result = run_gate(*sides, list(range(1, seeds + 1)), span, tolerance)
    out.print(table_text(result), highlight=False, soft_wrap=True)
    for path in publish(result, out_dir, history):
        out.print(f"wrote {path}", highlight=False, soft_wrap=True)
    out.print(headline(result), highlight=False, soft_wrap=True)
    if result.failed:
        raise typer.Exit(1)


@app.command()
def emulate(
    scenario: Annotated[Path | None, typer.Argument(help="Scenario file (TOML).")] = None,
    window: WindowOpt = "09:00+5m",
    scale: ScaleOpt = 1.0,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for run folders.")] = Path(
        "results"
    ),
    cleanup_only: Annotated[
        bool, typer.Option("--cleanup", help="Only remove leftovers of killed earlier runs.")
    ] = False,
) -> None:
    """Run a window of a scenario on real Mininet hosts: kernel HTB, real TCP (needs root).

    The same SimPy demand drives real transfers between the hosts in real time; the run folder
    holds the same files as `netlab run`. Delay and loss are emulated only where the kernel
    has netem (recorded in the manifest). Environment problems exit with status 3.

    [bold]Examples[/bold]

      sudo netlab emulate scenarios/example-small.toml --window 09:00+2m
      sudo netlab emulate scenarios/kotim-baseline.toml --window 09:00+5m --scale 0.5
      sudo netlab emulate --cleanup
    """
    from sim.backends.mininet.cleanup import describe
    from sim.emulate import cleanup
    from sim.emulate import emulate as run_window

    if cleanup_only:
        out.print(describe(cleanup()), highlight=False, markup=False, soft_wrap=True)
        return
    if scenario is None:
        fail("emulate: give a scenario file (or --cleanup)", 2)
    loaded = load(scenario)
    check_out(out_dir)
    start, length = _window(window)
    label = f"emulating {loaded.name} (real time)"
    with _emulation_errors(scenario), _progress_bar(False, label, length) as report:
        record = run_window(loaded, start, length, scale, report)
    summary, folder = _write_record(record, out_dir)
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
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for run folders.")] = Path(
        "results"
    ),
) -> None:
    """Run a scenario on both backends and compare them class by class (needs root).

    By default a window of the demand runs on both with the same seed; the kernel's run folder
    gets validation.csv and validation.html (throughput per site and direction). With
    --stress every site is greedy under the plan in force at the window's time, so every class
    is contended: the kernel's class counters against the fluid allocation, the error as a
    share of the root's rate, in stress.csv.

    [bold]Examples[/bold]

      sudo netlab validate scenarios/example-small.toml --window 09:00+2m
      sudo netlab validate scenarios/kotim-baseline.toml --policy htb-priority --stress --scale 0.2
    """
    loaded = load(scenario, policy)
    start, length = _window(window or ("09:00+10s" if stress else "09:00+2m"))
    if stress:
        _validate_stress(scenario, loaded, start, length, scale, out_dir)
    else:
        _validate_window(scenario, loaded, start, length, scale, out_dir)


def _validate_window(
    path: Path, loaded: Scenario, start: float, length: float, scale: float, out_dir: Path
) -> None:
    """`validate` without --stress: the same window of demand on both backends."""
    from sim.emulate import validate as compare_window
    from sim.report.validation import write_validation

    with _emulation_errors(path):
        result = compare_window(loaded, start, length, scale)
    rows = [r.as_dict() for r in result.rows]
    _, folder = _write_record(
        result.kernel, out_dir, also=lambda f: write_validation(f, rows, loaded.name)
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
            _fmt(r.rel_diff * 100, "+.1f", suffix=" %") if r.fluid_bps > 0 else "n/a",
        )
    out.print(table)
    out.print(f"validation: {folder / 'validation.html'}", highlight=False, soft_wrap=True)


def _validate_stress(
    path: Path, loaded: Scenario, start: float, length: float, scale: float, out_dir: Path
) -> None:
    """`validate --stress`: every site greedy; print the largest per-class errors."""
    from sim.emulate import stress

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
        out.print(
            f"{direction}: worst {worst.class_id} {worst.error * 100:+.2f} % of the root",
            highlight=False,
        )
    out.print(f"stress: {folder / 'stress.csv'}", highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _emulation_errors(scenario: Path) -> Iterator[None]:
    """Environment problems exit 3, a window outside the scenario 2, a signal 143."""
    from sim.emulate import EmulationUnavailable, Terminated

    try:
        yield
    except EmulationUnavailable as exc:
        fail(str(exc), 3)
    except Terminated as exc:
        fail(f"stopped by {exc}; the emulated network was removed", 143)
    except ValueError as exc:
        fail(f"{scenario}: --window: {exc}", 2)


def _window(text: str) -> tuple[float, float]:
    from sim.emulate import parse_window

    try:
        return parse_window(text)
    except ValueError as exc:
        fail(f"--window: {exc}", 2)


def _write_record(
    record: RunRecord,
    out_dir: Path,
    extra: dict[str, object] | None = None,
    also: Callable[[Path], object] | None = None,
) -> tuple[Summary, Path]:
    """Summarise a record and write its run folder with the report."""
    from sim.analysis.metrics import summarize
    from sim.report.run_report import write_report
    from sim.results import write_run

    summary = summarize(record)
    return summary, write_run(record, summary.to_json(), out_dir, write_report, extra, also)


def print_recommendation(answer: Recommendation, summary: Summary, scenario: Scenario) -> None:
    """The answer, its checks, each policy's and each growth's need, then the frontier."""
    fresh, money = answer.fresh_seeds, answer.finance
    assert fresh is not None and answer.mbps is not None and money is not None
    at_answer, at_cheaper = fresh.at_answer, fresh.at_cheaper
    table = Table(title="optimum usage number", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    searched = answer.searched_mbps
    rows = [
        ("recommended purchase", f"{answer.mbps:g} Mbit/s with {answer.policy}"),
        ("cost", f"Rp{answer.monthly_idr:,.0f}/month, Rp{answer.yearly_idr:,.0f}/year"),
        (
            f"against today's {money.current_mbps:g} Mbit/s "
            f"(Rp{money.current_yearly_idr:,.0f}/year)",
            f"saves Rp{money.savings_yearly_idr:,.0f}/year",
        ),
        ("idle capacity (a year at this day's use)", f"Rp{summary.idle_yearly_idr:,.0f}"),
        (
            f"on {len(at_answer.probes)} fresh seeds",
            ("meets the objectives" if at_answer.feasible else "misses the objectives")
            + f" (each seed alone: {at_answer.seeds_meeting} of {len(at_answer.probes)})"
            + (f"; search alone found {searched:g}" if searched != answer.mbps else ""),
        ),
    ]
    if money.budget_yearly_idr is not None and money.below_budget_yearly_idr is not None:
        rows.insert(
            3,
            (
                f"against the ceiling of Rp{money.budget_yearly_idr:,.0f}/year",
                f"Rp{money.below_budget_yearly_idr:,.0f}/year below it"
                if money.below_budget_yearly_idr >= 0
                else f"Rp{-money.below_budget_yearly_idr:,.0f}/year OVER it",
            ),
        )
    if at_cheaper is not None and fresh.cheaper_mbps is not None:
        rows.append(
            (
                f"next cheaper option ({fresh.cheaper_mbps:g} Mbit/s, "
                f"Rp{12 * _monthly(scenario, fresh.cheaper_mbps):,.0f}/year)",
                "meets them too" if at_cheaper.feasible else "misses them",
            )
        )
    rows += _needs(answer)
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    print_frontier(answer)


def _monthly(scenario: Scenario, mbps: float) -> float:
    from sim.analysis.optimize import monthly_cost

    return monthly_cost(scenario, mbps)


def _needs(answer: Recommendation) -> list[tuple[str, str]]:
    """What each policy and each demand growth needs."""
    rows = []
    for policy, found in answer.policies.items():
        value = "infeasible on the grid" if found.mbps is None else f"{found.mbps:g} Mbit/s"
        rows.append((f"{policy} needs", value))
    for growth, found in answer.growth.items():
        value = "above the grid" if found.mbps is None else f"{found.mbps:g} Mbit/s"
        rows.append((f"with demand x{growth}", value))
    return rows


def print_frontier(answer: Recommendation) -> None:
    """Every purchase simulated for the chosen policy, the answer among them: cost and verdict."""
    assert answer.policy is not None
    frontier = Table(title=f"frontier ({answer.policy}, mean over seeds)", title_justify="left")
    for column in ("Mbit/s", "Rp/month", "Rp/Mbit/s", "meets", "misses", "what"):
        frontier.add_column(column, justify="left" if column in ("misses", "what") else "right")
    for row in answer.frontier:
        frontier.add_row(
            f"{row.mbps:g}",
            f"{row.monthly_idr:,.0f}",
            f"{row.idr_per_mbps_month:,.0f}",
            "yes" if row.feasible else "no",
            (", ".join(row.missed) or "-")
            if len(row.missed) <= 2
            else f"{len(row.missed)} objectives",
            row.role,
        )
    out.print(frontier)


@app.command()
def check(scenario: ScenarioArg, policy: PolicyOpt = None) -> None:
    """Validate a scenario and print the resolved shaping plan(s) and their warnings.

    [bold]Example[/bold]

      netlab check scenarios/example-small.toml
    """
    loaded = load(scenario, policy)
    schedule = compile_schedule(loaded)
    served, unserved = loaded.sites, loaded.unserved
    out.print(
        f"[bold]{escape(loaded.name)}[/bold]: {len(served)} sites served "
        f"({sum(s.users for s in served)} users), {len(unserved)} unreached; purchase "
        f"{loaded.spec.purchase.upstream_mbps:g} Mbit/s, "
        f"Rp{loaded.monthly_cost_idr:,.0f}/month"
    )
    for period in schedule.periods:
        out.print(f"\n{period.days} {_clock(period.start)}-{_clock(period.end)}:")
        print_plan(period.plan)
    if schedule.periods:
        out.print("\notherwise:")
    print_plan(schedule.otherwise)
    for warning in schedule.warnings:
        warn(warning)
    out.print("[green]ok[/green]")


@app.command()
def export(
    plan_file: Annotated[
        Path,
        typer.Argument(
            help="A scenario (TOML; its plan is compiled), a plan file (JSON, from "
            "`netlab export --format json`) or the optimiser's recommendation.json.",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="tc (Linux HTB + u32), mikrotik or json.")
    ] = "tc",
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="For a schedule: export the plan in force at this local "
            "time, e.g. 'Tue 09:00' or '09:00' (default: the 'otherwise' plan).",
        ),
    ] = None,
    topology: Annotated[
        Path | None,
        typer.Option(
            "--topology",
            "-t",
            help="For a JSON plan: the topology whose subnets and hub interfaces to use "
            "(a scenario brings its own).",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Turn a shaping plan into deployable configuration.

    Site addresses, the hub's interfaces and NAT come from the topology (the sites' subnets,
    the hub's lan_interface, wan_interface and nat); whatever it does not say is a placeholder
    (sites 10.A.B.0/24), flagged in the output and on stderr.

    [bold]Examples[/bold]

      netlab export scenarios/kotim-baseline.toml --format tc > kotim-tc.sh
      netlab export scenarios/kotim-baseline.toml --format mikrotik -o kotim.rsc
      netlab export plan.json --format tc --topology topologies/kotim.toml
      netlab export results/RUN/recommendation.json --format mikrotik
    """
    from sim.shaping.deployment import deployment
    from sim.shaping.export import FORMATS
    from sim.shaping.export import export as render

    if fmt not in FORMATS:
        fail(f"--format: unknown format {fmt!r} (use one of: {', '.join(FORMATS)})", 2)
    if output is not None and output.is_dir():
        fail(f"--output: {output} is a directory; give a file name, e.g. {output / 'plan.sh'}", 2)
    plan, inventory = _export_input(plan_file, at, topology)
    where = deployment(plan, inventory)
    assumed = "; ".join(where.placeholders) if fmt != "json" else ""
    _deliver(render(plan, fmt, where), output, assumed)


def _deliver(text: str, output: Path | None, assumed: str) -> None:
    """Write the export to output or stdout; say on stderr what in it is a placeholder."""
    if assumed:
        warn(f"placeholders in the output: {assumed}")
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text)
    except OSError as exc:
        fail(f"--output: cannot write {output}: {exc.strerror or exc}", 2)
    err.print(f"wrote {output}", markup=False, highlight=False, soft_wrap=True)


def _export_input(
    path: Path, at: str | None, topology: Path | None
) -> tuple[ShapingPlan, Topology | None]:
    """The plan to export and the Topology saying where it goes, or None (bad input: status 2)."""
    from sim.shaping.planfile import load_plan_file

    try:
        if path.suffix == ".json":
            inventory = load_topology(topology) if topology is not None else None
            return load_plan_file(path), inventory
        if topology is not None:
            fail("--topology: only for a JSON plan (a scenario names its own topology)", 2)
    except ConfigError as exc:
        fail(str(exc), 2)
    scenario = load(path)
    schedule = compile_schedule(scenario)
    return schedule.otherwise if at is None else schedule.plan_at(_moment(at)), scenario.topology


def _moment(text: str) -> dt.datetime:
    """'Tue 09:00' or '09:00' as a moment in the week of 31 January 2022 (a Monday)."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    parts = text.lower().split()
    day = days.index(parts[0][:3]) if len(parts) == 2 and parts[0][:3] in days else 0
    clock = parts[-1]
    try:
        hours, minutes = (int(x) for x in clock.split(":"))
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError(clock)
        return dt.datetime(2022, 1, 31) + dt.timedelta(days=day, hours=hours, minutes=minutes)
    except ValueError:
        fail(f"--at: not a time: {text!r} (use e.g. '09:00' or 'Sat 19:00')", 2)


def print_plan(plan: ShapingPlan) -> None:
    table = Table(title=f"{plan.policy} (down; up is the same shape)", title_justify="left")
    for column in ("class", "parent", "rate Mbit/s", "ceil Mbit/s", "prio", "quantum B"):
        table.add_column(column, justify="left" if column in ("class", "parent") else "right")
    for c in plan.down.classes:
        table.add_row(
            c.id,
            c.parent or "-",
            f"{c.rate / 1e6:.2f}",
            f"{c.ceil / 1e6:.2f}",
            str(c.prio),
            str(c.quantum) if c.quantum is not None else f"({kernel_quantum(c)})",
        )
    out.print(table)


def _fmt(value: float | None, spec: str, prefix: str = "", suffix: str = "") -> str:
    """Format a figure; None (nothing to measure) reads "n/a"."""
    return "n/a" if value is None else f"{prefix}{value:{spec}}{suffix}"


def print_summary(summary: Summary, scenario: Scenario) -> None:
    """The run's headline figures, and the worst-served site of each kind."""
    overall, down, cost = summary.overall, summary.upstream["down"], summary.cost
    table = Table(
        title=f"{scenario.name}: {scenario.spec.policy.name}, "
        f"{scenario.spec.purchase.upstream_mbps:g} Mbit/s",
        title_justify="left",
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    busy = overall.busy_hour
    rows = [
        ("satisfaction (delivered/offered)", _fmt(overall.satisfaction, ".3f")),
        (
            "busy-hour satisfaction",
            "n/a" if busy is None else _fmt(busy.satisfaction, ".3f", suffix=f" at {busy.local}"),
        ),
        (
            "busy hour offered down / up",
            "n/a"
            if busy is None
            else f"{busy.offered_down_mbps:.1f} / {busy.offered_up_mbps:.1f} Mbit/s",
        ),
        ("Jain's index over sites", _fmt(overall.jain_index, ".3f")),
        ("paced flows at their needed rate", _fmt(overall.paced_at_rate_share, ".1%")),
        ("unmet demand", _fmt(overall.unmet_gb, ".1f", suffix=" GB")),
        (
            "down utilisation mean / p95",
            _fmt(down.mean_utilisation, ".2f") + " / " + _fmt(down.p95_utilisation, ".2f"),
        ),
        ("95th-percentile billing (down)", _fmt(down.billing95_mbps, ".0f", suffix=" Mbit/s")),
        ("cost per delivered GB", _fmt(cost.per_delivered_gb_idr, ",.0f", prefix="Rp")),
        ("idle capacity (this period)", _fmt(cost.idle_idr, ",.0f", prefix="Rp")),
    ]
    for kind in SITE_KINDS:
        worst = summary.worst_site(kind)
        if worst is not None:
            rows.append(
                (
                    f"{kind}s: worst satisfaction",
                    _fmt(worst.satisfaction, ".3f", suffix=f" ({worst.id})"),
                )
            )
    if summary.unserved:
        rows.append(("unreached sites (not simulated)", str(len(summary.unserved))))
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    print_objectives(summary)


def print_acceptance(folder: Path) -> None:
    """A multi-day run's acceptance verdict, its counts and the first failed checks."""
    import json

    from sim.analysis.acceptance import Acceptance
    from sim.report.acceptance import failures

    data = Acceptance.from_json(json.loads((folder / "acceptance.json").read_text()))
    counts = data.counts
    colour = "green" if data.verdict == "pass" else "bold red"
    out.print(
        f"acceptance trial {data.days[0]} to {data.days[-1]}: "
        f"[{colour}]{data.verdict.upper()}[/{colour}] ({counts['pass']} checks passed, "
        f"{counts['fail']} failed, {counts['n/a']} not applicable)",
        highlight=False,
    )
    for line in failures(data)[:10]:
        out.print(f"  failed: {line}", highlight=False)
    out.print(f"acceptance: {folder / 'acceptance.html'}", highlight=False, soft_wrap=True)


def print_objectives(summary: Summary) -> None:
    """summary.json's objectives: each figure against its target, the site that sets it."""
    table = Table(title="objectives (each kind's busy windows)", title_justify="left")
    for column in ("objective", "value", "target", "verdict", "site"):
        table.add_column(column, justify="left" if column in ("objective", "site") else "right")
    for row in summary.objectives:
        sign = "<=" if row.better == "lower" else ">="
        verdict = {True: "met", False: "[bold red]MISSED[/bold red]", None: "-"}[row.met]
        table.add_row(
            row.name,
            _fmt(row.value, ".3f"),
            "info" if row.target is None else f"{sign} {row.target:g}",
            verdict,
            row.site or "",
        )
    out.print(table)


@contextlib.contextmanager
def _progress_bar(
    quiet: bool, label: str, total: float | None = None
) -> Iterator[Callable[[float, float], None]]:
    """One task's progress bar, as the callback report(done, total) that the work calls;
    the total reported is used when none is given here."""
    with _progress(quiet) as bar:
        task = bar.add_task(label, total=total)

        def report(done: float, reported: float) -> None:
            bar.update(task, completed=done, total=reported if total is None else total)

        yield report


def _progress(quiet: bool) -> Progress:
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


def _clock(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


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


@app.command("import-counters")
def import_counters(
    files: Annotated[list[Path], typer.Argument(help="Counter files.", show_default=False)],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="mrtg, rrd-xport, rrd-fetch, mikrotik or csv.")
    ],
    scenario: Annotated[
        Path, typer.Option("--scenario", help="Scenario whose topology maps the interfaces.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for measured.csv.")],
    mapping: Annotated[
        Path | None, typer.Option("--map", help='TOML file: interface = "site id".')
    ] = None,
    zone: Annotated[str, typer.Option("--tz", help="Clock of naive times: WIB, +07:00...")] = "WIB",
    interface: Annotated[
        str | None, typer.Option("--interface", help="Name for one-interface files (MRTG, RRD).")
    ] = None,
) -> None:
    """Read interface counters into OUT/measured.csv (per site, down and up bytes).

    Wraps, resets, gaps, duplicate and out-of-order rows and interval changes are handled and
    each is reported; OUT/import.json lists them all.

    [bold]Example[/bold]

      netlab import-counters ether5.log ether6.log -f mrtg --scenario S.toml --out DIR
      python scenarios/measured/make_synthetic.py   (makes the synthetic example's counters)
      netlab import-counters scenarios/measured/kotim-synthetic/counters.csv.gz -f csv
        --scenario scenarios/measured/kotim-deployed.toml
        --map scenarios/measured/kotim-synthetic/interfaces.toml --out results/measured
    """
    from sim.measure.formats import FORMATS

    if fmt not in FORMATS:
        fail(f"--format: unknown format {fmt!r} (use {', '.join(FORMATS)})", 2)
    tz = _time_zone(zone)
    loaded = load(scenario)
    try:
        report = _import(files, fmt, tz, interface, loaded, mapping, out_dir)
    except ConfigError as exc:
        fail(str(exc), 2)
    _print_import(report)
    out.print(f"measured: {out_dir / 'measured.csv'}", highlight=False, soft_wrap=True)


def _import(
    files: list[Path],
    fmt: str,
    tz: dt.tzinfo,
    interface: str | None,
    scenario: Scenario,
    mapping: Path | None,
    out_dir: Path,
) -> dict[str, object]:
    """Read, clean, map and write; returns what import.json holds."""
    import json

    from sim.measure.counters import clean
    from sim.measure.formats import read
    from sim.measure.sites import interface_map, to_sites, write_measured

    readings = [r for path in files for r in read(path, fmt, tz, interface)]  # type: ignore[arg-type]
    intervals, events = clean(readings, max_bps=scenario.topology.hub.link_mbps * 1e6 * 10)
    hub = scenario.topology.hub.id
    rows, unmapped = to_sites(intervals, interface_map(scenario.topology, mapping), hub)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_measured(out_dir / "measured.csv", rows, tz)
    report: dict[str, object] = {
        "files": [str(f) for f in files],
        "format": fmt,
        "intervals": len(rows),
        "unmapped_interfaces": unmapped,
        "events": [e.__dict__ for e in events],
    }
    (out_dir / "import.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report


def _print_import(report: dict[str, object]) -> None:
    from collections import Counter

    events = report["events"]
    assert isinstance(events, list)
    counts = Counter((e["interface"], e["kind"]) for e in events)
    table = Table("interface", "what", "count", "first")
    for (name, kind), count in sorted(counts.items()):
        first = next(e for e in events if e["interface"] == name and e["kind"] == kind)
        table.add_row(name, kind, str(count), f"line {first['line']}: {first['detail']}")
    out.print(f"{report['intervals']} site intervals read", highlight=False)
    if counts:
        out.print(table)
    for name in report["unmapped_interfaces"]:  # type: ignore[attr-defined]
        warn(f"interface {name} maps to no site; left out")


@app.command()
def calibrate(
    measured: Annotated[
        Path, typer.Argument(help="measured.csv, or the folder import-counters wrote.")
    ],
    scenario: Annotated[Path, typer.Option("--scenario", help="The scenario to start from.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The calibrated scenario.")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Goodness-of-fit page (default: OUT.html).")
    ] = None,
    zone: Annotated[str, typer.Option("--tz", help="The sites' clock: WIB, +07:00...")] = "WIB",
) -> None:
    """Fit each site's demand to its counters; write the calibrated scenario and a report.

    Hours in which a site sat at its shaper's ceiling are censored: their demand is estimated
    from the site's other hours and marked so. The calibrated scenario records where each
    figure came from (measured, fitted, estimated, assumed).

    [bold]Example[/bold]

      netlab calibrate results/measured --scenario scenarios/measured/kotim-deployed.toml
        --out results/kotim-calibrated.toml
    """
    from sim.analysis.calibrate import calibrate as fit
    from sim.analysis.calibrated_file import calibrated_text
    from sim.measure.sites import read_measured
    from sim.report.calibration import write_calibration_report

    tz = _time_zone(zone)
    start = load(scenario)
    try:
        rows = read_measured(measured)
        calibrated, result = fit(start, rows, tz, source=str(measured))
        text = calibrated_text(scenario, calibrated, out_file)
    except ConfigError as exc:
        fail(str(exc), 2)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(text, encoding="utf-8")
    load(out_file)  # what was written loads back
    page = report or out_file.with_suffix(".html")
    write_calibration_report(page, result, start.name)
    _print_calibration(result)
    out.print(f"calibrated: {out_file}\nreport: {page}", highlight=False, soft_wrap=True)


def _print_calibration(result: object) -> None:
    from sim.analysis.calibration import Calibration

    assert isinstance(result, Calibration)
    table = Table("site", "scale", "busy h Mbit/s meas / fit", "GB/day meas / fit", "censored")
    for fit in result.sites:
        m, f = fit.measured, fit.fitted
        table.add_row(
            fit.site.id,
            f"{fit.scale:.2f}",
            f"{m.busy_hour_mbps:.1f} / {f.busy_hour_mbps:.1f}",
            f"{m.daily_gb:.1f} / {f.daily_gb:.1f}",
            f"{fit.censored_samples} of {fit.samples}" if fit.censored else "",
        )
    out.print(table)
    for note in result.notes:
        err.print(Text.assemble(("note: ", "yellow"), one_line(note)), soft_wrap=True)


@app.command()
def whatif(
    scenario: ScenarioArg,
    connect: Annotated[
        list[str],
        typer.Option(
            "--connect",
            help="SITE=OPTION,OPTION...: an unreached site and the last-mile options to try "
            "(repeat for more sites; every combination runs).",
        ),
    ],
    seeds: Annotated[int, typer.Option("--seeds", min=2, max=100, help="Seeds 1..N.")] = 5,
    window: Annotated[
        str | None,
        typer.Option("--window", help="HH:MM+DURATION (default: the optimiser's window)."),
    ] = None,
    optimize: Annotated[
        bool,
        typer.Option(
            "--optimize",
            help="Also find the cheapest purchase keeping every objective with the cheapest "
            "good combination connected (runs the optimiser: about 1.5 minutes more).",
        ),
    ] = False,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Results root.")] = Path("results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """What connecting unreached sites gives: every combination of their options, on common seeds.

    Runs the short window with none of them connected and with every combination, on the
    same seeds; prints and writes (whatif.html, whatif.json) each combination's monthly and
    yearly cost, the new sites' throughput, web page-load p50/p95, call MOS and at-rate
    share, and what connecting them takes from the sites already served, with 95 % intervals.

    [bold]Example[/bold]

      netlab whatif scenarios/kotim-baseline.toml --connect kec_seranau=vsat,lte,radio
        --connect kec_plhanaut=vsat,lte
    """
    from sim.analysis.whatif import verdicts

    loaded = load(scenario)
    choices = _connect_options(connect)
    span = _window(window) if window else None
    check_out(out_dir)
    combos = _run_whatif(loaded, choices, seeds, span, quiet)
    lines = verdicts(combos, list(choices))
    if optimize:
        lines.append(_whatif_purchase(loaded, combos, list(choices)))
    for line in lines:
        out.print(f"- {line}", markup=False, highlight=False, soft_wrap=True)
    report = _whatif_files(out_dir / "whatif" / loaded.name, loaded.name, combos, choices, lines)
    out.print(f"what-if: {report}", markup=False, highlight=False, soft_wrap=True)


def _run_whatif(
    loaded: Scenario,
    choices: dict[str, list[str]],
    seeds: int,
    span: tuple[float, float] | None,
    quiet: bool,
) -> list:
    """Every combination on seeds 1..N with a progress bar; bad options exit with status 2."""
    from sim.analysis.whatif import whatif as run_whatif

    with _progress_bar(quiet, f"what-if {loaded.name}") as report:
        try:
            return run_whatif(loaded, choices, list(range(1, seeds + 1)), span, report)
        except ConfigError as exc:
            fail(str(exc), 2)


def _whatif_purchase(loaded: Scenario, combos: list, new_sites: list[str]) -> str:
    """The optimiser's purchase for the cheapest good combination, as a sentence."""
    from sim.analysis.whatif import cheapest_good, purchase_line

    best = cheapest_good(combos, new_sites)
    if best is None:
        return "no combination gives calls at MOS 3.6 or better: nothing to optimise"
    return purchase_line(loaded, best)


def _connect_options(values: list[str]) -> dict[str, list[str]]:
    """["kec_a=vsat,lte", ...] -> {"kec_a": ["vsat", "lte"]}; bad text exits with status 2."""
    choices: dict[str, list[str]] = {}
    for text in values:
        site, _, options = text.partition("=")
        names = [o.strip() for o in options.split(",") if o.strip()]
        if not site.strip() or not names:
            fail(f"--connect {text!r}: use SITE=OPTION,OPTION (e.g. kec_seranau=vsat,radio)", 2)
        if site.strip() in choices:
            fail(f"--connect: site {site.strip()!r} is given twice", 2)
        choices[site.strip()] = names
    return choices


def _whatif_files(
    folder: Path, name: str, combos: list, choices: dict[str, list[str]], lines: list[str]
) -> Path:
    """whatif.json (every run's figures) and whatif.html in `folder`; the page's path."""
    from sim.analysis.whatif import WhatIfResult
    from sim.report.whatif import whatif_report

    folder.mkdir(parents=True, exist_ok=True)
    result = WhatIfResult(choices, lines, combos)
    (folder / "whatif.json").write_text(json.dumps(result.to_json(), indent=1), encoding="utf-8")
    return whatif_report(folder / "whatif.html", name, result)


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
