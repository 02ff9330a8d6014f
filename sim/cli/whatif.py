"""`netlab whatif`: what connecting unreached sites gives, every combination of their last-mile
options run on common seeds against none of them connected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.console import fail, out, progress_bar
from sim.cli.inputs import check_out, load, window_span
from sim.cli.options import QuietOpt, ResultsRootOpt, ScenarioArg, app
from sim.model.errors import ConfigError
from sim.model.scenario import Scenario

# The what-if runs and their report are imported where used: they bring in NumPy, SimPy and
# plotly, which `netlab --help` does not need.


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
        typer.Option(
            "--window", help="HH:MM+DURATION (default: \\[optimize] window_start and window)."
        ),
    ] = None,
    optimize: Annotated[
        bool,
        typer.Option(
            "--optimize",
            help="Also find the cheapest purchase keeping every objective with the cheapest "
            "good combination connected (runs the optimiser: about 1.5 minutes more).",
        ),
    ] = False,
    out_dir: ResultsRootOpt = Path("results"),
    quiet: QuietOpt = False,
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
    from sim.studies.whatif import verdicts

    loaded = load(scenario)
    choices = _connect_options(connect)
    span = window_span(window) if window else None
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
    from sim.studies.whatif import whatif as run_whatif

    with progress_bar(quiet, f"what-if {loaded.name}") as report:
        try:
            return run_whatif(loaded, choices, list(range(1, seeds + 1)), span, report)
        except ConfigError as exc:
            fail(str(exc), 2)


def _whatif_purchase(loaded: Scenario, combos: list, new_sites: list[str]) -> str:
    """The optimiser's purchase for the cheapest good combination, as a sentence."""
    from sim.studies.whatif import cheapest_good, purchase_line

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
    from sim.report.whatif import whatif_report
    from sim.studies.whatif import WhatIfResult

    folder.mkdir(parents=True, exist_ok=True)
    result = WhatIfResult(choices, lines, combos)
    (folder / "whatif.json").write_text(json.dumps(result.to_json(), indent=1), encoding="utf-8")
    return whatif_report(folder / "whatif.html", name, result)
