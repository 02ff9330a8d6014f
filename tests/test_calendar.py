"""The working calendar: holidays, collective leave, Friday prayer and Ramadan, as data."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from sim.demand.calendar import DATA, national
from sim.demand.expected import hourly_load
from sim.demand.profiles import SessionClock
from sim.model.demand import DEFAULT_DEMAND, KindProfile
from sim.model.scenario import load_scenario

D = dt.date


@pytest.mark.parametrize(
    ("date", "kind"),
    [
        (D(2022, 2, 1), "holiday"),  # Imlek: the old baseline day
        (D(2022, 2, 2), "workday"),
        (D(2023, 1, 23), "holiday"),  # collective leave after Imlek
        (D(2023, 1, 20), "friday"),
        (D(2023, 1, 21), "weekend"),
        (D(2023, 3, 24), "ramadan"),
        (D(2024, 2, 14), "holiday"),  # election day
    ],
)
def test_day_types(date, kind):
    assert national().day_type(date) == kind


def test_friday_prayer_and_ramadan_hours_bend_office_hours_only():
    calendar = national()
    friday = calendar.factors(D(2023, 1, 20), "office")
    # 11:30-13:00 at 0.3: half of hour 11, all of hour 12
    assert friday[10:14] == pytest.approx([1.0, 0.65, 0.3, 1.0])
    ramadan = calendar.factors(D(2023, 3, 28), "subdistrict")  # a Tuesday in Ramadan
    assert ramadan[7] == pytest.approx(0.3) and ramadan[8] == 1.0 and ramadan[14] == 1.0
    assert ramadan[15] == pytest.approx(0.3)
    assert calendar.factors(D(2023, 1, 20), "hotspot") == [1.0] * 24


def test_calendar_data_is_whole_from_2022():
    data = tomllib.loads(DATA.read_text())
    assert sorted(data["years"]) == ["2022", "2023", "2024", "2025", "2026"]
    for year, days in data["years"].items():
        dates = days["holidays"] + days["collective_leave"] + days["ramadan"]
        assert all(d.startswith(year) for d in dates), year
        assert len(set(days["holidays"])) == len(days["holidays"])
        assert D.fromisoformat(days["ramadan"][0]) < D.fromisoformat(days["ramadan"][1])


def test_a_holiday_is_lived_as_a_weekend():
    profile = KindProfile(**DEFAULT_DEMAND["kinds"]["office"])
    start = dt.datetime(2022, 2, 1)  # Tuesday, Imlek
    plain = SessionClock(profile, 1.0, start)
    lived = SessionClock(profile, 1.0, start, national(), "office")
    tuesday = (start.date() - plain.first_day).days
    assert plain.day_rates(tuesday) == plain.weekday
    assert lived.day_rates(tuesday) == lived.weekend
    assert lived.day_rates(tuesday + 1) == lived.weekday  # Wednesday: back to work


def test_expected_load_follows_the_calendar():
    scenario = load_scenario("scenarios/measured/kotim-deployed.toml")
    setda = scenario.topology.site("setda")
    load = hourly_load(scenario, setda, [D(2023, 1, 20), D(2023, 1, 23), D(2023, 1, 24)])
    friday, leave, tuesday = load[:, :, 0]
    assert friday[12] == pytest.approx(tuesday[12] * 0.3, rel=0.05)  # slowed less: prayer
    assert leave.sum() < 0.15 * tuesday.sum()  # weights: 0.72 a weekend day, 7.62 a weekday
