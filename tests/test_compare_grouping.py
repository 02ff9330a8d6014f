"""`netlab compare` never pools different settings: grouping keys, refusal, file names."""

from __future__ import annotations

from pathlib import Path

from sim.analysis.compare import file_name, pooled_keys
from tests.test_sweep import write_sweep

GRID_2X2 = '\n"purchase.upstream_mbps" = [20, 60]\n"policy.name" = ["equal-static", "max-min"]\n'
POINTS = [
    {"purchase.upstream_mbps": up, "policy.name": name}
    for up in (20, 60)
    for name in ("equal-static", "max-min")
]


def test_grouping_by_one_key_of_two_pools_the_other() -> None:
    assert pooled_keys(POINTS, ["policy.name"]) == ["purchase.upstream_mbps"]
    assert pooled_keys(POINTS, ["purchase.upstream_mbps"]) == ["policy.name"]


def test_grouping_by_every_grid_key_pools_nothing() -> None:
    assert pooled_keys(POINTS, ["policy.name", "purchase.upstream_mbps"]) == []
    one_key = [{"connect.kec_a": option} for option in ("none", "vsat", "lte", "radio")]
    assert pooled_keys(one_key, ["connect.kec_a"]) == []


def test_file_names_follow_the_grouping() -> None:
    grid = ["purchase.upstream_mbps", "policy.name"]
    assert file_name(grid, grid) == "comparison.html"
    assert file_name(["policy.name"], ["policy.name"]) == "comparison.html"
    assert file_name(["policy.name", "x"], grid) == "comparison-by-policy.name+x.html"


def test_compare_refuses_to_pool_with_exit_2(netlab, tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path, grid=GRID_2X2)
    result = netlab("compare", str(sweep), "--by", "policy.name", "--out", str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "would pool points" in lines[0]
    assert "--by policy.name,purchase.upstream_mbps" in lines[0]
    assert not (tmp_path / "sweeps").exists()  # refused before running anything
    unknown = netlab("compare", str(sweep), "--by", "policy.nam", "--out", str(tmp_path))
    assert unknown.returncode == 2 and "not a grid key" in unknown.stderr


def test_compare_by_both_keys_writes_its_own_file(netlab, tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path, grid=GRID_2X2)
    by = "policy.name,purchase.upstream_mbps"
    result = netlab("compare", str(sweep), "--by", by, "--out", str(tmp_path), "-q")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "sweeps" / "t"
    assert (folder / "comparison-by-policy.name+purchase.upstream_mbps.html").exists()
    assert not (folder / "comparison.html").exists()
