"""`netlab run` and `netlab optimize`: simulate a scenario, or find its cheapest purchase, and
write a run folder with its reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import fail, out, progress_bar, say, warn
from sim.cli.folders import simulate_and_write
from sim.cli.inputs import check_out, choose, flows_format, load
from sim.cli.options import (
    DaskOpt,
    DurationOpt,
    FlowsOpt,
    PolicyOpt,
    QuietOpt,
    RunFoldersOpt,
    ScenarioArg,
    SeedOpt,
    WorkersOpt,
    app,
)
from sim.cli.tables import print_acceptance, print_recommendation, print_summary
from sim.model.scenario_schema import TARGETS
from sim.shaping.schedule import compile_schedule

# The optimiser and its report are imported where used: they bring in NumPy, SimPy, asyncio
# and plotly, which `netlab --help` does not need.

TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="Where the plan is deployed: linux (tc) or routeros, whose queues have no "
        "quantum (default: the scenario's \\[network] target).",
        show_default=False,
    ),
]


WRITTEN = (
    ("recommendation", "recommendation.json"),
    ("its report", "recommendation.html"),
    ("report of the run at the answer", "report.html"),
)


@app.command()
def run(
    scenario: ScenarioArg,
    policy: PolicyOpt = None,
    seed: SeedOpt = None,
    duration: DurationOpt = None,
    out_dir: RunFoldersOpt = Path("results"),
    quiet: QuietOpt = False,
    flows: FlowsOpt = "parquet",
    workers: WorkersOpt = None,
    dask: DaskOpt = None,
) -> None:
    """Simulate a scenario with the fluid HTB backend and write a run folder with a report.

    A scenario with \\[scenario] by_day = true (a year: scenarios/kotim-year.toml) runs as
    independent days on --workers processes (or on Dask with --dask) and writes the year's
    figures and year.html.

    [bold]Examples[/bold]

      netlab run scenarios/kotim-baseline.toml
      netlab run scenarios/kotim-baseline.toml --policy max-min --seed 2
      netlab run scenarios/kotim-trial-10d.toml --duration 2d --out /tmp/runs --flows none
      netlab run scenarios/kotim-year.toml --duration 14d --workers 2
      netlab run scenarios/kotim-year.toml --dask local --workers 2
    """
    kept = flows_format(flows)
    loaded = load(scenario, policy, seed, duration)
    check_out(out_dir)
    if loaded.spec.scenario.by_day:
        from sim.cli.by_day import simulate_by_day

        simulate_by_day(loaded, out_dir, quiet, workers, kept, dask)
        return
    if dask is not None:
        fail("--dask: only a by-day scenario ([scenario] by_day = true) runs on Dask", 2)
    for warning in compile_schedule(loaded).warnings:
        warn(warning)
    summary, folder = simulate_and_write(loaded, out_dir, quiet, flows=kept)
    print_summary(summary, loaded)
    out.print(f"report: {folder / 'report.html'}", markup=False, highlight=False, soft_wrap=True)
    if (folder / "acceptance.json").exists():
        print_acceptance(folder)


@app.command()
def optimize(
    scenario: ScenarioArg,
    workers: WorkersOpt = None,
    out_dir: RunFoldersOpt = Path("results"),
    quiet: QuietOpt = False,
    target: TargetOpt = None,
    flows: FlowsOpt = "parquet",
) -> None:
    """Find the cheapest purchase and split that meet the scenario's service objectives.

    Searches each policy in \\[optimize] by bisection on the purchase grid, every probe the
    scenario's whole run judged as `netlab run` judges it (figures averaged over the seeds),
    prices it with the tiered price table, checks
    it on fresh seeds (stepping up until they all pass) and the next cheaper option, finds the
    answer under demand growth, compares it with today's purchase and the budget ceiling, then
    simulates the whole scenario at the answer and writes a run folder with
    recommendation.json (its plan exports with `netlab export`), recommendation.html and the
    run's report. Objectives and search settings are the \\[optimize] keys in
    docs/scenario-reference.md.

    [bold]Examples[/bold]

      netlab optimize scenarios/kotim-baseline.toml
      netlab optimize scenarios/example-small.toml --workers 1
      netlab optimize scenarios/kotim-baseline.toml --target routeros
    """
    from sim.report.recommendation import write_recommendation_report
    from sim.studies.optimize.recommend import recommend
    from sim.studies.upstream import interval_line, with_interval_growth

    kept = flows_format(flows)
    loaded = load(scenario)
    if target is not None:
        chosen = TARGETS.index(choose("--target", target, TARGETS, "target"))
        loaded = loaded.with_target(TARGETS[chosen])
    check_out(out_dir)
    loaded, interval = with_interval_growth(loaded)
    with progress_bar(quiet, "searching purchases") as report:
        answer = recommend(loaded, workers, report)
    if not answer.feasible or answer.scenario is None:
        fail(
            f"{scenario}: optimize: no policy meets the objectives up to "
            f"{loaded.spec.optimize.max_mbps:g} Mbit/s; raise optimize.max_mbps or relax "
            "optimize.objectives",
            4,
        )
    summary, folder = simulate_and_write(
        answer.scenario,
        out_dir,
        quiet,
        extra={"recommendation.json": answer.to_json()},
        also=write_recommendation_report,
        flows=kept,
    )
    print_recommendation(answer, summary, loaded)
    if interval is not None:
        say(interval_line(answer, interval, loaded))
    print_summary(summary, answer.scenario)
    for what, name in WRITTEN:
        say(f"{what}: {folder / name}")
