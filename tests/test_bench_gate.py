"""The benchmark gate's comparison (benchmarks/check.py) on hand-made pytest-benchmark JSON:
figures are the median of round / calibration before it, a figure more than the tolerance
above the baseline fails, a missing benchmark fails, several attempts count each benchmark's
best, and a merged baseline takes each benchmark's median run."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_check", ROOT / "benchmarks" / "check.py")
assert spec is not None and spec.loader is not None
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def run_file(path: Path, figures: dict[str, tuple[float, float]]) -> Path:
    """A pytest-benchmark JSON with name -> (round s, calibration s), three rounds of each."""
    return rounds_file(path, {name: ([r] * 3, [c] * 3) for name, (r, c) in figures.items()})


def rounds_file(path: Path, figures: dict[str, tuple[list[float], list[float]]]) -> Path:
    """A pytest-benchmark JSON with name -> (round times, calibration times before each)."""
    benchmarks = [
        {
            "name": name,
            "stats": {"min": min(rounds)},
            "extra_info": {"round_times": rounds, "calibration_times": calibrations},
        }
        for name, (rounds, calibrations) in figures.items()
    ]
    path.write_text(json.dumps({"benchmarks": benchmarks}))
    return path


def test_figures_are_normalised_by_the_calibration(tmp_path: Path) -> None:
    path = run_file(tmp_path / "a.json", {"alloc": (0.004, 0.016), "engine": (0.3, 0.015)})
    assert check.normalised(path) == pytest.approx({"alloc": 0.25, "engine": 20.0})


def test_the_figure_pairs_each_round_with_the_calibration_before_it(tmp_path: Path) -> None:
    """Ratios 0.25, 0.25, 0.5 (a slow round), 0.2 (a slow calibration) and 0.125 (a fast
    round): median 0.25. Fastest round over fastest repetition, the figure before, gives
    0.002 / 0.016 = 0.125 from the one odd round."""
    path = rounds_file(
        tmp_path / "a.json",
        {"alloc": ([0.004, 0.004, 0.008, 0.004, 0.002], [0.016, 0.016, 0.016, 0.02, 0.016])},
    )
    assert check.normalised(path) == pytest.approx({"alloc": 0.25})


def test_a_run_without_paired_times_is_refused_naming_the_benchmark(tmp_path: Path) -> None:
    path = rounds_file(tmp_path / "a.json", {"alloc": ([0.004, 0.004], [0.016])})
    with pytest.raises(SystemExit, match=r"a.json: benchmarks\[alloc\]: no round_times"):
        check.normalised(path)


def test_a_machine_twice_as_slow_passes_and_a_slower_allocator_fails(tmp_path: Path) -> None:
    base = run_file(tmp_path / "base.json", {"alloc": (0.004, 0.016), "engine": (0.3, 0.015)})
    drifted = run_file(tmp_path / "drift.json", {"alloc": (0.008, 0.032), "engine": (0.6, 0.03)})
    slower = run_file(tmp_path / "slow.json", {"alloc": (0.0052, 0.016), "engine": (0.3, 0.015)})
    history = ["--history", str(tmp_path / "h.sqlite")]
    assert check.main([str(drifted), "--baseline", str(base), *history]) == 0
    assert check.main([str(slower), "--baseline", str(base), *history]) == 1  # +30 % > 20 %
    assert check.main([str(slower), "--baseline", str(base), "--tolerance", "0.35", *history]) == 0
    with sqlite3.connect(tmp_path / "h.sqlite") as db:
        verdicts = db.execute("SELECT name, verdict FROM figures WHERE gate = 'bench'").fetchall()
    assert verdicts[:4] == [
        ("alloc", "pass"),
        ("engine", "pass"),
        ("alloc", "fail"),
        ("engine", "pass"),
    ]
    assert (tmp_path / "history-bench.html").exists()


def test_a_benchmark_missing_from_the_run_fails(tmp_path: Path) -> None:
    base = run_file(tmp_path / "base.json", {"alloc": (0.004, 0.016), "engine": (0.3, 0.015)})
    run = run_file(tmp_path / "run.json", {"alloc": (0.004, 0.016)})
    figures = check.verdicts(check.normalised(run), check.normalised(base), 0.2)
    assert [(f.name, f.verdict) for f in figures] == [("alloc", "pass"), ("engine", "missing")]


def test_the_merged_baseline_takes_each_benchmarks_median_run(tmp_path: Path) -> None:
    runs = [
        run_file(tmp_path / f"{i}.json", {"alloc": (a, 0.01), "engine": (e, 0.01)})
        for i, (a, e) in enumerate([(0.003, 0.2), (0.001, 0.3), (0.002, 0.1)])
    ]
    out = tmp_path / "baseline.json"
    assert check.main(["--merge", *map(str, runs), "-o", str(out)]) == 0
    assert check.normalised(out) == pytest.approx({"alloc": 0.2, "engine": 20.0})


def test_attempts_count_each_benchmarks_best_figure(tmp_path: Path) -> None:
    """A neighbour's burst inflates one attempt, not every one; a regression is in all."""
    base = run_file(tmp_path / "base.json", {"alloc": (0.004, 0.016), "engine": (0.3, 0.015)})
    # CI's own pair of attempts: each slows a different benchmark past the tolerance.
    first = run_file(tmp_path / "1.json", {"alloc": (0.0062, 0.016), "engine": (0.3, 0.015)})
    second = run_file(tmp_path / "2.json", {"alloc": (0.004, 0.016), "engine": (0.41, 0.015)})
    slower = run_file(tmp_path / "3.json", {"alloc": (0.0052, 0.016), "engine": (0.3, 0.015)})
    history = ["--baseline", str(base), "--history", str(tmp_path / "h.sqlite")]
    assert check.best_of([first, second]) == pytest.approx({"alloc": 0.25, "engine": 20.0})
    assert check.main([str(first), *history]) == 1
    assert check.main([str(second), *history]) == 1
    assert check.main([str(first), str(second), *history]) == 0
    assert check.main([str(first), str(slower), *history]) == 1  # alloc +30 % in both
