"""A long run (`[scenario] by_day = true`, e.g. a year) as independent days run in parallel,
on local processes or on Dask.

Each day runs from the demand's quietest hour to the same hour the next day, so the cut
between two days falls where the fewest sessions are in flight. Day `d` runs on a seed drawn
from the scenario's seed and `d` alone (numpy's SeedSequence), and at the demand of its date
(`[demand] growth_per_year`, compounded daily from the start), so one worker and many give
the same days, byte for byte. A worker reduces its day to DayFigures (a few kB) and hands the
record to `sink` (which writes the day's flows to disk) before dropping it, so no process holds
more than a day, whatever the duration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, as_completed
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.analysis.day_figures import DayFigures, day_figures
from sim.demand.profiles import YEAR_DAYS, scenario_calendar, site_profile
from sim.model.scenario import Scenario
from sim.model.scenario_schema import DAY_S
from sim.run import run_scenario
from sim.studies.pool import worker_pool

if TYPE_CHECKING:
    from sim.run import RunRecord

QUIET_SPAN = 2  # hours either side of the cut that should be quiet too
Sink = Callable[["RunRecord", Path], object]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DayChunk:
    """Day `index` of a by-day run: when it starts, its seed and its demand factor."""

    index: int
    start: dt.datetime
    seed: int
    growth: float
    day_type: str  # "working", "weekend" or "holiday"


def quietest_hour(scenario: Scenario) -> int:
    """The hour at the middle of the day's quietest five hours: expected sessions over the
    week (users times the kind's session rate times its weekday and weekend weights) summed
    over the hour and the two on either side; the earliest of equals."""
    load = np.zeros(24)
    for site in scenario.sites:
        profile = site_profile(scenario, site)
        rate = site.users * profile.sessions_per_user_hour
        load += rate * (5 * np.array(profile.weekday) + 2 * np.array(profile.weekend))
    around = sum(np.roll(load, shift) for shift in range(-QUIET_SPAN, QUIET_SPAN + 1))
    return int(np.argmin(np.round(around, 9)))


def split_days(scenario: Scenario) -> list[DayChunk]:
    """The days of a by-day run, each from the quietest hour of its date."""
    hour = quietest_hour(scenario)
    calendar = scenario_calendar(scenario)
    demand = scenario.spec.demand
    chunks = []
    for index in range(round(scenario.duration / DAY_S)):
        start = scenario.start + dt.timedelta(days=index, hours=hour)
        date = start.date()
        if calendar is not None and calendar.day_type(date) == "holiday":
            day_type = "holiday"
        else:
            day_type = "weekend" if date.weekday() >= 5 else "working"
        seed = int(np.random.SeedSequence([scenario.seed, index]).generate_state(1)[0])
        growth = demand.growth * demand.growth_per_year ** (index / YEAR_DAYS)
        chunks.append(DayChunk(index, start, seed, growth, day_type))
    return chunks


def day_scenario(scenario: Scenario, chunk: DayChunk) -> Scenario:
    """The scenario of one day: its start, 24 h, its seed and its demand factor."""
    data = scenario.spec.model_dump()
    data["scenario"].update(start=chunk.start, duration=DAY_S, seed=chunk.seed, by_day=False)
    data["demand"].update(growth=chunk.growth, growth_per_year=1.0)
    return scenario.edited(data)


def run_by_day(
    scenario: Scenario,
    workers: int,
    folder: Path,
    sink: Sink | None = None,
    progress: Progress | None = None,
    dask: str | None = None,
) -> list[DayFigures]:
    """Every day's figures, in day order, run on `workers` processes, or on the Dask scheduler
    at `dask` ("local": a local cluster of `workers`); `sink(record, folder)` is called in the
    worker with each day's record (e.g. to write its flows under `folder`, which a remote
    cluster's workers must see at the same path)."""
    calls = [(scenario, chunk, folder, sink) for chunk in split_days(scenario)]
    if dask is not None:
        return _on_dask(calls, dask, workers, progress)
    with worker_pool(workers) as pool:
        futures: list[Future[DayFigures]] = [pool.submit(_one_day, *call) for call in calls]
        for done, future in enumerate(as_completed(futures), 1):
            if (error := future.exception()) is not None:
                for waiting in futures:
                    waiting.cancel()
                raise error
            if progress is not None:
                progress(done, len(calls))
        return [future.result() for future in futures]


def _on_dask(
    calls: list[tuple[Scenario, DayChunk, Path, Sink | None]],
    address: str,
    workers: int,
    progress: Progress | None,
) -> list[DayFigures]:
    """The days as Dask futures; a day that raises raises here (the others are cancelled)."""
    from distributed import as_completed as arrived

    from sim.studies.sweep.dask_executor import dask_client

    with ExitStack() as stack:
        client, _ = dask_client(stack, address, workers)
        futures = [client.submit(_one_day, *call, pure=False) for call in calls]
        for done, future in enumerate(arrived(futures), 1):
            if future.status == "error":
                client.cancel(futures)
                future.result()  # raises the day's error
            if progress is not None:
                progress(done, len(calls))
        days: list[DayFigures] = client.gather(futures)
        return days


def _one_day(scenario: Scenario, chunk: DayChunk, folder: Path, sink: Sink | None) -> DayFigures:
    """In a worker: run one day, write what `sink` keeps, reduce it to its figures."""
    record = run_scenario(day_scenario(scenario, chunk))
    if sink is not None:
        sink(record, folder)
    return day_figures(record, chunk.index, chunk.day_type, chunk.growth)
