"""A by-day run's folder (`[scenario] by_day = true`): the days run in parallel, then the
year's figures and page. `netlab run` comes here when the scenario asks for it.

Files: manifest.json (the scenario, the hour the days are cut at, each day's seed, timings),
days/<date>/flows.parquet (each day's flows, written by its worker, in `--flows`'s format),
days.json (every day's figures, sim/analysis/day_figures.py), year.json (the year's,
sim/analysis/year.py) and year.html. Written whole or not at all (sim/results.StagedFolder).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.console import dask_failures, progress_bar, say
from sim.model.scenario import Scenario

if TYPE_CHECKING:
    from sim.analysis.year import YearSummary
    from sim.model.flow import FlowFormat

# The simulation, the figures and the page are imported where used: they bring in NumPy,
# SimPy and plotly, which `netlab --help` does not need.


def simulate_by_day(
    scenario: Scenario,
    out_dir: Path,
    quiet: bool,
    workers: int | None,
    flows: FlowFormat,
    dask: str | None = None,
) -> Path:
    """Run every day of `scenario` on `workers` processes (or on the Dask scheduler at `dask`),
    write the run folder (each day's flows in `flows`'s format under days/<date>/) and print the
    year in a few lines."""
    from sim.analysis.year import summarize_year
    from sim.report.year_report import write_year_report
    from sim.results import StagedFolder, folder_name, write_day_flows, write_json
    from sim.studies.by_day import quietest_hour, run_by_day, split_days

    began = time.perf_counter()
    staged = StagedFolder(out_dir, folder_name(scenario, "fluid-by-day", dt.datetime.now(dt.UTC)))
    with staged as folder:
        label = f"simulating {scenario.name} day by day"
        with progress_bar(quiet, label) as report, dask_failures(dask):
            sink = partial(write_day_flows, fmt=flows)
            count = workers or os.cpu_count() or 1
            days = run_by_day(scenario, count, folder, sink, report, dask)
        year = summarize_year(days, scenario.spec.purchase.upstream_mbps)
        write_json(folder / "days.json", [day.to_json() for day in days])
        write_json(folder / "year.json", year.to_json())
        write_json(
            folder / "manifest.json",
            {
                "scenario": scenario.spec.model_dump(mode="json"),
                "scenario_file": str(scenario.path),
                "backend": "fluid-by-day",
                "cut_at_hour": quietest_hour(scenario),
                "seeds": [chunk.seed for chunk in split_days(scenario)],
                "seconds": round(time.perf_counter() - began, 1),
            },
        )
        write_year_report(folder, scenario.name, year)
    assert staged.final is not None
    _print_year(year)
    say(f"year: {staged.final / 'year.html'}")
    return staged.final


def _print_year(year: YearSummary) -> None:
    """The tightest month per direction and the month each objective first breaks."""
    for direction in ("down", "up"):
        tight = min(year.months, key=lambda m: m.headroom_mbps[direction])
        say(
            f"{direction}: least busy-hour headroom {tight.headroom_mbps[direction]:+.0f} Mbit/s "
            f"in {tight.month}; 95th-percentile billing up to "
            f"{max(m.billing_p95_mbps[direction] for m in year.months):.0f} Mbit/s"
        )
    broken = {name: month for name, month in year.first_break.items() if month is not None}
    if not broken:
        say(f"every objective holds on most days of every month ({year.days} days)")
    for name, month in broken.items():
        say(f"{name} first breaks in {month}")
