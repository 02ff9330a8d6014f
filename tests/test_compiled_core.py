"""The compiled engine (`make core`, tools/build_core.py) computes exactly what its Python
source does, NETLAB_PURE=1 runs the sources instead, and a compiled copy not built from the
source beside it is refused."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim.backends.fluid
from sim.analysis.metrics import summarize
from sim.model.compiled import (
    COMPILED_MODULES,
    StaleCompiledCopy,
    digest_record,
    refuse_stale,
    source_digest,
)
from sim.model.scenario import load_scenario
from sim.run import run_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "kotim-baseline.toml"
COMPILED = sim.backends.fluid.__file__.endswith(".so")  # `make core` has built the engine
MODULE_FILES = (
    "import importlib, json; from sim.model.compiled import COMPILED_MODULES; "
    "print(json.dumps([importlib.import_module(m).__file__ for m in COMPILED_MODULES]))"
)
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


def python(
    code: str, *args: str, pure: bool = False, cwd: Path = ROOT, **env: str
) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter in `cwd`, with NETLAB_PURE=1 or without it."""
    environ = {k: v for k, v in os.environ.items() if k != "NETLAB_PURE"} | env
    if pure:
        environ["NETLAB_PURE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.skipif(not COMPILED, reason="the engine is not compiled here (make core)")
def test_compiled_and_python_engines_agree_exactly() -> None:
    out = python(WINDOW, pure=True)
    assert out.returncode == 0, out.stderr
    module, source = json.loads(out.stdout)
    assert module == str(ROOT / "sim" / "backends" / "fluid.py")  # really the source
    compiled = json.loads(json.dumps(window_summary()))
    assert compiled["overall"]["flows"] > 10_000  # a busy window, with contention:
    assert compiled["overall"]["abandoned_flows"] > 100
    assert compiled == source  # every figure, to the last bit


@pytest.mark.parametrize("pure", [True, False])
def test_netlab_pure_runs_the_sources_even_where_compiled(pure: bool) -> None:
    out = python(MODULE_FILES, pure=pure)
    assert out.returncode == 0, out.stderr
    suffix = ".so" if COMPILED and not pure else ".py"
    assert [Path(f).suffix for f in json.loads(out.stdout)] == [suffix] * len(COMPILED_MODULES)


def test_every_compiled_module_is_listed_built_and_checked() -> None:
    """COMPILED_MODULES, the Makefile's CORE_SOURCES (`make core`, `make pure`) and the
    modules that refuse a stale copy of themselves are the same modules."""
    sources = [m.replace(".", "/") + ".py" for m in COMPILED_MODULES]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^CORE_SOURCES := (.*)$", makefile, re.M).group(1).split() == sources
    checking = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "sim").rglob("*.py")
        if "\nrefuse_stale(__file__)\n" in path.read_text()
    )
    assert checking == sorted(sources)


def test_a_compiled_copy_is_refused_when_its_source_differs(tmp_path: Path) -> None:
    source = tmp_path / "fluid.py"
    copy = tmp_path / "fluid.cpython-311-x86_64-linux-gnu.so"
    copy.write_bytes(b"")
    source.write_text("x = 1\n")
    with pytest.raises(StaleCompiledCopy, match=r"fluid\.py changed after it was compiled"):
        refuse_stale(str(copy))  # no record of the source it was built from
    Path(digest_record(str(copy))).write_text(source_digest(str(source)) + "\n")
    refuse_stale(str(copy))  # built from this source: fine
    os.utime(source, (4_000_000, 4_000_000))
    os.utime(copy, (1_000_000, 1_000_000))
    refuse_stale(str(copy))  # touched by a checkout, unchanged: still fine
    source.write_text("x = 2\n")
    os.utime(source, (1_000, 1_000))
    with pytest.raises(StaleCompiledCopy, match=r"fluid\.py changed after it was compiled"):
        refuse_stale(str(copy))  # changed, though older than the copy
    refuse_stale(str(source))  # the module runs as Python: nothing to check


@pytest.mark.skipif(not COMPILED, reason="the engine is not compiled here (make core)")
def test_netlab_names_a_stale_copy_in_one_line(tmp_path: Path) -> None:
    """What a user sees after editing the engine without `make core`: one line, status 1."""
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    htb = tmp_path / "sim" / "shaping" / "htb.py"
    htb.write_text(htb.read_text() + "# edited\n")
    code = "import sys; from sim.cli import main; sys.argv = ['netlab', 'run', sys.argv[1]]; main()"
    scenario = str(ROOT / "scenarios" / "example-small.toml")
    out = python(code, scenario, cwd=tmp_path, PYTHONPATH=str(tmp_path))
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"netlab: error: {htb} changed after it was compiled: run `make core` to compile it "
        "again, or set NETLAB_PURE=1 to run it as Python"
    ]
