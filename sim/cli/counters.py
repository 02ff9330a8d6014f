"""`netlab import-counters` and `netlab calibrate`: interface counters read into per-site
measurements, and a scenario's demand fitted to them."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

import typer

from sim.cli.console import fail, out, progress_steps
from sim.cli.inputs import choose, load
from sim.cli.options import QuietOpt, app
from sim.cli.tables import print_calibration, print_import
from sim.measure.formats import FORMATS, ZONES, Format, is_format, parse_zone, read, swapped
from sim.model.errors import ConfigError, nearest
from sim.model.scenario import Scenario
from sim.studies.calibrated_file import calibrated_text

# The counter cleaning, the fit and its report are imported where used: they bring in NumPy,
# SimPy and plotly, which `netlab --help` does not need.


class ImportReport(TypedDict):
    """What import.json holds: the files read, the site intervals made, the interfaces that
    map to no site, and every event of the cleaning (sim.measure.counters.Event's fields)."""

    files: list[str]
    format: Format
    intervals: int
    unmapped_interfaces: list[str]
    events: list[dict[str, Any]]


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
    quiet: QuietOpt = False,
    swap: Annotated[
        bool, typer.Option("--swap", help="In and out the other way round (port faces inwards).")
    ] = False,
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
    choose("--format", fmt, FORMATS, "format")
    assert is_format(fmt)  # choose() refused every other value
    tz = _time_zone(zone)
    loaded = load(scenario)
    try:
        with progress_steps(quiet, "importing counters", len(files) + 3) as step:
            report = _import(files, fmt, tz, (interface, swap), loaded, mapping, out_dir, step)
    except ConfigError as exc:
        fail(str(exc), 2)
    print_import(report)
    out.print(f"measured: {out_dir / 'measured.csv'}", highlight=False, soft_wrap=True)


def _import(
    files: list[Path],
    fmt: Format,
    tz: dt.tzinfo,
    naming: tuple[str | None, bool],
    scenario: Scenario,
    mapping: Path | None,
    out_dir: Path,
    step: Callable[[str], None],
) -> ImportReport:
    """Read (in and out swapped if asked), clean, map and write, telling `step` each stage;
    returns import.json's data."""
    from sim.measure.counters import clean
    from sim.measure.quirks import log_quirks
    from sim.measure.sites import interface_map, to_sites, unmapped_problem, write_measured

    interface, swap = naming
    by_file = {}
    for path in files:
        step(f"reading {path.name}")
        by_file[path] = read(path, fmt, tz, interface)
    if swap:
        by_file = {path: swapped(readings) for path, readings in by_file.items()}
    step("cleaning")
    readings, events = log_quirks(by_file, fmt == "mrtg", swap, time.time())
    intervals, cleaning = clean(readings, max_bps=scenario.topology.hub.link_mbps * 1e6 * 10)
    events += cleaning
    hub = scenario.topology.hub.id
    interfaces = interface_map(scenario.topology, mapping)
    for path, read_here in by_file.items():
        names = {r.interface for r in read_here}
        if names.isdisjoint(interfaces):
            raise ConfigError(path, "interface", unmapped_problem(sorted(names), interfaces, hub))
    step("mapping to sites")
    rows, unmapped = to_sites(intervals, interfaces, hub)
    step("writing measured.csv")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_measured(out_dir / "measured.csv", rows, tz)
    report: ImportReport = {
        "files": [str(f) for f in files],
        "format": fmt,
        "intervals": len(rows),
        "unmapped_interfaces": unmapped,
        "events": [e.__dict__ for e in events],
    }
    (out_dir / "import.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report


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
    from sim.measure.sites import read_measured
    from sim.report.calibration import write_calibration_report
    from sim.studies.calibrate import calibrate as fit

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
    print_calibration(result)
    out.print(f"calibrated: {out_file}\nreport: {page}", highlight=False, soft_wrap=True)


def _time_zone(zone: str) -> dt.tzinfo:
    """The --tz option as a time zone, or exit 2 naming it."""
    try:
        return parse_zone(zone)
    except ValueError as exc:
        close = nearest(zone.upper(), ZONES)
        fail(f"--tz: {exc}" + (f"; did you mean {close}?" if close else ""), 2)
