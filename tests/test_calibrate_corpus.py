"""Every real MRTG log of ../shared/real-inputs/mrtg (skipped where absent) imported as the
upstream of the example regency and calibrated; the 100 Mbit/s link whose 5-minute peak sat at
its ceiling (redescopy_10.1.33.26_3.log) reported censored, its peak demand estimated above
the ceiling with an interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.measure.counters import clean
from sim.measure.formats import parse_zone, read, swapped
from sim.measure.sites import to_sites
from sim.model.scenario import load_scenario
from sim.studies.calibrate import calibrate

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "real-inputs" / "mrtg"
if not CORPUS.is_dir():
    CORPUS = Path(__file__).resolve().parents[3] / "shared" / "real-inputs" / "mrtg"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="no ../shared/real-inputs corpus")

# file: (link's ceiling Mbit/s, local clock, whether `out` is the download). The redescopy
# logs are of ports whose out is the larger direction by 8x: the download (--swap).
LOGS = {
    "redescopy_10.1.33.26_3.log": (100, "-05:00", True),
    "redescopy_10.1.250.9_5.log": (1000, "-05:00", True),
    "redescopy_10.1.65.254_5.log": (1000, "-05:00", True),
    "iodif_10.0.4.254_0.old": (1000, "+03:00", False),
    "dosh_localhost_enp11s0f1.log": (1000, "+08:00", False),
    "ZoominMag_localhost_2.log": (1000, "+08:00", False),
    "ZoominMag_localhost_2.old": (1000, "+08:00", False),
}


def _calibrated(name: str):
    mbps, clock, swap = LOGS[name]
    zone = parse_zone(clock)
    readings = read(CORPUS / name, "mrtg", zone, "wan")
    intervals, _ = clean(swapped(readings) if swap else readings)
    rows, unmapped = to_sites(intervals, {"wan": "hub"}, "hub")
    assert rows and not unmapped
    start = load_scenario(ROOT / "scenarios" / "measured" / "kotim-deployed.toml")
    return calibrate(start.with_purchase(mbps), rows, zone)


def test_the_corpus_is_all_here():
    assert sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".log", ".old")) == sorted(LOGS)


@pytest.mark.parametrize("name", sorted(LOGS))
def test_every_log_calibrates_as_the_upstream(name):
    calibrated, result = _calibrated(name)
    fit = result.upstream
    assert fit is not None and len(fit.sites) == len(calibrated.sites)
    assert fit.interval_mbps[0] <= fit.busy_hour_mbps <= fit.interval_mbps[1]
    assert np.all(np.isfinite(fit.fitted_hourly)) and fit.identifiability
    assert fit.peak_days > 0 or name == "ZoominMag_localhost_2.log"  # all zeros but line 2


def test_the_saturated_100_mbit_link_is_censored_and_estimated_above_its_ceiling():
    """Its one day at the ceiling (97.97 Mbit/s in a 5-minute peak, 2021-06-17 local, the row
    starting the 16th at 19:00) is censored; the peak demand behind it is estimated from the
    other days' peaks above 100 Mbit/s, with an interval that holds the estimate."""
    _, result = _calibrated("redescopy_10.1.33.26_3.log")
    fit = result.upstream
    assert fit is not None and fit.censored and fit.ceiling_mbps == 100
    assert fit.peak_censored_days == ["2021-06-16"]
    assert fit.peak_mbps is not None and fit.peak_interval_mbps is not None
    low, high = fit.peak_interval_mbps
    assert 100 < low <= fit.peak_mbps <= high < 200
    assert any("5-minute peak sat at the ceiling" in line for line in fit.identifiability)
