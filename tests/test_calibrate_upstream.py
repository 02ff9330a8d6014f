"""Calibration from the provider's upstream graph alone, a saturated upstream, and upstream
plus a few measured sites: SYNTHETIC counters of a known scenario (the example's known.toml),
calibrated back from the deployed (assumed) scenario."""

from __future__ import annotations

import datetime as dt
import json
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
from sim.report.calibration import write_calibration_report
from sim.studies.calibrate import calibrate
from sim.studies.synthetic import Synthetic, counter_csv

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "measured"
WIB = parse_zone("WIB")
DAYS = [dt.date(2023, 1, 17) + dt.timedelta(days=n) for n in range(14)]  # Imlek included


def known() -> Scenario:
    """The example's known scenario (kotim-deployed with a drawn demand per site)."""
    return load_scenario(EXAMPLE / "kotim-synthetic" / "known.toml")


def deployed() -> Scenario:
    return load_scenario(EXAMPLE / "kotim-deployed.toml")


def busy_hour_mbps(scenario: Scenario, days: list[dt.date]) -> float:
    """The regency's busy hour: every site's offered download, mean over `days`, Mbit/s."""
    load = sum(hourly_load(scenario, site, days)[:, :, 0] for site in scenario.sites)
    return float(np.max(np.mean(load, axis=0))) * 8.0 / 3600.0 / 1e6


def upstream_counters(path: Path, truth: Scenario, days: list[dt.date], **spec) -> Path:
    """SYNTHETIC counters of the upstream alone (port sfp1), as the provider's graph has them."""
    text = counter_csv(truth, Synthetic(days, flaws=False, **spec), {truth.topology.hub.id: "sfp1"})
    path.write_text(text, encoding="utf-8")
    (path.parent / "map.toml").write_text('sfp1 = "hub"\n', encoding="utf-8")
    return path


def calibrated_from(tmp_path: Path, start: Scenario, sites: tuple[str, ...] = (), **spec):
    """Calibrate `start` from SYNTHETIC counters of the known scenario: the upstream, and the
    `sites`' own ports."""
    truth = known()
    names = {truth.topology.hub.id: "sfp1", **{site: site for site in sites}}
    path = tmp_path / "counters.csv"
    path.write_text(counter_csv(truth, Synthetic(DAYS, flaws=False, **spec), names))
    intervals, _ = clean(read(path, "csv", WIB))
    rows, _ = to_sites(intervals, {v: k for k, v in names.items()}, truth.topology.hub.id)
    return calibrate(start, rows, WIB)


