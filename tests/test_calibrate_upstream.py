"""Calibration from the provider's upstream graph alone, a saturated upstream, and upstream
plus a few measured sites: SYNTHETIC counters of a known scenario, calibrated back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sim.measure.formats import parse_zone
from sim.model.scenario import Scenario, load_scenario
from sim.studies.synthetic import Synthetic, counter_csv

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "measured"
WIB = parse_zone("WIB")


def known() -> Scenario:
    """The example's known scenario (kotim-deployed with a drawn demand per site)."""
    return load_scenario(EXAMPLE / "kotim-synthetic" / "known.toml")


def upstream_counters(path: Path, truth: Scenario, days: list[dt.date], **spec) -> Path:
    """SYNTHETIC counters of the upstream alone (port sfp1), as the provider's graph has them."""
    text = counter_csv(truth, Synthetic(days, flaws=False, **spec), {truth.topology.hub.id: "sfp1"})
    path.write_text(text, encoding="utf-8")
    (path.parent / "map.toml").write_text('sfp1 = "hub"\n', encoding="utf-8")
    return path


def test_upstream_only_calibration_draws_its_page(netlab, tmp_path):
    """Only the upstream measured: the page is drawn (no site's hourly sum to plot)."""
    days = [dt.date(2023, 1, 17), dt.date(2023, 1, 18)]
    counters = upstream_counters(tmp_path / "up.csv", known(), days)
    deployed = str(EXAMPLE / "kotim-deployed.toml")
    imported = netlab(
        "import-counters", str(counters), "-f", "csv", "--scenario", deployed,
        "--map", str(tmp_path / "map.toml"), "--out", str(tmp_path / "m"),
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    done = netlab(
        "calibrate", str(tmp_path / "m"), "--scenario", deployed, "--out", str(tmp_path / "c.toml")
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert "upstream, measured" in page and "sum of the sites, measured" not in page
