"""Progress on a terminal, silent under -q: the stages of writing a run folder, of
`netlab import-counters` and of make_synthetic.py, seen as a user sees them (a pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NETLAB, ROOT

EXAMPLE = ROOT / "scenarios" / "measured"


def on_terminal(*command: str) -> str:
    """Run `command` with its stderr on a pseudo-terminal; return what the terminal got."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    seen = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    assert child.wait(timeout=120) == 0, seen.decode(errors="replace")
    os.close(leader)
    return seen.decode(errors="replace")


@pytest.fixture(scope="module")
def counters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = tmp_path_factory.mktemp("synthetic")
    shown = on_terminal(sys.executable, str(EXAMPLE / "make_synthetic.py"), str(made))
    assert "synthetic counters" in shown  # its bar, on the terminal
    assert (made / "counters.csv.gz").is_file()
    return made


def test_make_synthetic_is_quiet_under_q(tmp_path: Path) -> None:
    shown = on_terminal(sys.executable, str(EXAMPLE / "make_synthetic.py"), str(tmp_path), "-q")
    assert "synthetic counters" not in shown and (tmp_path / "counters.csv.gz").is_file()


@pytest.mark.parametrize("quiet", [False, True])
def test_import_counters_shows_its_stages(counters: Path, tmp_path: Path, quiet: bool) -> None:
    command = [
        str(NETLAB),
        "import-counters",
        str(counters / "counters.csv.gz"),
        "-f",
        "csv",
        "--scenario",
        str(EXAMPLE / "kotim-deployed.toml"),
        "--map",
        str(counters / "interfaces.toml"),
        "--out",
        str(tmp_path / "measured"),
    ]
    shown = on_terminal(*command, *(["-q"] if quiet else []))
    assert (tmp_path / "measured" / "measured.csv").is_file()
    if quiet:
        assert "importing counters" not in shown
    else:  # the last stage at least is drawn before the bar is cleared
        assert "importing counters: writing measured.csv" in shown


def test_import_tells_every_stage_in_order(counters: Path, tmp_path: Path) -> None:
    from sim.cli.counters import _import
    from sim.measure.formats import parse_zone
    from sim.model.scenario import load_scenario

    told: list[str] = []
    scenario = load_scenario(EXAMPLE / "kotim-deployed.toml")
    files = [counters / "counters.csv.gz"]
    mapping = counters / "interfaces.toml"
    _import(
        files, "csv", parse_zone("WIB"), (None, False), scenario, mapping, tmp_path, told.append
    )
    assert told == [
        "reading counters.csv.gz",
        "cleaning",
        "mapping to sites",
        "writing measured.csv",
    ]


def test_run_shows_the_writing_stage(tmp_path: Path) -> None:
    """After the simulation a second bar names what is being written; none under -q."""
    small = str(ROOT / "scenarios" / "example-small.toml")
    command = [str(NETLAB), "run", small, "-d", "20m", "-o", str(tmp_path)]
    shown = on_terminal(*command)
    assert "writing example-small: " in shown
    assert "writing example-small" not in on_terminal(*command, "-q")