def test_upstream_only_calibration_draws_its_page(netlab, tmp_path):
    """Only the upstream measured, through the commands: the page is drawn (no site's hourly
    sum to plot, which once ended in a plotly error) and the scenario written says how."""
    counters = upstream_counters(tmp_path / "up.csv", known(), DAYS[:3])
    scenario = str(EXAMPLE / "kotim-deployed.toml")
    imported = netlab(
        "import-counters", str(counters), "-f", "csv", "--scenario", scenario,
        "--map", str(tmp_path / "map.toml"), "--out", str(tmp_path / "m"),
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    done = netlab(
        "calibrate", str(tmp_path / "m"), "--scenario", scenario, "--out", str(tmp_path / "c.toml")
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert "upstream, measured" in page and "sum of the sites, measured" not in page
    data = tomllib.loads((tmp_path / "c.toml").read_text(encoding="utf-8"))["calibration"]
    assert data["sites"]["setda"]["provenance"]["scale"] == "fitted-total"
    assert data["sites"]["setda"]["provenance"]["split"] == "assumed"
    assert data["provenance"]["split_among_sites"] == "assumed"
    assert any("splits among them is not in the data" in line for line in data["identifiability"])
    low, high = data["interval_mbps"]
    assert low <= data["busy_hour_mbps"] <= high


def test_upstream_only_recovers_the_busy_hour(tmp_path):
    """The regency's busy-hour offered download from the upstream alone: within 5 % of the
    known scenario's, where the assumed one is 15 % off; the record reads back."""
    calibrated, result = calibrated_from(tmp_path, deployed())
    truth = busy_hour_mbps(known(), result.workdays)
    assert busy_hour_mbps(deployed(), result.workdays) > 1.1 * truth  # the start was wrong
    assert busy_hour_mbps(calibrated, result.workdays) == pytest.approx(truth, rel=0.05)
    fit = result.upstream
    assert fit is not None and not fit.censored and len(fit.sites) == len(calibrated.sites)
    assert fit.busy_hour_mbps == pytest.approx(truth, rel=0.05)
    assert fit.interval_mbps[0] <= fit.busy_hour_mbps <= fit.interval_mbps[1]
    # the hub's own 2 Mbit/s (on the wire) found as the constant, within 1.5 Mbit/s: the sites'
    # flat night hours look alike, so the constant is known to about the night's load
    assert fit.background_mbps == pytest.approx(2.0 / calibrated.spec.network.overhead, abs=1.5)
    text = json.dumps(result.to_json())
    assert json.dumps(Calibration.from_json(json.loads(text), calibrated.sites).to_json()) == text


def test_saturated_upstream_estimates_the_demand_above_its_ceiling(tmp_path):
    """The upstream capped at 300 Mbit/s (L2) below a ~400 Mbit/s (L2) busy hour: the working
    days' office hours are censored, and the demand behind them, estimated from the other
    hours and the fitted shape, is within 10 % of the known scenario's, above the ceiling."""
    start = deployed().with_purchase(300)
    calibrated, result = calibrated_from(tmp_path, start, upstream_cap_mbps=300)
    fit = result.upstream
    assert fit is not None and fit.censored and fit.ceiling_mbps == 300
    assert fit.censored_busy_share == 1.0 and fit.busy_hour in fit.censored_hours
    truth = busy_hour_mbps(known(), result.workdays)
    assert busy_hour_mbps(calibrated, result.workdays) == pytest.approx(truth, rel=0.10)
    goodput_ceiling = 300 / start.spec.network.overhead
    assert fit.interval_mbps[0] > goodput_ceiling  # never taken as the ceiling
    assert fit.measured_hourly[fit.busy_hour] <= goodput_ceiling * 1.001  # what passed
    assert calibrated.spec.calibration.provenance["busy_hour"] == "estimated"
    assert any("ceiling" in line for line in fit.identifiability)
    write_calibration_report(tmp_path / "page.html", result, start.name)
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert "censored: the upstream" in page and "estimated above the ceiling" in page
    assert f"censored: {fit.censored_busy_share:.0%} of the working days' busy hour" in page


def test_some_sites_measured_and_the_rest_from_the_upstream(tmp_path):
    """Three sites on their own ports, fitted individually; the other 43 from the upstream
    less those three: each measured site and the regency's busy hour within 5 %."""
    measured = ("setda", "disdik", "taman_kota")
    calibrated, result = calibrated_from(tmp_path, deployed(), measured)
    assert [fit.site.id for fit in result.sites] == list(measured)
    fit = result.upstream
    assert fit is not None and set(fit.sites).isdisjoint(measured)
    assert len(fit.sites) == len(calibrated.sites) - 3
    truth, days = known(), result.workdays
    assert busy_hour_mbps(calibrated, days) == pytest.approx(busy_hour_mbps(truth, days), rel=0.05)
    sites = calibrated.spec.calibration.sites
    assert sites["setda"].provenance["scale"] == "fitted"
    assert sites["dinsos"].provenance["scale"] == "fitted-total"
    setda = [
        hourly_load(s, s.topology.site("setda"), days)[:, :, 0].sum() for s in (truth, calibrated)
    ]
    assert setda[1] == pytest.approx(setda[0], rel=0.05)


def test_a_file_whose_interface_maps_to_nothing_is_refused(netlab, tmp_path):
    """An MRTG log of the upstream, but the topology names no upstream interface: one line
    naming the file, the interface, what the scenario knows and the two ways to map it."""
    log = ROOT / "tests" / "data" / "counters" / "ether5.log"
    scenario = str(EXAMPLE / "kotim-deployed.toml")
    result = netlab("import-counters", str(log), "-f", "mrtg", "--scenario", scenario,
                    "--out", str(tmp_path / "m"))  # fmt: skip
    assert result.returncode == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith(f"netlab: error: {log}: interface: 'ether5' maps to no site")
    assert "the scenario knows no interface" in line
    assert '--map FILE (ether5 = "site id", or = "hub" for the upstream)' in line
    assert 'counters = "ether5"' in line
    assert not (tmp_path / "m").exists()  # nothing half-written


def test_calibrating_nothing_measured_names_the_key(netlab, tmp_path):
    """measured.csv with no served site and no upstream: the hub's `counters` key is named."""
    measured = tmp_path / "measured.csv"
    measured.write_text(
        "site,start,seconds,down_bytes,up_bytes\nnowhere,2023-01-17T08:00:00+07:00,300,1,2\n"
    )
    result = netlab("calibrate", str(measured), "--scenario", str(EXAMPLE / "kotim-deployed.toml"),
                    "--out", str(tmp_path / "c.toml"))  # fmt: skip
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.startswith(f"netlab: error: {measured}: site: no served site and no upstream")
    assert "the hub's `counters` key in the topology" in line and len(line.splitlines()) == 1
    assert not (tmp_path / "c.toml").exists()


@pytest.mark.slow
def test_optimiser_answer_from_the_upstream_alone(tmp_path):
    """The small inventory with every site's session rate 3.5 times the assumption (SYNTHETIC):
    from its upstream's counters alone, `netlab optimize`'s answer is within one grid step of
    the known scenario's, where the assumed scenario's is two steps short."""
    from sim.studies.optimize.recommend import recommend

    start = load_scenario(ROOT / "scenarios" / "small-workday.toml")
    data = start.with_run(start=dt.datetime(2023, 1, 17, 8)).spec.model_dump()
    data["calendar"] = {"use": True}
    start = start.edited(data)
    data["calibration"] = {"sites": {site.id: {"scale": 3.5} for site in start.sites}}
    truth = start.edited(data)
    path = tmp_path / "counters.csv"
    path.write_text(counter_csv(truth, Synthetic(DAYS, flaws=False), {"hub": "sfp1"}))
    rows, _ = to_sites(clean(read(path, "csv", WIB))[0], {"sfp1": "hub"}, "hub")
    calibrated, result = calibrate(start, rows, WIB)
    assert result.upstream is not None
    assert result.upstream.scales["office"] == pytest.approx(3.5, rel=0.05)
    step = truth.spec.optimize.step_mbps
    answers = {name: recommend(s, workers=1).mbps for name, s in
               (("truth", truth), ("calibrated", calibrated), ("start", start))}  # fmt: skip
    assert answers["truth"] is not None and answers["calibrated"] is not None
    assert abs(answers["calibrated"] - answers["truth"]) <= step
    assert answers["start"] is not None and answers["truth"] - answers["start"] >= 2 * step


def test_the_profile_is_fitted_on_the_sites_local_clock(tmp_path):
    """The same counters (absolute epochs) calibrated on the WIB and on the WITA clock: the
    measured upstream's hours move by one, and the record says which clock it used."""
    truth = known()
    path = tmp_path / "counters.csv"
    path.write_text(counter_csv(truth, Synthetic(DAYS[:7], flaws=False), {"hub": "sfp1"}))
    rows, _ = to_sites(clean(read(path, "csv", WIB))[0], {"sfp1": "hub"}, "hub")
    wib = calibrate(deployed(), rows, WIB)[1]
    wita = calibrate(deployed(), rows, parse_zone("WITA"))[1]
    assert (wib.zone, wita.zone) == ("WIB", "WITA")
    assert wib.upstream is not None and wita.upstream is not None
    shifted = np.roll(wib.upstream.measured_hourly, 1)
    assert wita.upstream.measured_hourly == pytest.approx(shifted, rel=0.05)


def test_ramadan_weeks_are_lived_by_the_calendar(tmp_path):
    """Counters over the week before Ramadan 2023 and its first ten days (SYNTHETIC): the fit
    goes through the calendar's Ramadan hours, so the busy hour of ordinary working days and
    of Ramadan days both come back within 5 %; Ramadan days are not counted as working days."""
    days = [dt.date(2023, 3, 13) + dt.timedelta(days=n) for n in range(21)]
    truth = known()
    path = tmp_path / "counters.csv"
    path.write_text(counter_csv(truth, Synthetic(days, flaws=False), {"hub": "sfp1"}))
    rows, _ = to_sites(clean(read(path, "csv", WIB))[0], {"sfp1": "hub"}, "hub")
    calibrated, result = calibrate(deployed(), rows, WIB)
    ramadan = [d for d in days if d >= dt.date(2023, 3, 23) and d.weekday() < 5]
    assert not set(ramadan) & set(result.workdays) and len(result.workdays) >= 5
    for chosen in (result.workdays, ramadan):
        got, want = busy_hour_mbps(calibrated, chosen), busy_hour_mbps(truth, chosen)
        assert got == pytest.approx(want, rel=0.05)
    assert busy_hour_mbps(truth, ramadan) < 0.9 * busy_hour_mbps(truth, result.workdays)


@pytest.mark.slow
def test_optimize_reports_the_purchase_across_the_calibrations_interval(netlab, tmp_path):
    """A scenario calibrated from its upstream alone (SYNTHETIC, the small inventory at 3.5
    times its assumed sessions), through the commands: `netlab optimize` states the purchase at
    the fitted demand and at the two ends of the calibration's 90 % interval, in order."""
    import re

    text = (ROOT / "scenarios" / "small-workday.toml").read_text(encoding="utf-8")
    text = text.replace('"../topologies/small.toml"', f'"{ROOT / "topologies" / "small.toml"}"')
    text = text.replace("start = 2022-02-01T08:00:00", "start = 2023-01-17T08:00:00")
    scenario = tmp_path / "small.toml"
    scenario.write_text(text + "\n[calendar]\nuse = true\n", encoding="utf-8")
    start = load_scenario(scenario)
    data = start.spec.model_dump()
    data["calibration"] = {"sites": {site.id: {"scale": 3.5} for site in start.sites}}
    counters = upstream_counters(tmp_path / "up.csv", start.edited(data), DAYS)
    steps = [
        ("import-counters", str(counters), "-f", "csv", "--scenario", str(scenario),
         "--map", str(tmp_path / "map.toml"), "--out", str(tmp_path / "m")),
        ("calibrate", str(tmp_path / "m"), "--scenario", str(scenario),
         "--out", str(tmp_path / "c.toml")),
        ("optimize", str(tmp_path / "c.toml"), "--workers", "1", "--quiet",
         "--out", str(tmp_path / "runs")),
    ]  # fmt: skip
    for step in steps:
        done = netlab(*step)
        assert done.returncode == 0, done.stderr
    line = re.search(
        r"([\d.]+) Mbit/s at the fitted demand; ([\d.]+)-([\d.]+) across the calibration's "
        r"90 % interval \(busy hour ([\d.]+)-([\d.]+) Mbit/s",
        " ".join(done.stdout.split()),
    )
    assert line is not None, done.stdout
    answer, low, high, busy_low, busy_high = (float(g) for g in line.groups())
    assert low <= answer <= high and busy_low < busy_high
