"""Calibration: the closed-form load against the simulator, censoring, and the round trip
from counters of a known scenario back to its load."""

from __future__ import annotations

import datetime as dt
import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.calibration import Calibration
from sim.demand.expected import hourly_load
from sim.measure.counters import clean
from sim.measure.formats import parse_zone, read
from sim.measure.sites import to_sites
from sim.model.scenario import Scenario, load_scenario
from sim.run import run_scenario
from sim.studies.calibrate import calibrate
from sim.studies.synthetic import Synthetic, counter_csv

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "measured"
WIB = parse_zone("WIB")


def busy_and_daily(scenario: Scenario, site_id: str, days: list[dt.date]) -> tuple[float, float]:
    """Busy-hour mean offered download (bytes an hour) and mean daily volume over `days`."""
    load = hourly_load(scenario, scenario.topology.site(site_id), days)[:, :, 0]
    return float(load.mean(axis=0).max()), float(load.sum(axis=1).mean())


def test_closed_form_load_is_the_simulators():
    """Offered bytes of six simulated days against the closed form (all sites, 8 %)."""
    scenario = load_scenario(ROOT / "scenarios" / "small-workday.toml")
    scenario = scenario.with_run(start=dt.datetime(2022, 2, 2), duration="24h")
    expected = sum(
        hourly_load(scenario, s, [scenario.start.date()]).sum(axis=(0, 1)) for s in scenario.sites
    )
    simulated = np.zeros(2)
    for seed in range(1, 7):
        for flow in run_scenario(scenario.with_run(seed=seed)).flows:
            simulated[int(flow.direction == "up")] += flow.size / 6
    assert simulated == pytest.approx(expected, rel=0.08)


def _small_truth() -> tuple[Scenario, Scenario]:
    """A small scenario as assumed (start) and as it 'really' is (truth): other demand per site,
    the park's hotspot capped below its evening peak."""
    start = load_scenario(ROOT / "scenarios" / "small-workday.toml").with_run(
        start=dt.datetime(2023, 1, 17)
    )
    data = start.spec.model_dump()
    data["policy"]["sites"] = {"taman_kota": {"ceil_mbps": 3}}
    data["calendar"] = {"use": True}
    # offices that upload enough for the upload share to show in the up/down ratio
    data["demand"]["kinds"]["office"]["mix"]["upload"] = 0.4
    start = start.edited(data)
    scales = {
        "setda": 1.4,
        "disdik": 0.6,
        "dpupr": 1.0,
        "dinsos": 0.8,
        "ikon_jelawat": 1.2,
        "taman_kota": 1.5,
        "kec_baamang": 0.7,
    }
    data["calibration"] = {"sites": {k: {"scale": v} for k, v in scales.items()}}
    data["calibration"]["sites"]["disdik"]["mix"] = {"upload": 2.5}  # uploads more than assumed
    data["calibration"]["friday_prayer_factor"] = 0.6  # offices pause less than assumed (0.3)
    return start, start.edited(data)


