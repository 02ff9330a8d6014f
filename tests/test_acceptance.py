"""The acceptance trial against figures worked out by hand on a synthetic two-day run.

tests/data/tiny.toml moved to Friday 4 and Saturday 5 February 2022, hourly intervals. Busy
windows (hours whose profile weight is >= 0.8 of the kind's peak): offices Friday 08-12 and
13-15 (6 h), none on Saturday; the hotspot Friday 17-22 (5 h) and Saturday 10-22 (12 h).
Guarantees (htb-equal, root 97 Mbit/s L2): offices 29.1, the hotspot 20 Mbit/s L2, that is
27.83 and 19.13 Mbit/s of goodput (frame 1514 over payload 1448). Traffic is constant: down
goodput 20 (office_a), 10 (office_b) and 5 Mbit/s (hotspot), nothing up.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.acceptance import CHECKS, Acceptance, acceptance
from sim.analysis.labels import policy_words
from sim.demand.calendar import national
from sim.model.flow import Flow
from sim.model.policy_spec import POLICY_NAMES
from sim.model.scenario import load_scenario
from sim.report.acceptance import _sites_figure, site_rates, write_acceptance_report
from sim.report.berita_acara import CHECK_WORDS
from sim.run import RunRecord
from sim.shaping.schedule import compile_schedule

DATA = Path(__file__).parent / "data"
OVERHEAD = 1514 / 1448
STEPS = 48
HOUR = 3600.0
GOODPUT_MBPS = np.array([20.0, 10.0, 5.0])  # office_a, office_b, hotspot


def _download(id_: int, site: str, hour: float, size: float, delivered: float) -> Flow:
    start = hour * HOUR
    return Flow(
        id_,
        site,
        "download",
        "down",
        start,
        size,
        end=start + 60,
        delivered=delivered,
        status="done",
    )  # type: ignore[arg-type]


FLOWS = [
    # office_a, Friday 09:00: 40 Mbit/s over its 6 busy hours (1.08e11 B), 0.9e11 delivered
    _download(1, "office_a", 9, 1.08e11, 0.9e11),
    # office_a, Friday 16:00: outside the offices' windows, counts nowhere
    _download(2, "office_a", 16, 1e9, 0.0),
    # office_b, Friday 10:00: 5 Mbit/s over 6 h (1.35e10 B), all delivered
    _download(3, "office_b", 10, 1.35e10, 1.35e10),
    # hotspot, Friday 18:00: 4 Mbit/s over 5 h (9e9 B), 95 % delivered
    _download(4, "hotspot", 18, 9e9, 8.55e9),
    # hotspot, Saturday 12:00 (hour 36): 10 Mbit/s over 12 h (5.4e10 B), 92 % delivered
    _download(5, "hotspot", 36, 5.4e10, 4.968e10),
]


def _trial(start: dt.datetime, flows: list[Flow], calendar: bool = False) -> dict:
    """acceptance.json of two hourly-sampled days from `start` with constant traffic."""
    scenario = load_scenario(DATA / "tiny.toml").with_run(
        start=start, duration="2d", sample_interval="1h"
    )
    if calendar:
        scenario = scenario.edited({**scenario.spec.model_dump(), "calendar": {"use": True}})
    down = np.tile(GOODPUT_MBPS * 1e6 * OVERHEAD / 8 * HOUR, (STEPS, 1))
    record = RunRecord(
        scenario=scenario,
        backend="synthetic",
        schedule=compile_schedule(scenario),
        flows=flows,
        interval=HOUR,
        site_ids=["office_a", "office_b", "hotspot"],
        times=np.arange(STEPS) * HOUR,
        wire_bytes={"down": down, "up": np.zeros((STEPS, 3))},
        drops={"down": np.zeros((STEPS, 3)), "up": np.zeros((STEPS, 3))},
        plan_index=np.zeros(STEPS, dtype=int),
        users=12,
    )
    return acceptance(record).to_json()


@pytest.fixture(scope="module")
def trial() -> dict:
    return _trial(dt.datetime(2022, 2, 4), FLOWS)


def _cell(trial: dict, day: str, site: str) -> dict:
    return next(c for c in trial["cells"] if c["day"] == day and c["site"] == site)


def test_every_day_and_site_has_a_cell(trial: dict) -> None:
    assert trial["days"] == ["2022-02-04", "2022-02-05"]
    assert len(trial["cells"]) == 2 * 3
    assert trial["thresholds"] == {"busy_satisfaction": 0.9, "guarantee": 0.95, "evenness": 0.95}
    assert json.loads(json.dumps(trial)) == trial
    assert Acceptance.from_json(trial).to_json() == trial


def test_office_that_asked_for_more_than_its_guarantee_and_missed_it(trial: dict) -> None:
    a = _cell(trial, "2022-02-04", "office_a")
    assert a["busy_hours"] == 6
    # asked: the 20 achieved plus 1.8e10 B left unmet over 6 h (6.667 Mbit/s)
    assert a["offered_mbps"] == pytest.approx(20 + 1.8e10 * 8 / 21600 / 1e6)  # 26.667
    assert a["achieved_mbps"] == pytest.approx(20.0)
    assert a["guaranteed_mbps"] == pytest.approx(29.1 / OVERHEAD)  # 27.83
    sat, guarantee = a["criteria"]["busy_satisfaction"], a["criteria"]["guarantee"]
    assert sat == {"value": pytest.approx(0.9e11 / 1.08e11), "threshold": 0.9, "verdict": "fail"}
    # 20 / min(26.667, 27.83) = 0.75
    assert guarantee["value"] == pytest.approx(0.75)
    assert guarantee["verdict"] == "fail"


def test_sites_that_asked_less_than_their_guarantee(trial: dict) -> None:
    b = _cell(trial, "2022-02-04", "office_b")
    assert b["criteria"]["busy_satisfaction"]["value"] == pytest.approx(1.0)
    assert b["criteria"]["guarantee"]["value"] == pytest.approx(1.0)  # got all it asked
    h = _cell(trial, "2022-02-04", "hotspot")
    assert h["busy_hours"] == 5
    assert h["criteria"]["busy_satisfaction"]["value"] == pytest.approx(0.95)
    # 4.5e8 B unmet over 5 h = 0.2 Mbit/s: 5 / min(5.2, 19.13) = 0.9615
    assert h["criteria"]["guarantee"]["value"] == pytest.approx(5 / 5.2)
    saturday = _cell(trial, "2022-02-05", "hotspot")
    assert saturday["busy_hours"] == 12
    assert saturday["criteria"]["busy_satisfaction"]["verdict"] == "pass"  # 0.92
    # 4.32e9 B unmet over 12 h = 0.8 Mbit/s: 5 / 5.8 = 0.862
    assert saturday["criteria"]["guarantee"]["value"] == pytest.approx(5 / 5.8)
    assert saturday["criteria"]["guarantee"]["verdict"] == "fail"


def test_offices_have_no_busy_window_on_saturday(trial: dict) -> None:
    cell = _cell(trial, "2022-02-05", "office_a")
    assert cell["busy_hours"] == 0 and cell["offered_mbps"] is None
    assert {c["verdict"] for c in cell["criteria"].values()} == {"n/a"}


def test_evenness_headroom_counts_and_verdict(trial: dict) -> None:
    friday, saturday = trial["days_summary"]
    # Jain over (0.8333, 1, 0.95): 2.78333^2 / (3 x 2.59694) = 0.99437
    values = np.array([0.9e11 / 1.08e11, 1.0, 0.95])
    expected = values.sum() ** 2 / (3 * (values**2).sum())
    assert friday["evenness"]["value"] == pytest.approx(expected)
    assert saturday["evenness"]["value"] == pytest.approx(1.0)  # one site rated
    assert friday["down_p95_utilisation"] == pytest.approx(35e6 * OVERHEAD / 100e6)
    assert friday["up_p95_utilisation"] == 0
    hotspot = next(s for s in trial["sites_summary"] if s["site"] == "hotspot")
    assert hotspot["evenness"]["value"] == pytest.approx(1.87**2 / (2 * (0.95**2 + 0.92**2)))
    # 12 cell criteria + 2 days + 3 sites: fails are office_a's two and Saturday's guarantee
    assert trial["counts"] == {"pass": 10, "fail": 3, "n/a": 4}
    assert trial["counts_by_check"] == {
        "busy_satisfaction": {"pass": 3, "fail": 1, "n/a": 2},
        "guarantee": {"pass": 2, "fail": 2, "n/a": 2},
        "evenness_per_day": {"pass": 2, "fail": 0, "n/a": 0},
        "evenness_per_site": {"pass": 3, "fail": 0, "n/a": 0},
    }
    assert trial["verdict"] == "fail"


def test_acceptance_page_is_bilingual_and_names_the_failures(trial: dict, tmp_path: Path) -> None:
    (tmp_path / "acceptance.json").write_text(json.dumps(trial))
    html = write_acceptance_report(tmp_path).read_text()
    assert "BERITA ACARA" in html and "acceptance trial" in html
    assert "TIDAK LULUS" in html and "FAILED" in html
    assert "Office A" in html and "0.833" in html and "0.750" in html
    assert "@media print" in html


def test_a_multi_day_run_folder_holds_the_trial(tmp_path: Path) -> None:
    """`netlab run` of two days from Tuesday 08:00 spans three local days; one day does not."""
    from typer.testing import CliRunner

    from sim.cli import app

    scenario = str(DATA.parent.parent / "scenarios" / "small-workday.toml")
    result = CliRunner().invoke(app, ["run", scenario, "-d", "2d", "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert "acceptance trial 2022-02-01 to 2022-02-03" in result.stdout
    (folder,) = tmp_path.iterdir()
    data = json.loads((folder / "acceptance.json").read_text())
    sites = json.loads((folder / "summary.json").read_text())["sites"]
    assert data["days"] == ["2022-02-01", "2022-02-02", "2022-02-03"]
    assert len(data["cells"]) == 3 * len(sites) == 3 * 8  # Seranau is connected by LTE
    for cell in data["cells"]:
        for c in cell["criteria"].values():
            assert set(c) == {"value", "threshold", "verdict"}
    assert "BERITA ACARA" in (folder / "acceptance.html").read_text()
    one_day = CliRunner().invoke(app, ["run", scenario, "-o", str(tmp_path / "one"), "-q"])
    assert one_day.exit_code == 0
    assert not list((tmp_path / "one").glob("*/acceptance.json"))


# Tuesday 1 February 2022 is Imlek, a national holiday in calendar_id.toml; Wednesday is a
# working day. office_a downloads 1e9 B at 09:00 on the holiday, all delivered; the hotspot
# 2e9 B at 11:00, half delivered (11:00 is in its day-off window 10-22, not its working-day one).
HOLIDAY_FLOWS = [
    _download(1, "office_a", 9, 1e9, 1e9),
    _download(2, "hotspot", 11, 2e9, 1e9),
]


@pytest.fixture(scope="module")
def holiday() -> dict:
    return _trial(dt.datetime(2022, 2, 1), HOLIDAY_FLOWS, calendar=True)


def test_a_holiday_is_a_day_off_for_offices(holiday: dict) -> None:
    imlek, wednesday = holiday["days_summary"]
    assert (imlek["day_type"], imlek["holiday"]) == ("holiday", "Tahun Baru Imlek 2573 Kongzili")
    assert (wednesday["day_type"], wednesday["holiday"]) == ("working", None)
    for site in ("office_a", "office_b"):
        cell = _cell(holiday, "2022-02-01", site)
        assert cell["busy_hours"] == 0 and cell["offered_mbps"] is None
        assert {c["verdict"] for c in cell["criteria"].values()} == {"n/a"}
        assert _cell(holiday, "2022-02-02", site)["busy_hours"] == 6


def test_the_hotspot_is_judged_on_its_day_off_window_on_a_holiday(holiday: dict) -> None:
    cell = _cell(holiday, "2022-02-01", "hotspot")
    assert cell["busy_hours"] == 12  # 10-22, as on a Saturday
    sat, guarantee = cell["criteria"]["busy_satisfaction"], cell["criteria"]["guarantee"]
    assert (sat["value"], sat["verdict"]) == (pytest.approx(0.5), "fail")
    # 1e9 B unmet over 12 h = 0.1852 Mbit/s: 5 / min(5.1852, 19.13)
    assert guarantee["value"] == pytest.approx(5 / (5 + 8e9 / 43200 / 1e6))
    # the day's evenness: one site rated
    assert holiday["days_summary"][0]["evenness"]["value"] == pytest.approx(1.0)


def test_counts_take_only_the_days_a_criterion_applies(holiday: dict) -> None:
    # satisfaction: the hotspot's holiday fails; nothing asked elsewhere (5 n/a)
    # guarantee: the hotspot's holiday and Wednesday's three cells pass; offices' holiday n/a
    assert holiday["counts_by_check"] == {
        "busy_satisfaction": {"pass": 0, "fail": 1, "n/a": 5},
        "guarantee": {"pass": 4, "fail": 0, "n/a": 2},
        "evenness_per_day": {"pass": 1, "fail": 0, "n/a": 1},
        "evenness_per_site": {"pass": 1, "fail": 0, "n/a": 2},
    }
    assert holiday["counts"] == {"pass": 6, "fail": 1, "n/a": 10}
    assert Acceptance.from_json(holiday).to_json() == holiday


def test_without_the_calendar_the_holiday_is_a_working_day() -> None:
    plain = _trial(dt.datetime(2022, 2, 1), HOLIDAY_FLOWS)
    assert plain["days_summary"][0]["day_type"] == "working"
    assert plain["days_summary"][0]["holiday"] is None
    office = _cell(plain, "2022-02-01", "office_a")
    assert office["busy_hours"] == 6
    assert office["criteria"]["busy_satisfaction"]["value"] == pytest.approx(1.0)
    hotspot = _cell(plain, "2022-02-01", "hotspot")
    assert hotspot["busy_hours"] == 5  # 17-22: the 11:00 download is outside
    assert hotspot["criteria"]["busy_satisfaction"]["verdict"] == "n/a"


def test_site_rates_put_the_site_that_failed_first_with_its_pass_line(trial: dict) -> None:
    rates = site_rates(Acceptance.from_json(trial))
    assert [r.name for r in rates][0] == "Office A"
    a = rates[0]
    # one day judged (Friday): asked 26.667, guaranteed 27.83, achieved 20, owed the lesser
    assert (a.days, a.failed_days) == (1, 1)
    assert a.asked == pytest.approx(26.6667, abs=1e-4)
    assert a.owed == pytest.approx(a.asked) and a.lowest_ratio == pytest.approx(0.75)
    hotspot = next(r for r in rates if r.kind == "hotspot")
    # Friday 5 / 5.2 and Saturday 5 / 5.8 (failed): asked is the mean, 5.5
    assert (hotspot.days, hotspot.failed_days) == (2, 1)
    assert hotspot.asked == pytest.approx(5.5) and hotspot.lowest_ratio == pytest.approx(5 / 5.8)
    assert rates[-1].name == "Office B"  # passed every day it was judged


def test_the_site_chart_shows_asked_guaranteed_achieved_and_the_pass_line(trial: dict) -> None:
    data = Acceptance.from_json(trial)
    traces = {t.name: t for t in _sites_figure(site_rates(data), 0.95).data}
    assert set(traces) == {"achieved", "asked", "guaranteed", "pass line"}
    office_a = list(traces["achieved"].y).index("Office A")
    assert traces["achieved"].orientation == "h"
    assert traces["pass line"].x[office_a] == pytest.approx(0.95 * 26.6667, abs=1e-3)
    assert traces["guaranteed"].x[office_a] == pytest.approx(29.1 / OVERHEAD)


def test_the_page_shows_evenness_units_and_days_off(holiday: dict, tmp_path: Path) -> None:
    (tmp_path / "acceptance.json").write_text(json.dumps(holiday))
    html = write_acceptance_report(tmp_path).read_text()
    for header in ("busy hours (h)", "asked (Mbit/s)", "guaranteed (Mbit/s)", "(% of purchase)"):
        assert header in html
    assert "evenness across sites (Jain&#x27;s index)" in html
    assert "evenness across days (Jain&#x27;s index)" in html
    # the record's period and day lines, the per-day table, and each of 3 sites' checks that day
    assert html.count("Tahun Baru Imlek 2573 Kongzili") == 6
    # the axes of the headroom plot (one per trace) and the heatmap, wrapped
    assert html.count(r"Tahun Baru\u003cbr\u003eImlek 2573\u003cbr\u003eKongzili") == 5
    assert "Jaminan menurut bobot" not in html and "Jaminan sama rata" in html  # htb-equal
    for blank in ("Nama", "NIP", "Jabatan", "Tempat, tanggal"):
        assert blank in html


def test_every_policy_has_words_in_bahasa_indonesia() -> None:
    for name in POLICY_NAMES:
        bahasa, english = policy_words(name)
        assert bahasa != name and english != name, name
    assert set(CHECK_WORDS) == set(CHECKS)


def test_every_holiday_in_the_calendar_has_its_name() -> None:
    calendar = national()
    assert calendar.holidays and all(calendar.holiday_name(d) for d in calendar.holidays)
    assert set(calendar.names) == set(calendar.holidays)
    assert calendar.holiday_name(dt.date(2022, 2, 2)) is None
    regional = national((dt.date(2022, 2, 2),))
    assert regional.holiday_name(dt.date(2022, 2, 2)) == "Libur daerah"
