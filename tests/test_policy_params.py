"""A scenario's own policy parameters survive the optimiser and `netlab run --policy`.

The regression: a copy of the baseline with `guaranteed_share = 0.5` was searched with 0.5, but
its confirmation run and the `split` in recommendation.json were rebuilt with the default 0.9,
and `netlab run --policy htb-weighted` dropped the file's 0.5 as well.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

SHARE = 0.5
HEADROOM = 0.97  # [network] root_headroom default


def half_share_baseline(folder: Path) -> Path:
    """The baseline with guaranteed_share 0.5, a 1-hour day and a tiny, lenient search."""
    text = (ROOT / "scenarios" / "kotim-baseline.toml").read_text()
    text = text.replace('"../topologies/kotim.toml"', f'"{ROOT / "topologies" / "kotim.toml"}"')
    text = text.replace("guaranteed_share = 0.9", f"guaranteed_share = {SHARE}")
    text = text.replace("start = 2022-02-02T00:00:00", "start = 2022-02-02T09:00:00")
    text = text.replace('duration = "24h"', 'duration = "20m"')
    head, _ = text.split("[optimize]")
    path = folder / "half-share.toml"
    path.write_text(
        head
        + """[optimize]
policies = ["htb-weighted"]
seeds = 1
confirm_seeds = 1
min_mbps = 450
max_mbps = 500
step_mbps = 50
window = "10m"
window_start = "09:00"
growth = []

[optimize.objectives]
office_busy_hour_satisfaction = 0
paced_at_rate_share = 0
jain_index = 0
"""
    )
    return path


def expected_rates_mbps(mbps: float, share: float) -> dict[str, float]:
    """htb-weighted by hand: R x share x users / total users, clipped to the access link."""
    sites = tomllib.loads((ROOT / "topologies" / "kotim.toml").read_text())["sites"]
    served = [s for s in sites if s.get("access_mbps")]
    total = sum(s["users"] for s in served)
    root = mbps * HEADROOM
    return {s["id"]: min(root * share * s["users"] / total, s["access_mbps"]) for s in served}


def leaf_rates_mbps(manifest_plan: dict) -> dict[str, float]:
    return {c["site"]: c["rate_bps"] / 1e6 for c in manifest_plan["down"] if c["site"]}


def run_plan(netlab, tmp_path: Path, policy: str) -> dict:
    """`netlab run --policy POLICY` on the half-share baseline; the plan its manifest records."""
    path = half_share_baseline(tmp_path)
    out = tmp_path / "runs"
    result = netlab("run", str(path), "--policy", policy, "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr
    (folder,) = out.iterdir()
    (plan,) = json.loads((folder / "manifest.json").read_text())["plans"]
    return plan


def test_run_with_the_files_own_policy_keeps_its_parameters(netlab, tmp_path) -> None:
    plan = run_plan(netlab, tmp_path, "htb-weighted")
    assert leaf_rates_mbps(plan) == pytest.approx(expected_rates_mbps(500, SHARE), rel=1e-9)


def test_run_with_another_policy_starts_from_its_defaults(netlab, tmp_path) -> None:
    rates = leaf_rates_mbps(run_plan(netlab, tmp_path, "htb-equal"))
    equal = 500 * HEADROOM * 0.9 / len(rates)  # the default share, split equally
    assert list(rates.values()) == pytest.approx([equal] * len(rates), rel=1e-9)


def test_optimiser_confirms_and_recommends_the_split_it_searched(netlab, tmp_path) -> None:
    path = half_share_baseline(tmp_path)
    out = tmp_path / "runs"
    result = netlab("optimize", str(path), "--workers", "2", "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr
    (folder,) = out.iterdir()
    answer = json.loads((folder / "recommendation.json").read_text())
    assert answer["policy"] == "htb-weighted"
    split = {row["site"]: row["rate_mbps"] for row in answer["split"]}
    expected = expected_rates_mbps(answer["mbps"], SHARE)
    assert split == pytest.approx(expected, abs=5e-4)  # the split is rounded to 1 kbit/s
    # the confirmation run is the one the folder holds: its plan is the searched one too
    (plan,) = json.loads((folder / "manifest.json").read_text())["plans"]
    assert leaf_rates_mbps(plan) == pytest.approx(expected, rel=1e-9)
    assert answer["policy_params"]["guaranteed_share"] == SHARE
