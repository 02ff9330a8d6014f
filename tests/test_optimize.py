"""The optimiser's answer holds on seeds it never saw, and a cheaper purchase does not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sim.analysis.recommendation import Recommendation, SearchPoint
from sim.cli import app
from sim.demand.expected import hourly_load
from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.studies.optimize.bisection import Bisection
from sim.studies.optimize.finance import monthly_cost
from sim.studies.optimize.prediction import offered_mbps, predicted_anchor, predicted_need
from sim.studies.optimize.probes import judge, probe
from sim.studies.optimize.recommend import recommend
from tests.conftest import ROOT

SCENARIO = f"""
[scenario]
name = "opt-test"
topology = "{(ROOT / "topologies" / "small.toml").as_posix()}"
seed = 1
start = 2022-02-01T00:00:00
duration = "24h"

[purchase]
upstream_mbps = 100

[policy]
name = "htb-weighted"

[optimize]
policies = ["htb-weighted", "max-min"]
seeds = 5
confirm_seeds = 5
min_mbps = 10
max_mbps = 120
step_mbps = 10
window_start = "08:00"
window = "2h"
growth = [1.5]
sensitivity = true
"""
UNSEEN = [2001, 2002, 2003]


@pytest.fixture(scope="module")
def answer_and_scenario(tmp_path_factory):
    path = tmp_path_factory.mktemp("opt") / "opt.toml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    return recommend(scenario, workers=2), scenario


def test_answer_meets_objectives_on_unseen_seeds_and_the_next_cheaper_does_not(
    answer_and_scenario,
) -> None:
    answer, scenario = answer_and_scenario
    assert answer.feasible and answer.fresh_seeds.at_answer.feasible
    chosen = scenario.with_window().with_policy(answer.policy)
    objectives = scenario.spec.optimize.objectives
    at_answer = judge([probe(chosen, answer.mbps, s, 1.0) for s in UNSEEN], objectives)
    assert at_answer.feasible, at_answer.mean
    cheaper = answer.fresh_seeds.cheaper_mbps
    assert cheaper is not None and cheaper < answer.mbps
    # the next cheaper option on the price table: nothing on the grid costs in between
    between = [
        m
        for m in np.arange(10, 130, 10)
        if monthly_cost(scenario, cheaper) < monthly_cost(scenario, m) < answer.monthly_idr
    ]
    assert between == []
    at_cheaper = judge([probe(chosen, cheaper, s, 1.0) for s in UNSEEN], objectives)
    assert not at_cheaper.feasible, at_cheaper.mean


def test_answer_is_the_cheapest_policy_and_growth_needs_more(answer_and_scenario) -> None:
    answer, _ = answer_and_scenario
    needs = {p: a.mbps for p, a in answer.policies.items() if a.mbps is not None}
    for found in answer.policies.values():  # bisection: feasible above, infeasible below
        if found.mbps is not None:
            assert all(p.feasible == (p.mbps >= found.mbps) for p in found.points)
    assert answer.searched_mbps == min(needs.values())
    assert all(a.monotonicity_violations == 0 for a in answer.policies.values())
    grown = answer.growth["1.5"].mbps
    assert grown is None or grown >= answer.mbps
    assert answer.yearly_idr == pytest.approx(12 * answer.monthly_idr)


def test_recommendation_is_the_scenario_at_the_answer_and_round_trips(
    answer_and_scenario,
) -> None:
    answer, scenario = answer_and_scenario
    final = answer.scenario
    assert final.spec.purchase.upstream_mbps == answer.mbps
    assert final.spec.policy.name == answer.policy
    assert final.duration == scenario.duration  # the whole day, not the search window
    assert answer.window["scenario.duration"] == 7200.0
    assert answer.window["scenario.start"] == "2022-02-01T08:00:00"
    # the split is the answer's plan: htb-weighted guarantees 0.9 x root x users / total
    if answer.policy == "htb-weighted":
        users = {s.id: s.users for s in final.sites}
        root = answer.mbps * 0.97
        for row in answer.split:
            share = root * 0.9 * users[row.site] / sum(users.values())
            access = next(s.access_bps for s in final.sites if s.id == row.site) / 1e6
            assert row.rate_mbps == pytest.approx(min(share, access), abs=5e-4)
    data = answer.to_json()
    assert json.loads(json.dumps(data)) == data
    assert Recommendation.from_json(data) == answer
    assert Recommendation.from_json(data).to_json() == data


def test_recommendation_json_exports_the_recommended_split(answer_and_scenario, tmp_path) -> None:
    answer, _ = answer_and_scenario
    path = tmp_path / "recommendation.json"
    path.write_text(json.dumps(answer.to_json()))
    leaves = [c for c in answer.plan["down"] if c.get("site")]
    assert [c["site"] for c in leaves] == [row.site for row in answer.split]
    for leaf, row in zip(leaves, answer.split, strict=True):
        assert leaf["rate_bps"] / 1e6 == pytest.approx(row.rate_mbps, abs=5e-4)
    runner = CliRunner()
    tc = runner.invoke(app, ["export", str(path), "-f", "tc"])
    assert tc.exit_code == 0, tc.output
    mikrotik = runner.invoke(app, ["export", str(path), "-f", "mikrotik"])
    assert mikrotik.exit_code == 0, mikrotik.output
    for leaf in leaves:
        assert f"rate {round(leaf['rate_bps'])}bit" in tc.stdout
        assert f"limit-at={round(leaf['rate_bps'])} " in mikrotik.stdout


def test_finance_compares_with_today_and_the_ceiling(answer_and_scenario) -> None:
    answer, scenario = answer_and_scenario
    money = answer.finance
    assert money.current_mbps == 100
    assert money.current_yearly_idr == pytest.approx(12 * 100 * 450_000)  # first tier
    assert money.savings_yearly_idr == pytest.approx(money.current_yearly_idr - answer.yearly_idr)
    assert money.budget_yearly_idr is None and money.below_budget_yearly_idr is None
    roles = [row.role for row in answer.frontier]
    assert "answer (fresh seeds)" in roles and "next cheaper (fresh seeds)" in roles
    answer_row = next(row for row in answer.frontier if row.role.startswith("answer"))
    assert answer_row.mbps == answer.mbps and answer_row.feasible and answer_row.missed == []
    assert [row.mbps for row in answer.frontier] == sorted(row.mbps for row in answer.frontier)


def test_sensitivities_more_demand_needs_more(answer_and_scenario) -> None:
    answer, _ = answer_and_scenario
    rows = {row.assumption: row for row in answer.sensitivities}
    assert set(rows) == {
        "users (session rate)",
        "video-call share",
        "streaming share",
        "demand growth",
    }
    for row in rows.values():
        assert row.low_mbps is not None
        assert row.high_mbps is None or row.high_mbps >= row.low_mbps
    users = rows["users (session rate)"]
    assert users.low_mbps <= answer.mbps <= (users.high_mbps or 1e9)
    swings = [(r.high_mbps or 120) - r.low_mbps for r in answer.sensitivities]
    assert swings == sorted(swings, reverse=True)


def test_recommendation_page_shows_the_decision(answer_and_scenario, tmp_path) -> None:
    from sim.report.recommendation import write_recommendation_report

    answer, _ = answer_and_scenario
    (tmp_path / "recommendation.json").write_text(json.dumps(answer.to_json()))
    html = write_recommendation_report(tmp_path).read_text()
    for text in ("Frontier", "What the answer depends on", "The split to deploy"):
        assert text in html
    assert f"Rp{answer.finance.savings_yearly_idr:,.0f}" in html
    assert f"Next cheaper option, {answer.fresh_seeds.cheaper_mbps:g} Mbit/s" in html
    assert all(row.site in html for row in answer.split)


def test_bad_optimize_section_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SCENARIO.replace("min_mbps = 10", "min_mbps = 500"))
    with pytest.raises(ConfigError, match="optimize: min_mbps must be below max_mbps"):
        load_scenario(path)
    path.write_text(SCENARIO.replace("seeds = 5", "seedz = 5"))
    with pytest.raises(ConfigError, match=r"optimize\.seedz: unknown key"):
        load_scenario(path)


def searched(grid: list[float], anchor: float | None, feasible) -> tuple[list[int], Bisection]:
    """The grid indices a search probes, in order, against the oracle `feasible(index)`."""
    search = Bisection(("p", 1.0), grid, anchor=anchor)
    order = []
    while (mbps := search.next_mbps()) is not None:
        index = grid.index(mbps)
        order.append(index)
        search.record(SearchPoint("p", mbps, 1.0, {}, feasible(index), 0, []))
    return order, search


def test_a_search_from_a_good_anchor_settles_in_two_points() -> None:
    """The anchor and its neighbour when the answer is the anchor or the point above it."""
    grid = [25.0 * (i + 1) for i in range(60)]
    for answer in range(1, 59):
        at, _ = searched(grid, grid[answer], lambda i, t=answer: i >= t)
        assert at == [answer, answer - 1]
        below, _ = searched(grid, grid[answer - 1], lambda i, t=answer: i >= t)
        assert below == [answer - 1, answer]
        # an anchor off the grid starts at the nearest grid point
        assert searched(grid, grid[answer] + 10.0, lambda i, t=answer: i >= t)[0][0] == answer


def test_the_gallop_strides_are_1_2_4_then_it_bisects() -> None:
    grid = [25.0 * (i + 1) for i in range(60)]
    order, search = searched(grid, grid[30], lambda i: i >= 20)
    # down from 30 by 1, 2, 4, 8 to the first failure at 15, then bisect 15..23
    assert order == [30, 29, 27, 23, 15, 19, 21, 20]
    assert search.answer == grid[20]
    up, _ = searched(grid, grid[10], lambda i: i >= 14)
    assert up == [10, 11, 13, 17, 15, 14]


def test_the_predicted_need_by_hand() -> None:
    """Square-root staffing through the known need; linear where it has no headroom."""
    # need 150 at mean 100: beta = 50 / sqrt(100) = 5; at mean 400: 400 + 5 x 20 = 500
    assert predicted_need(150.0, 100.0, 400.0) == pytest.approx(500.0)
    assert predicted_need(150.0, 100.0, 25.0) == pytest.approx(25.0 + 5.0 * 5.0)
    assert predicted_need(150.0, 100.0, 100.0) == pytest.approx(150.0)
    # four times the load needs less than four times the purchase (multiplexing)
    assert predicted_need(150.0, 100.0, 400.0) < 4 * 150.0
    assert predicted_need(80.0, 100.0, 150.0) == pytest.approx(120.0)  # at or below the mean
    assert predicted_need(80.0, 0.0, 150.0) == 80.0  # nothing offered: nothing to scale by


def test_the_anchor_scales_the_window_load(answer_and_scenario) -> None:
    """The mean offered download rate of the window, hour by hour from the closed form, and
    the anchor from the middle of the step below the answer."""
    _, scenario = answer_and_scenario
    window = scenario.with_window()  # 08:00 for 2 h
    days = [window.start.date()]
    hourly = sum(hourly_load(window, site, days)[0, :, 0] for site in window.sites)
    assert offered_mbps(window) == pytest.approx((hourly[8] + hourly[9]) / 2 * 8 / 3600 / 1e6)
    half = window.with_run(start=window.start.replace(minute=30), duration=3600.0)
    assert offered_mbps(half) == pytest.approx((hourly[8] + hourly[9]) / 2 * 8 / 3600 / 1e6)
    late = window.with_run(start=window.start.replace(hour=9, minute=30), duration=1800.0)
    assert offered_mbps(late) == pytest.approx(hourly[9] * 8 / 3600 / 1e6)
    m0 = offered_mbps(window)
    assert predicted_anchor(window, 60.0, m0, window) == pytest.approx(55.0)  # step 10
    more = window.with_growth(2.0)
    m1 = offered_mbps(more)
    assert m0 < m1 < 2 * m0  # a user in a session starts no other: the load grows slower
    expected = predicted_need(55.0, m0, m1)
    assert predicted_anchor(window, 60.0, m0, more) == pytest.approx(expected)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 80),
    st.integers(0, 81),
    st.one_of(st.none(), st.floats(0, 2500)),
)
def test_search_finds_what_a_linear_scan_finds(size, threshold, anchor) -> None:
    """Against any monotone feasibility over the grid, from any anchor: the smallest
    feasible grid point, in O(log n) probes."""
    grid = [25.0 * (i + 1) for i in range(size)]
    feasible = [i >= threshold for i in range(size)]  # monotone: infeasible, then feasible
    scan = next((m for m, ok in zip(grid, feasible, strict=True) if ok), None)
    order, search = searched(grid, anchor, feasible.__getitem__)
    assert search.answer == scan
    assert len(order) == len(set(order)) <= 2 * size.bit_length() + 2
