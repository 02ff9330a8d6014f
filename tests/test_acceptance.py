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

from sim.analysis.acceptance import Acceptance, acceptance
from sim.model.flow import Flow
from sim.model.scenario import load_scenario
from sim.report.acceptance import write_acceptance_report
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


@pytest.fixture(scope="module")
def trial() -> dict:
    scenario = load_scenario(DATA / "tiny.toml").with_run(
        start=dt.datetime(2022, 2, 4), duration="2d", sample_interval="1h"
    )
    down = np.tile(GOODPUT_MBPS * 1e6 * OVERHEAD / 8 * HOUR, (STEPS, 1))
    record = RunRecord(
        scenario=scenario,
        backend="synthetic",
        schedule=compile_schedule(scenario),
        flows=FLOWS,
        interval=HOUR,
        site_ids=["office_a", "office_b", "hotspot"],
        times=np.arange(STEPS) * HOUR,
        wire_bytes={"down": down, "up": np.zeros((STEPS, 3))},
        drops={"down": np.zeros((STEPS, 3)), "up": np.zeros((STEPS, 3))},
        plan_index=np.zeros(STEPS, dtype=int),
        users=12,
    )
    return acceptance(record).to_json()


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
    assert trial["verdict"] == "fail"


def test_acceptance_page_is_bilingual_and_names_the_failures(trial: dict, tmp_path: Path) -> None:
    (tmp_path / "acceptance.json").write_text(json.dumps(trial))
    html = write_acceptance_report(tmp_path).read_text()
    assert "Berita acara" in html and "Acceptance" in html
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
    assert "Berita acara" in (folder / "acceptance.html").read_text()
    one_day = CliRunner().invoke(app, ["run", scenario, "-o", str(tmp_path / "one"), "-q"])
    assert one_day.exit_code == 0
    assert not list((tmp_path / "one").glob("*/acceptance.json"))
