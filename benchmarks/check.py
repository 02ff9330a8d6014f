"""The benchmark gate: compare a `make bench-check` run with the committed baseline.

    python benchmarks/check.py RUN.json [RUN2.json ...] [--baseline benchmarks/baseline/check.json]
                               [--tolerance 0.2] [--history results/history.sqlite]
    python benchmarks/check.py --merge RUN1.json RUN2.json RUN3.json -o BASELINE.json

Both files are pytest-benchmark JSON (`--benchmark-json`). Each benchmark's figure is the
median, over its rounds, of the round's time divided by the calibration repetition timed just
before it (`extra_info.round_times` and `calibration_times`, benchmarks/calibration.py): a
pair shares the machine's moment, and the median ignores the rounds a neighbour's burst hit,
on either side of the pair. A figure more than `tolerance` above
the baseline's fails the gate (exit 1), and so does a benchmark missing from the run. Given
several runs (attempts on the same machine), each benchmark's best figure counts: a
regression is slow in every attempt, while a neighbour's burst can inflate one attempt (on CI,
with the fastest-round figure of before, one attempt measured the optimiser 1.56x and the
next 1.17x, with the engine the other way round). Seconds
are never compared: they drift by up to 60 % between runs on these shared machines, and
pytest-benchmark's own --benchmark-compare-fail can only compare seconds.
The figures are appended to the results history and its trend is drawn. `--merge` writes a
baseline from several runs: per benchmark, the run whose figure is the median
(`make bench-update` merges three), so one unlucky run does not set the bar.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.report.history import Figure, append, trend_page  # noqa: E402

DEFAULT_BASELINE = ROOT / "benchmarks" / "baseline" / "check.json"
DEFAULT_TOLERANCE = 0.2


def normalised(path: Path) -> dict[str, float]:
    """Benchmark name -> median of round / calibration before it, from a pytest-benchmark
    JSON file."""
    data = json.loads(path.read_text())
    figures = {}
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        rounds, calibrations = info.get("round_times"), info.get("calibration_times")
        if not rounds or not calibrations or len(rounds) != len(calibrations):
            raise SystemExit(
                f"{path}: benchmarks[{bench['name']}]: no round_times and calibration_times "
                "of equal length (measure with benchmarks/conftest.py's `calibrated`)"
            )
        figures[bench["name"]] = statistics.median(
            r / c for r, c in zip(rounds, calibrations, strict=True)
        )
    return figures


def best_of(runs: list[Path]) -> dict[str, float]:
    """Benchmark name -> its smallest normalised figure over `runs` (attempts of one gate)."""
    best: dict[str, float] = {}
    for path in runs:
        for name, figure in normalised(path).items():
            best[name] = min(figure, best.get(name, figure))
    return best


def merge(runs: list[Path], out: Path) -> None:
    """Write the first run's JSON with each benchmark taken from the run with its median
    normalised figure."""
    data = [json.loads(path.read_text()) for path in runs]
    figures = [normalised(path) for path in runs]
    merged = data[0]
    for i, bench in enumerate(merged["benchmarks"]):
        name = bench["name"]
        ranked = sorted(range(len(runs)), key=lambda r: figures[r][name])
        median = ranked[len(ranked) // 2]
        merged["benchmarks"][i] = next(b for b in data[median]["benchmarks"] if b["name"] == name)
    out.write_text(json.dumps(merged, indent=4) + "\n")


def verdicts(run: dict[str, float], baseline: dict[str, float], tolerance: float) -> list[Figure]:
    """One Figure per benchmark of either file: pass, fail (slower than allowed), missing
    from the run (fail) or new (not in the baseline: pass)."""
    figures = []
    for name in sorted(set(run) | set(baseline)):
        value, base = run.get(name), baseline.get(name)
        if value is None:
            verdict = "missing"
        elif base is None:
            verdict = "new"
        else:
            verdict = "fail" if value > base * (1 + tolerance) else "pass"
        figures.append(Figure(name, value, base, verdict))
    return figures


def report(figures: list[Figure], tolerance: float, runs: int = 1) -> str:
    """A short table: figure, baseline, ratio, verdict."""
    lines = [f"{'benchmark':<28} {'figure':>10} {'baseline':>10} {'ratio':>7}  verdict"]
    for f in figures:
        ratio = f"{f.value / f.baseline:7.3f}" if f.value and f.baseline else "      -"
        value = f"{f.value:10.4g}" if f.value is not None else "         -"
        base = f"{f.baseline:10.4g}" if f.baseline is not None else "         -"
        lines.append(f"{f.name:<28} {value} {base} {ratio}  {f.verdict}")
    best = f", best of {runs} runs" if runs > 1 else ""
    lines.append(
        f"figure = median of round / calibration loop{best}; fails above {1 + tolerance:.2f}x"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "run", type=Path, nargs="+", help="pytest-benchmark JSON of this run (or of each attempt)"
    )
    parser.add_argument("--merge", action="store_true", help="merge the runs into -o")
    parser.add_argument("-o", "--output", type=Path, help="the merged baseline to write")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    parser.add_argument("--history", type=Path, default=ROOT / "results" / "history.sqlite")
    args = parser.parse_args(argv)
    if args.merge:
        merge(args.run, args.output or args.baseline)
        return 0
    figures = verdicts(best_of(args.run), normalised(args.baseline), args.tolerance)
    print(report(figures, args.tolerance, len(args.run)))
    append(args.history, "bench", args.run[-1].name, figures)
    trend = trend_page(
        args.history, "bench", args.history.with_name("history-bench.html"), "bench-check trend"
    )
    print(f"trend: {trend}")
    failed = [f.name for f in figures if f.verdict in ("fail", "missing")]
    if failed:
        print(f"bench-check FAILED: {', '.join(failed)}")
        return 1
    print("bench-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
