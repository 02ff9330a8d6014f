"""Comparison statistics against hand-computed figures, verdicts, and the HTML report."""

from __future__ import annotations

import csv
import math
from html import escape
from pathlib import Path

import pytest

from sim.analysis.compare import (
    Comparison,
    compare,
    mean_ci,
    paired_difference,
    pareto_front,
    t_quantile,
)
from sim.report.comparison import compare_report
from sim.studies.sweep import run_sweep
from tests.test_sweep import write_sweep


def rows(group: str, values: list[float], metric: str = "busy_hour_satisfaction") -> list[dict]:
    return [
        {"policy.name": group, "seed": seed, "status": "done", metric: value}
        for seed, value in enumerate(values, start=1)
    ]


def test_t_quantiles_from_the_table() -> None:
    assert t_quantile(1) == 12.7062
    assert t_quantile(9) == 2.2622
    assert t_quantile(35) == 2.0423  # between 30 and 40: the wider df 30 value
    assert t_quantile(10_000) == 1.9799
    with pytest.raises(ValueError):
        t_quantile(0)


def test_mean_ci_by_hand() -> None:
    # mean 2.5; s^2 = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3; CI = t(3) s / sqrt(4)
    stats = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert stats.n == 4 and stats.mean == 2.5
    assert stats.sd == pytest.approx(math.sqrt(5 / 3))
    assert stats.ci == pytest.approx(3.1824 * math.sqrt(5 / 3) / 2)
    assert mean_ci([0.7]).ci is None


def test_paired_difference_uses_common_keys_only() -> None:
    a = {1: 0.90, 2: 0.80, 3: 0.85}
    b = {1: 0.70, 2: 0.65, 3: 0.60, 4: 0.10}
    # differences 0.20, 0.15, 0.25: mean 0.2, s = 0.05, CI = 4.3027 * 0.05 / sqrt(3)
    diff = paired_difference(a, b)
    assert diff.n == 3
    assert diff.mean == pytest.approx(0.2)
    assert diff.sd == pytest.approx(0.05)
    assert diff.ci == pytest.approx(4.3027 * 0.05 / math.sqrt(3))
    assert diff.significant


def test_clear_win_verdict() -> None:
    # Differences 0.20, 0.19, 0.21, 0.22: mean 0.205, s^2 = 5e-4 / 3, CI = 3.1824 s / 2 = 0.0205
    table = rows("htb-weighted", [0.90, 0.85, 0.95, 0.80]) + rows(
        "equal-static", [0.70, 0.66, 0.74, 0.58]
    )
    result = compare(table, metrics=["busy_hour_satisfaction"])
    figures = result.metrics["busy_hour_satisfaction"]
    assert figures.best == "htb-weighted"
    best = figures.groups["htb-weighted"]
    assert best.mean == pytest.approx(0.875)
    assert best.ci == pytest.approx(3.1824 * math.sqrt(0.0125 / 3) / 2)
    pair = figures.paired["equal-static"].difference
    assert pair.mean == pytest.approx(0.205)
    assert pair.ci == pytest.approx(3.1824 * math.sqrt(5e-4 / 3) / 2)
    assert Comparison.from_json(result.to_json()) == result
    assert result.verdicts == [
        "htb-weighted beats equal-static on busy-hour satisfaction by 0.205 ± 0.021 "
        "(95 % CI, 4 paired seeds)"
    ]


def test_tie_verdict() -> None:
    # best (higher mean) is max-min; its differences -0.01, 0.02, -0.01, 0.02 span 0
    table = rows("htb-equal", [0.90, 0.80, 0.85, 0.75]) + rows("max-min", [0.89, 0.82, 0.84, 0.77])
    result = compare(table, metrics=["busy_hour_satisfaction"])
    assert result.metrics["busy_hour_satisfaction"].best == "max-min"
    assert result.verdicts == [
        "max-min vs htb-equal: no significant difference on busy-hour satisfaction "
        "(0.005 ± 0.028, 95 % CI, 4 paired seeds)"
    ]


def test_identical_results_verdict() -> None:
    table = rows("htb-equal", [0.9, 0.8]) + rows("max-min", [0.9, 0.8 + 1e-16])
    assert compare(table, metrics=["busy_hour_satisfaction"]).verdicts == [
        "htb-equal and max-min give the same busy-hour satisfaction on all 2 paired seeds"
    ]


def test_lower_is_better_and_pairing_across_other_grid_values() -> None:
    table = []
    for purchase, offset in ((100, 0.0), (200, 5.0)):
        for group, base in (("a", 1.0), ("b", 3.0)):
            for row in rows(group, [base + offset, base + offset + 0.5], metric="unmet_gb"):
                table.append({**row, "purchase.upstream_mbps": purchase})
    result = compare(table, metrics=["unmet_gb"])
    figures = result.metrics["unmet_gb"]
    assert figures.best == "a" and figures.direction == "lower"
    pair = figures.paired["b"].difference
    assert pair.n == 4 and pair.mean == pytest.approx(-2.0) and pair.ci == 0.0
    assert result.verdicts == [
        "a beats b on unmet demand (GB) by 2 ± 0 (95 % CI, 4 paired runs; lower is better)"
    ]


def test_pareto_front() -> None:
    points = [(1.0, 0.5), (2.0, 0.4), (2.0, 0.8), (3.0, 0.8), (4.0, 0.9)]
    assert pareto_front(points) == [0, 2, 4]


def test_report_and_rows_read_back_from_csv(tmp_path: Path) -> None:
    grid = '\n"purchase.upstream_mbps" = [20, 60]\n"policy.name" = ["equal-static", "max-min"]\n'
    result = run_sweep(write_sweep(tmp_path, grid=grid), workers=1, out_root=tmp_path)
    with result.csv_path.open() as handle:
        from_csv = list(csv.DictReader(handle))
    assert compare(from_csv).verdicts == compare(result.rows).verdicts
    page = compare_report(result, result.rows, tmp_path / "compare.html").read_text()
    assert '<script src="plotly.min.js">' in page and "* plotly.js v" not in page
    assert (tmp_path / "plotly.min.js").read_text().count("* plotly.js v") == 1
    assert "frontier" in page and '"type":"heatmap"' in page and "Office A" in page
    assert all(escape(v) in page for v in compare(result.rows).verdicts)
