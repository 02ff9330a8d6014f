"""A long run day by day (`[scenario] by_day`): where the days are cut, their seeds and demand,
the same year from one worker or two, and the year's figures by hand."""

from __future__ import annotations

import datetime as dt
import json
from functools import partial

import pytest

from sim.analysis.day_figures import DayFigures
from sim.analysis.flowfile import read_flows
from sim.analysis.year import summarize_year
from sim.demand.profiles import SessionClock
from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.results import write_day_flows
from sim.studies.by_day import day_scenario, quietest_hour, run_by_day, split_days
from tests.conftest import ROOT

YEAR = ROOT / "scenarios" / "kotim-year.toml"


@pytest.fixture(scope="module")
def year():
    return load_scenario(YEAR)


def test_the_regency_is_cut_at_two_in_the_morning(year) -> None:
    """Every kind is at its floor from 00:00 to 05:59 (hotspots 0.05, offices 0.02,
    sub-districts 0.01) and busier at 23:00 and 06:00: 02:00 is the first hour with two quiet
    hours on either side."""
    assert quietest_hour(year) == 2


def test_a_quiet_afternoon_is_cut_in_its_middle(year) -> None:
    data = year.spec.model_dump()
    for profile in data["demand"]["kinds"].values():
        profile["weekday"] = [1.0] * 11 + [0.0] * 5 + [1.0] * 8  # quiet 11:00-15:59
        profile["weekend"] = list(profile["weekday"])
    assert quietest_hour(year.edited(data)) == 13


def test_days_have_their_own_seed_demand_and_type(year) -> None:
    days = split_days(year)
    assert len(days) == 365
    assert days[0].start == dt.datetime(2022, 2, 1, 2) and days[-1].start.date() == dt.date(
        2023, 1, 31
    )
    assert days[0].day_type == "holiday"  # Imlek
    assert days[4].day_type == "weekend"  # Saturday 5 February
    assert days[2].day_type == "working"
    assert days[0].growth == 1.0
    assert days[364].growth == pytest.approx(1.3 ** (364 / 365), rel=1e-12)
    # a day's seed depends on the scenario's seed and its index only, not on the duration
    short = split_days(year.with_run(duration=3 * 86400.0))
    assert [d.seed for d in short] == [d.seed for d in days[:3]]
    assert len({d.seed for d in days}) == 365
    one = day_scenario(year, days[10])
    assert (one.start, one.duration, one.seed) == (days[10].start, 86400.0, days[10].seed)
    assert one.spec.demand.growth == days[10].growth and one.spec.demand.growth_per_year == 1.0


def test_growth_per_year_compounds_by_the_day(year) -> None:
    profile = year.spec.demand.kinds["office"]
    plain = SessionClock(profile, 1.0, dt.datetime(2022, 2, 7))  # a Monday
    grown = SessionClock(profile, 1.0, dt.datetime(2022, 2, 7), yearly=1.5)
    for day in (0, 1, 100):
        factor = 1.5 ** (day / 365)
        assert grown.day_rates(day) == pytest.approx([r * factor for r in plain.day_rates(day)])


def test_by_day_needs_whole_days_from_midnight(tmp_path) -> None:
    text = YEAR.read_text().replace("2022-02-01T00:00:00", "2022-02-01T06:00:00")
    (tmp_path / "y.toml").write_text(text.replace("../topologies", str(ROOT / "topologies")))
    with pytest.raises(ConfigError, match="by_day: start must be at 00:00"):
        load_scenario(tmp_path / "y.toml")
    # 365 days at 5 minutes is 105,120 samples: too many for one run, fine day by day
    text = YEAR.read_text().replace("by_day = true", "by_day = false")
    (tmp_path / "n.toml").write_text(text.replace("../topologies", str(ROOT / "topologies")))
    with pytest.raises(ConfigError, match="samples, at most 100,000"):
        load_scenario(tmp_path / "n.toml")


def _day(index: int, date: str, down: list[float], missed: list[str], asked: float) -> DayFigures:
    return DayFigures(
        index=index,
        date=date,
        day_type="working",
        seed=index,
        growth=1.0,
        flows=10,
        upstream_mbps={"down": down, "up": [1.0] * len(down)},
        busy_hour={"offered_down": max(down), "offered_up": 1.0},
        asked={"office": asked, "hotspot": 0.0, "subdistrict": 100.0},
        got={"office": asked / 2, "hotspot": 0.0, "subdistrict": 100.0},
        missed=missed,
        measured=["web_fct_p95_s"],
    )


