"""Run folders: two runs finishing in the same second both survive; partial folders of killed
runs are removed, those of live writers are not; a bad --out is refused before simulating."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from sim.analysis.metrics import summarize
from sim.backends.mininet.info import CpuLoad, Emulated, EmulationInfo
from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.results import check_out_dir, manifest, write_run
from sim.run import RunRecord, RunWindow, run_scenario
from tests.conftest import NETLAB

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


def test_manifest_info_of_an_emulated_run_and_of_a_fluid_one(record: RunRecord) -> None:
    """An emulated run's info keeps the order in which the backend learns its figures (bring-up,
    finish, close), then the window; a fluid run's is empty."""
    info = EmulationInfo(
        "nl1",
        1.0,
        10,
        "cubic",
        1.5,
        {"network_s": 1.0},
        Emulated(True, True, False, True, False, ""),
    )
    info.cpu = CpuLoad(0.2, 0.5, 0.0)
    info.tc_rebuilds, info.tc_changes = {"down": 2, "up": 1}, {"down": 0, "up": 0}
    info.tear_down_s = 0.5
    emulated = dataclasses.replace(record, emulation=info, window=RunWindow(57585.0, 30.0))
    data = manifest(emulated, SAME_SECOND)["info"]
    assert list(data) == [
        "run_tag", "scale", "hosts", "tcp_congestion_control", "bring_up_s", "bring_up_phases_s",
        "emulated", "cpu_busy_mean", "cpu_busy_max", "cpu_bound_share", "tc_rebuilds",
        "tc_changes", "tear_down_s", "window",
    ]  # fmt: skip
    assert data["window"] == {"start_s": 57585.0, "len_s": 30.0}
    assert EmulationInfo.from_json({k: v for k, v in data.items() if k != "window"}) == info
    assert manifest(record, SAME_SECOND)["info"] == {}


def test_extra_files_do_not_rename_the_folder(record: RunRecord, tmp_path: Path) -> None:
    """The optimiser's recommendation.json is a file in the run folder, not its name."""
    folder = write_run(
        record, summarize(record).to_json(), tmp_path, extra={"recommendation.json": {"a": 1}}
    )
    assert folder.name.startswith(f"{record.scenario.name}-")
    assert json.loads((folder / "recommendation.json").read_text()) == {"a": 1}


@pytest.fixture
def read_only(tmp_path: Path) -> Path:
    """A folder nobody may write in: a read-only mount for root, mode 555 for others."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return folder
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare for a read-only mount")
    return folder  # a read-only tmpfs is mounted on it for the command (_netlab_out)


def _netlab_out(netlab, out: Path, *args: str, read_only: Path | None = None):
    """`netlab run` of a 10-day scenario (minutes to simulate) with --out out."""
    argv = ["run", str(ROOT / "scenarios" / "kotim-trial-10d.toml"), "-q", "--out", str(out)]
    if read_only is None or os.geteuid() != 0:
        return netlab(*argv, *args)
    mount = f"mount -t tmpfs -o ro none {shlex.quote(str(read_only))}"
    command = " ".join(shlex.quote(a) for a in [str(NETLAB), *argv, *args])
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", f"{mount} && exec {command}"],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("file", "file.txt: is a file"),
        ("under-file", "is a file"),
        ("proc", "cannot create folders in /proc"),
        ("read-only", "cannot create folders in"),
    ],
)
def test_a_bad_out_is_one_line_before_simulating(
    netlab, tmp_path: Path, read_only: Path, where: str, problem: str
) -> None:
    (tmp_path / "file.txt").write_text("not a folder\n")
    out = {
        "file": tmp_path / "file.txt",
        "under-file": tmp_path / "file.txt" / "runs",
        "proc": Path("/proc/runs"),
        "read-only": read_only / "runs",
    }[where]
    began = time.monotonic()
    done = _netlab_out(netlab, out, read_only=read_only if where == "read-only" else None)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"--out {out}: " in done.stderr and problem in done.stderr
    assert time.monotonic() - began < 30  # the 10-day simulation takes minutes
    assert done.stdout == ""


def test_a_good_out_is_made_only_by_the_run(tmp_path: Path) -> None:
    """Checking leaves nothing behind: no probe folder, and the new root is not made yet."""
    check_out_dir(tmp_path / "new" / "runs")
    check_out_dir(tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConfigError, match="is a file"):
        check_out_dir(Path(__file__))
