"""The benchmark gate: compare a `make bench-check` run with the committed baseline.

    python benchmarks/check.py RUN.json [--baseline benchmarks/baseline/check.json]
                               [--tolerance 0.2] [--history results/history.sqlite]
    python benchmarks/check.py --merge RUN1.json RUN2.json RUN3.json -o BASELINE.json

Both files are pytest-benchmark JSON (`--benchmark-json`). Each benchmark's figure is its
fastest round divided by the calibration time measured beside it in the same run
(`extra_info.calibration_s`, benchmarks/calibration.py); a figure more than `tolerance` above
the baseline's fails the gate (exit 1), and so does a benchmark missing from the run. Seconds
are never compared: they drift by up to 60 % between runs on these shared machines, and
pytest-benchmark's own --benchmark-compare-fail can only compare seconds.
The figures are appended to the results history and its trend is drawn. `--merge` writes a
baseline from several runs: per benchmark, the run whose figure is the median
(`make bench-update` merges three), so one unlucky run does not set the bar.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.report.history import Figure, append, trend_page  # noqa: E402

DEFAULT_BASELINE = ROOT / "benchmarks" / "baseline" / "check.json"
DEFAULT_TOLERANCE = 0.2


def normalised(path: Path) -> dict[str, float]:
    """Benchmark name -> fastest round / calibration, from a pytest-benchmark JSON file."""
    data = json.loads(path.read_text())
    figures = {}
    for bench in data["benchmarks"]:
        calibration = bench.get("extra_info", {}).get("calibration_s")
        if not calibration:
            raise SystemExit(f"{path}: benchmarks[{bench['name']}]: no calibration_s measured")
        figures[bench["name"]] = bench["stats"]["min"] / calibration
    return figures


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


def report(figures: list[Figure], tolerance: float) -> str:
    """A short table: figure, baseline, ratio, verdict."""
    lines = [f"{'benchmark':<28} {'figure':>10} {'baseline':>10} {'ratio':>7}  verdict"]
    for f in figures:
        ratio = f"{f.value / f.baseline:7.3f}" if f.value and f.baseline else "      -"
        value = f"{f.value:10.4g}" if f.value is not None else "         -"
        base = f"{f.baseline:10.4g}" if f.baseline is not None else "         -"
        lines.append(f"{f.name:<28} {value} {base} {ratio}  {f.verdict}")
    lines.append(f"figure = fastest round / calibration loop; fails above {1 + tolerance:.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, nargs="+", help="pytest-benchmark JSON of this run")
    parser.add_argument("--merge", action="store_true", help="merge the runs into -o")
    parser.add_argument("-o", "--output", type=Path, help="the merged baseline to write")
    parser.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    parser.add_argument("--history", type=Path, default=ROOT / "results" / "history.sqlite")
    args = parser.parse_args(argv)
    if args.merge:
        merge(args.run, args.output or args.baseline)
        return 0
    run = args.run[0]
    figures = verdicts(normalised(run), normalised(args.baseline), args.tolerance)
    print(report(figures, args.tolerance))
    append(args.history, "bench", run.name, figures)
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