def test_the_year_by_hand() -> None:
    """Two January days and three February days (Monday 31 January to Thursday 3 February
    2022, then Monday 7 February), 100 Mbit/s bought."""
    ramp = [float(v) for v in range(1, 21)]  # 20 samples a day
    days = [
        _day(0, "2022-01-30", ramp, [], 100.0),
        _day(1, "2022-01-31", ramp, ["web_fct_p95_s"], 100.0),
        _day(2, "2022-02-01", [10.0] * 20, ["web_fct_p95_s"], 400.0),
        _day(3, "2022-02-02", [120.0] * 20, ["web_fct_p95_s"], 100.0),
        _day(4, "2022-02-07", [10.0] * 20, [], 50.0),
    ]
    year = summarize_year(days, 100.0)
    jan, feb = year.months
    # January: 40 samples 1..20 twice; numpy's linear 95th percentile lies at rank 37.05
    assert jan.billing_p95_mbps["down"] == pytest.approx(19.05)
    assert jan.headroom_mbps["down"] == 100.0 - 20.0
    assert feb.headroom_mbps["down"] == 100.0 - 120.0  # demand above the purchase
    assert jan.missed_share["web_fct_p95_s"] == 0.5  # one of two: not more than half
    assert feb.missed_share["web_fct_p95_s"] == 0.6667  # two of three, rounded
    assert year.first_break == {"web_fct_p95_s": "2022-02"}
    assert feb.satisfaction["office"] == 0.5 and feb.satisfaction["hotspot"] is None
    # the week of 31 January (4 days) against 7 February: offices at 0.5 in both, the
    # earlier first; sub-districts at 1.0
    assert [(w.monday, w.days) for w in year.weeks] == [
        ("2022-01-24", 1),
        ("2022-01-31", 3),
        ("2022-02-07", 1),
    ]
    worst = {w.kind: (w.monday, w.satisfaction) for w in year.worst_weeks}
    assert worst["office"] == ("2022-01-24", 0.5)
    assert worst["subdistrict"][1] == 1.0 and "hotspot" not in worst


def test_one_worker_and_two_give_the_same_days(year, tmp_path) -> None:
    """Two days of the small scenario, by day, on one worker and on two: byte-identical."""
    small = load_scenario(ROOT / "scenarios" / "example-small.toml")
    small = small.with_run(start=dt.datetime(2022, 2, 4), duration=2 * 86400.0, by_day=True)
    one = run_by_day(small, 1, tmp_path)
    two = run_by_day(small, 2, tmp_path)
    assert json.dumps([d.to_json() for d in one]) == json.dumps([d.to_json() for d in two])
    assert [d.date for d in one] == ["2022-02-04", "2022-02-05"]
    friday, saturday = one
    assert friday.flows > 0 and friday.growth == saturday.growth == small.spec.demand.growth
    assert friday.asked["office"] > saturday.asked["office"]  # offices are shut on Saturday


def test_days_on_a_local_dask_cluster_are_the_pools_days(tmp_path) -> None:
    """The same two days on Dask (a local cluster of 2 workers): byte-identical figures, and each
    day's flows written by its worker."""
    pytest.importorskip("distributed")
    small = load_scenario(ROOT / "scenarios" / "example-small.toml")
    small = small.with_run(start=dt.datetime(2022, 2, 4), duration=2 * 86400.0, by_day=True)
    pool = run_by_day(small, 2, tmp_path / "pool")
    sink = partial(write_day_flows, fmt="parquet")
    on_dask = run_by_day(small, 2, tmp_path / "dask", sink, dask="local")
    assert json.dumps([d.to_json() for d in on_dask]) == json.dumps([d.to_json() for d in pool])
    for day in on_dask:
        flows = read_flows(tmp_path / "dask" / "days" / day.date, ["id"])
        assert flows is not None and len(flows["id"]) == day.flows


def test_dask_is_refused_for_a_run_that_is_not_by_day(netlab, tmp_path) -> None:
    scenario = ROOT / "scenarios" / "example-small.toml"
    result = netlab("run", str(scenario), "--dask", "local", "--out", str(tmp_path))
    assert result.returncode == 2 and "--dask: only a by-day scenario" in result.stderr
    assert not any(tmp_path.iterdir())


def test_netlab_run_writes_the_year_folder(netlab, tmp_path) -> None:
    result = netlab("run", str(YEAR), "--duration", "2d", "--workers", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (folder,) = tmp_path.iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "days",
        "days.json",
        "manifest.json",
        "plotly.min.js",
        "year.html",
        "year.json",
    ]
    days = json.loads((folder / "days.json").read_text())
    for day in days:  # each day's flows streamed by its worker, as many as the day counted
        kept = read_flows(folder / "days" / day["date"], ["id"])
        assert kept is not None and len(kept["id"]) == day["flows"] > 0
    year = json.loads((folder / "year.json").read_text())
    assert year["days"] == 2 and [m["month"] for m in year["months"]] == ["2022-02"]
    html = (folder / "year.html").read_text()
    assert "first month it breaks" in html and "Worst week per kind" in html
    assert "holds in every month" in html
    assert "least busy-hour headroom" in result.stdout
