"""`netlab check` and `netlab export`: a scenario validated with its plans printed, and a
shaping plan turned into deployable configuration (tc, RouterOS, LibreQoS or JSON)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.console import err, fail, out, warn
from sim.cli.inputs import choose, load
from sim.cli.options import PolicyOpt, ScenarioArg, app
from sim.cli.tables import print_plan
from sim.model.errors import ConfigError
from sim.model.filekind import TAKES, kind_of, wrong_kind
from sim.model.topology import Topology, load_topology
from sim.shaping.deployment import Deployment, deployment
from sim.shaping.export import FILE_SETS, FORMATS, placeholders, write_files
from sim.shaping.export import export as render
from sim.shaping.plan import ShapingPlan
from sim.shaping.planfile import load_plan_file
from sim.shaping.routeros import quantum_losses
from sim.shaping.schedule import compile_schedule

ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="With -f mikrotik: write a plan that splits spare capacity by HTB quantum, which "
        "RouterOS has not, anyway (the difference in its header; else refused).",
    ),
]


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
            "`netlab export --format json`), the optimiser's recommendation.json or the run "
            "folder of `netlab optimize` that holds it.",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="tc, mikrotik, json or libreqos (-o: a folder).")
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
    force: ForceOpt = False,
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
      netlab export scenarios/kotim-baseline.toml --format libreqos -o libreqos/
      netlab export results/RUN --format tc   (the run folder's recommendation.json)
    """
    choose("--format", fmt, FORMATS, "format")
    if output is not None and output.is_dir() and fmt not in FILE_SETS:
        fail(f"--output: {output} is a directory; give a file name, e.g. {output / 'plan.sh'}", 2)
    plan, inventory = _export_input(plan_file, at, topology)
    where = deployment(plan, inventory)
    assumed = "; ".join(placeholders(fmt, where))
    if fmt in FILE_SETS and output is not None:
        _deliver_files(plan, fmt, where, output, assumed)
        return
    _deliver(_render(plan, fmt, where, force), output, assumed)


def _deploys_as_simulated(plan: ShapingPlan) -> None:
    """Refuse (status 2) a RouterOS script of a plan whose spare split relies on quanta."""
    lost = quantum_losses(plan)
    if lost:
        fail(
            "--format mikrotik: the plan was simulated for Linux tc, and RouterOS has "
            f"no HTB quantum: {lost[0]} Simulate it for RouterOS (netlab optimize --target "
            'routeros, or [network] target = "routeros") or add --force to write it anyway '
            "with the difference in its header",
            2,
        )


def _render(plan: ShapingPlan, fmt: str, where: Deployment, force: bool) -> str:
    """The export as text; a plan the format cannot hold, or RouterOS cannot deploy as
    simulated (unless forced), is one line (status 2)."""
    if fmt == "mikrotik" and not force:
        _deploys_as_simulated(plan)
    try:
        return render(plan, fmt, where)
    except ValueError as exc:
        fail(f"--format {fmt}: {exc}", 2)


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


def _deliver_files(
    plan: ShapingPlan, fmt: str, where: Deployment, directory: Path, assumed: str
) -> None:
    """Write a format of several files into directory; say so, and what is a placeholder."""
    if assumed:
        warn(f"placeholders in the output: {assumed}")
    try:
        written = write_files(plan, fmt, where, directory)
    except ValueError as exc:
        fail(f"--format {fmt}: {exc}", 2)
    except OSError as exc:
        fail(f"--output: cannot write into {directory}: {exc.strerror or exc}", 2)
    for path in written:
        err.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)


def _export_input(
    path: Path, at: str | None, topology: Path | None
) -> tuple[ShapingPlan, Topology | None]:
    """The plan to export and the Topology saying where it goes, or None (bad input: status 2)."""
    try:
        if path.is_dir():
            path = _recommendation_in(path)
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


def _recommendation_in(folder: Path) -> Path:
    """A run folder's recommendation.json (what `netlab optimize` left to deploy); a folder
    without one is named as what it is, with what to export instead (bad input: status 2)."""
    recommendation = folder / "recommendation.json"
    if recommendation.is_file():
        err.print(f"exporting {recommendation}", markup=False, highlight=False, soft_wrap=True)
        return recommendation
    found = kind_of(folder)
    if found is None:
        raise ConfigError(
            folder, "", f"a folder, not a run folder (no manifest.json): {TAKES['plan']}"
        )
    raise wrong_kind(folder, found, "plan")


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _moment(text: str) -> dt.datetime:
    """'Tue 09:00' or '09:00' as a moment in the week of 31 January 2022 (a Monday)."""
    *day, clock = text.lower().split() or [""]
    try:
        if len(day) > 1:
            raise ValueError(text)
        weekday = DAYS.index(choose("--at", day[0][:3], DAYS, "day")) if day else 0
        hours, minutes = (int(x) for x in clock.split(":"))
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError(clock)
        return dt.datetime(2022, 1, 31) + dt.timedelta(days=weekday, hours=hours, minutes=minutes)
    except ValueError:
        fail(f"--at: not a time: {text!r} (use e.g. '09:00' or 'Sat 19:00')", 2)


def _clock(seconds: float) -> str:
    """Seconds after midnight as HH:MM."""
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"
