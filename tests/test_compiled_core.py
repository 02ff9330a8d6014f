"""The compiled engine (`make core`, tools/build_core.py) computes exactly what its Python
source does, and a compiled copy older than its source is refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim.backends.fluid
import sim.shaping.htb
from sim.analysis.metrics import summarize
from sim.model.compiled import StaleCompiledCopy, refuse_stale
from sim.model.scenario import load_scenario
from sim.run import run_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "kotim-baseline.toml"
COMPILED = all(m.__file__.endswith(".so") for m in (sim.backends.fluid, sim.shaping.htb))
# the busy window of the regency's first working day, under-bought so that sites contend
WINDOW = f"""
import json, sys
import sim.backends.fluid
from sim.analysis.metrics import summarize
from sim.model.scenario import load_scenario
from sim.run import run_scenario
scenario = load_scenario({str(BASELINE)!r}).with_window().with_purchase(300).with_run(seed=3)
summary = summarize(run_scenario(scenario)).to_json()
print(json.dumps([sim.backends.fluid.__file__, summary]))
"""


def window_summary() -> dict:
    scenario = load_scenario(BASELINE).with_window().with_purchase(300).with_run(seed=3)
    return summarize(run_scenario(scenario)).to_json()


@pytest.mark.skipif(not COMPILED, reason="the engine is not compiled here (make core)")
def test_compiled_and_python_engines_agree_exactly(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", WINDOW],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    module, python = json.loads(out.stdout)
    assert module == str(tmp_path / "sim" / "backends" / "fluid.py")  # really the source
    compiled = json.loads(json.dumps(window_summary()))
    assert compiled["overall"]["flows"] > 10_000  # a busy window, with contention:
    assert compiled["overall"]["abandoned_flows"] > 100
    assert compiled == python  # every figure, to the last bit


def test_a_compiled_copy_older_than_its_source_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "fluid.py"
    copy = tmp_path / "fluid.cpython-311-x86_64-linux-gnu.so"
    copy.write_bytes(b"")
    source.write_text("")
    os.utime(copy, (1_000_000, 1_000_000))
    os.utime(source, (2_000_000, 2_000_000))
    with pytest.raises(StaleCompiledCopy, match=r"fluid\.py changed after it was compiled"):
        refuse_stale(str(copy))
    os.utime(copy, (3_000_000, 3_000_000))
    refuse_stale(str(copy))  # compiled after the source changed: fine
    os.utime(copy, (1_000_000, 1_000_000))
    refuse_stale(str(source))  # the module runs as Python: nothing to check


@pytest.mark.skipif(not COMPILED, reason="the engine is not compiled here (make core)")
def test_netlab_names_a_stale_copy_in_one_line(tmp_path: Path) -> None:
    """What a user sees after editing the engine without `make core`: one line, status 1."""
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    htb = tmp_path / "sim" / "shaping" / "htb.py"
    stale = tmp_path / "sim" / "shaping" / Path(sim.shaping.htb.__file__).name
    os.utime(stale, (1_000_000, 1_000_000))  # compiled long before its source last changed
    code = "import sys; from sim.cli import main; sys.argv = ['netlab', 'run', sys.argv[1]]; main()"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "scenarios" / "example-small.toml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"netlab: error: {htb} changed after it was compiled: run `make core` to compile it "
        f"again, or delete {stale} to run it as Python"
    ]
