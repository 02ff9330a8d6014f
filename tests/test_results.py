"""Run folders: two runs finishing in the same second both survive; partial folders of killed
runs are removed, those of live writers are not."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest

from sim.analysis.metrics import summarize
from sim.model.scenario import load_scenario
from sim.results import write_run
from sim.run import RunRecord, run_scenario

ROOT = Path(__file__).resolve().parent.parent
SAME_SECOND = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def record() -> RunRecord:
    scenario = load_scenario(ROOT / "scenarios" / "example-small.toml").with_run(duration="10m")
    return run_scenario(scenario)


def test_same_scenario_seed_and_second_gives_two_complete_folders(
    record: RunRecord, tmp_path: Path
) -> None:
    summary = summarize(record).to_json()
    first = write_run(record, summary, tmp_path, now=SAME_SECOND)
    second = write_run(record, summary, tmp_path, now=SAME_SECOND)
    assert first != second and second.name == f"{first.name}-2"
    for folder in (first, second):
        assert json.loads((folder / "summary.json").read_text()) == json.loads(json.dumps(summary))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, second.name])


def test_partials_of_dead_writers_are_removed_and_live_ones_kept(
    record: RunRecord, tmp_path: Path
) -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    dead_partial = tmp_path / f".x-20260101T000000Z-abc.partial-{child.pid}"
    live_partial = tmp_path / f".y-20260101T000000Z-abc.partial-{os.getpid()}"
    foreign = tmp_path / ".not-ours"
    for folder in (dead_partial, live_partial, foreign):
        folder.mkdir()
    write_run(record, summarize(record).to_json(), tmp_path, now=SAME_SECOND)
    assert not dead_partial.exists()
    assert live_partial.exists() and foreign.exists()