def test_censored_hours_estimated_and_upload_share_fitted(tmp_path):
    start, truth = _small_truth()
    days = [dt.date(2023, 1, 17) + dt.timedelta(days=n) for n in range(14)]
    text = counter_csv(
        truth, Synthetic(days, noise=0.05, flaws=False), {s.id: s.id for s in truth.sites}
    )
    path = tmp_path / "counters.csv"
    path.write_text(text)
    intervals, _ = clean(read(path, "csv", WIB))
    rows, _ = to_sites(intervals, {s.id: s.id for s in truth.sites}, "hub")
    calibrated, result = calibrate(start, rows, WIB)
    fits = {f.site.id: f for f in result.sites}
    text = json.dumps(result.to_json())
    assert json.dumps(Calibration.from_json(json.loads(text), start.sites).to_json()) == text
    park = fits["taman_kota"]
    assert park.censored and "estimated" in park.hours
    cap = 3e6 / 8 / truth.spec.network.overhead * 3600  # goodput bytes an hour at the cap
    workdays = [d for d in days if d in result.workdays]
    true_busy, _ = busy_and_daily(truth, "taman_kota", workdays)
    got_busy, _ = busy_and_daily(calibrated, "taman_kota", workdays)
    assert true_busy > 1.3 * cap  # the cap hides a third of the evening's demand ...
    assert got_busy == pytest.approx(true_busy, rel=0.05)  # ... which the fit recovers
    assert not fits["setda"].censored and "estimated" not in fits["setda"].hours
    assert calibrated.spec.calibration.sites["taman_kota"].provenance["weekday"] == "estimated"
    assert calibrated.spec.calibration.sites["taman_kota"].provenance["mix"] == "assumed"
    disdik = calibrated.spec.calibration.sites["disdik"]
    assert disdik.mix["upload"] == pytest.approx(2.5, rel=0.05)
    assert disdik.scale == pytest.approx(0.6, rel=0.05)
    up = [
        hourly_load(s, s.topology.site("disdik"), workdays)[:, :, 1].sum()
        for s in (truth, calibrated)
    ]
    assert up[1] == pytest.approx(up[0], rel=0.05)
    assert calibrated.spec.calibration.friday_prayer_factor == pytest.approx(0.6, abs=0.03)
    assert calibrated.spec.calibration.provenance["friday_prayer"] == "fitted"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The shipped synthetic example through its three commands, as a user runs them (the
    counters are made, not kept in git)."""
    import subprocess
    import sys

    netlab = str(Path(sys.executable).parent / "netlab")
    out = tmp_path_factory.mktemp("calibration")
    made = out / "synthetic"
    subprocess.run(
        [sys.executable, str(EXAMPLE / "make_synthetic.py"), str(made)], check=True, cwd=ROOT
    )
    subprocess.run(
        [
            netlab,
            "import-counters",
            str(made / "counters.csv.gz"),
            "-f",
            "csv",
            "--scenario",
            str(EXAMPLE / "kotim-deployed.toml"),
            "--map",
            str(made / "interfaces.toml"),
            "--out",
            str(out / "measured"),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    subprocess.run(
        [
            netlab,
            "calibrate",
            str(out / "measured"),
            "--scenario",
            str(EXAMPLE / "kotim-deployed.toml"),
            "--out",
            str(out / "kotim-calibrated.toml"),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return out


def test_round_trip_recovers_busy_hour_and_daily_volume(example):
    """Counters of the known scenario, calibrated from the deployed (assumed) one: each site's
    busy-hour offered load and daily volume within 5 % of the known scenario's."""
    known = load_scenario(EXAMPLE / "kotim-synthetic" / "known.toml")
    start = load_scenario(EXAMPLE / "kotim-deployed.toml")
    calibrated = load_scenario(example / "kotim-calibrated.toml")
    days = [dt.date(2023, 1, 17) + dt.timedelta(days=n) for n in range(14)]
    workdays = [d for d in days if d.weekday() < 5 and d != dt.date(2023, 1, 23)]
    wrong = 0
    for site in known.sites:
        truth = busy_and_daily(known, site.id, workdays)
        got = busy_and_daily(calibrated, site.id, workdays)
        assumed = busy_and_daily(start, site.id, workdays)
        assert got == pytest.approx(truth, rel=0.05), site.id
        wrong += assumed[0] != pytest.approx(truth[0], rel=0.1)
    assert wrong > len(known.sites) / 2  # the start was wrong for most sites


def test_calibrated_scenario_says_where_figures_come_from(example):
    data = tomllib.loads((example / "kotim-calibrated.toml").read_text())
    assert data["calendar"]["use"] is True
    park = data["calibration"]["sites"]["taman_kota"]
    assert park["censored"] is True and park["provenance"]["weekday"] == "estimated"
    setda = data["calibration"]["sites"]["setda"]
    assert setda["provenance"] == {
        "scale": "fitted",
        "weekday": "fitted",
        "weekend": "fitted",
        "users": "assumed",
        "mix": "assumed",  # uploads carry ~3 % of the upload bytes: not identifiable
        "busy_hour_mbps": "measured",
        "p95_mbps": "measured",
        "daily_gb": "measured",
    }
    assert data["calibration"]["provenance"]["applications"] == "assumed"
    assert data["calibration"]["friday_prayer_factor"] == pytest.approx(0.3, abs=0.02)
    assert math.isclose(setda["measured"]["busy_hour_mbps"], 34.5, rel_tol=0.1)
    page = (example / "kotim-calibrated.html").read_text()
    assert "censored: taman_kota" in page and "Plotly" in page


def test_calibrate_bad_measured_file_exits_2(netlab, tmp_path):
    bad = tmp_path / "measured.csv"
    bad.write_text("site,start,seconds,down_bytes,up_bytes\nsetda,yesterday,300,1,2\n")
    result = netlab(
        "calibrate",
        str(bad),
        "--scenario",
        "scenarios/example-small.toml",
        "--out",
        str(tmp_path / "c.toml"),
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"netlab: error: {bad}: line 2:")
    assert len(result.stderr.strip().splitlines()) == 1


def _measured(truth: Scenario, days: list[dt.date], tmp_path: Path):
    path = tmp_path / "counters.csv"
    names = {s.id: s.id for s in truth.sites}
    path.write_text(counter_csv(truth, Synthetic(days, noise=0.05, flaws=False), names))
    intervals, _ = clean(read(path, "csv", WIB))
    return to_sites(intervals, names, "hub")[0]


def test_weekend_only_data_still_calibrates(tmp_path):
    """Two weekend days: the weekend profile is fitted, the weekday shape stays the kind's."""
    start, truth = _small_truth()
    rows = _measured(truth, [dt.date(2023, 1, 21), dt.date(2023, 1, 22)], tmp_path)
    rows.append(rows[0].__class__("nowhere", rows[0].start, 300.0, 1.0, 1.0))
    calibrated, result = calibrate(start, rows, WIB)
    setda = calibrated.spec.calibration.sites["setda"]
    assert setda.provenance["weekday"] == "estimated" and setda.provenance["weekend"] == "fitted"
    assert setda.scale == pytest.approx(1.4, rel=0.05)
    assert any(note.startswith("nowhere: measured, but not a served site") for note in result.notes)
