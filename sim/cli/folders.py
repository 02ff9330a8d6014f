"""Run folders: a record summarised and written with its reports, and a multi-day run's
acceptance trial beside them. `run`, `optimize`, `emulate` and `validate` write through here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sim.cli.console import progress_bar, progress_steps
from sim.model.errors import ConfigError
from sim.model.scenario import Scenario

if TYPE_CHECKING:
    from sim.analysis.summary import Summary
    from sim.model.flow import FlowFormat
    from sim.run import RunRecord

# The simulation, the metrics and the reports are imported where used: they bring in NumPy,
# SimPy and plotly, which `netlab --help` does not need.

DAY_S = 86400.0


def simulate_and_write(
    scenario: Scenario,
    out_dir: Path,
    quiet: bool,
    extra: dict[str, object] | None = None,
    also: Callable[[Path], object] | None = None,
    flows: FlowFormat = "parquet",
) -> tuple[Summary, Path]:
    """Run on the fluid backend with a progress bar; write the run folder and its reports,
    with a second bar over the stages of writing them.

    A run whose controller failed still gets its folder, with what was measured up to then;
    the failure is then raised as the one-line error."""
    from sim.run import ControllerFailed, run_scenario

    try:
        with progress_bar(quiet, f"simulating {scenario.name}", scenario.duration) as report:
            record = run_scenario(scenario, progress=report)
    except ControllerFailed as failed:
        _, folder = write_record(failed.record, out_dir, flows=flows, quiet=quiet)
        where = f"{failed.problem}; what was measured is in {folder}"
        raise ConfigError(failed.path, failed.key, where) from None
    return write_record(record, out_dir, extra, also, flows, quiet)


def write_record(
    record: RunRecord,
    out_dir: Path,
    extra: dict[str, object] | None = None,
    also: Callable[[Path], object] | None = None,
    flows: FlowFormat = "parquet",
    quiet: bool = False,
) -> tuple[Summary, Path]:
    """Summarise a record and write its run folder with the report (and a multi-day run's
    acceptance trial), under a progress bar of stages."""
    from sim.analysis.metrics import summarize
    from sim.report.run_report import write_report
    from sim.results import write_run

    trial = record.scenario.duration > DAY_S
    stages = 4 + trial + (trial or also is not None)
    with progress_steps(quiet, f"writing {record.scenario.name}", stages) as step:
        step("summary")
        summary = summarize(record)
        if trial:
            step("acceptance trial")
            extra, also = _with_acceptance(record, extra, also)
        folder = write_run(
            record, summary.to_json(), out_dir, write_report, extra, also, flows=flows, step=step
        )
    return summary, folder


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
