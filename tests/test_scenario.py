"""Typed changes to a scenario: re-validated, resolved, and without reading any file again."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from tests.conftest import ROOT


@pytest.fixture
def moved(tmp_path: Path):
    """example-small loaded from a copy whose files are then deleted: changes cannot read them."""
    shutil.copytree(ROOT / "topologies", tmp_path / "topologies")
    (tmp_path / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "example-small.toml", tmp_path / "scenarios")
    scenario = load_scenario(tmp_path / "scenarios" / "example-small.toml")
    shutil.rmtree(tmp_path / "topologies")
    shutil.rmtree(tmp_path / "scenarios")
    return scenario


def test_changes_need_no_files_and_leave_the_original_alone(moved) -> None:
    changed = moved.with_purchase(250).with_growth(2.0).with_run(seed=9, duration="2h")
    assert changed.spec.purchase.upstream_mbps == 250
    assert changed.upstream_bps == 250e6
    assert changed.spec.demand.growth == 2.0  # replaces the file's 1.2, does not multiply
    assert (changed.seed, changed.duration) == (9, 7200.0)
    assert moved.spec.purchase.upstream_mbps == 100 and moved.seed == 7
    # the price follows the tier: 250 Mbit/s at Rp320,000 plus Seranau's LTE option
    assert changed.monthly_cost_idr == pytest.approx(250 * 320_000 + moved.lastmile_idr_month)
    assert changed.edited(changed.spec.model_dump()).spec == changed.spec


def test_with_window_cuts_to_the_first_working_day(moved) -> None:
    """The analysis window (the optimiser's, the gate's, the what-if's) lies on the first
    weekday from the scenario's start, sampled every 5 minutes or once if shorter."""
    saturday = moved.with_run(start="2022-02-05T00:00:00", duration="3d")
    window = saturday.with_window()  # [optimize]: 08:00 for 2 h by default
    assert (window.start, window.duration) == (dt.datetime(2022, 2, 7, 8), 7200.0)
    assert window.spec.scenario.sample_interval == 300.0
    short = moved.with_window((13.5 * 3600, 120.0))  # a Tuesday: that very day
    assert (short.start, short.duration) == (dt.datetime(2022, 2, 1, 13, 30), 120.0)
    assert short.spec.scenario.sample_interval == 120.0


def test_with_policy_keeps_the_files_parameters_only_for_its_own_policy(moved) -> None:
    weighted = moved.with_policy("htb-weighted", guaranteed_share=0.5, weights={"setda": 3.0})
    same = weighted.with_policy("htb-weighted")
    assert same.spec.policy == weighted.spec.policy
    assert same.with_policy("htb-weighted", guaranteed_share=0.7).spec.policy.weights == {
        "setda": 3.0
    }
    other = weighted.with_policy("htb-equal")
    assert other.spec.policy.guaranteed_share == 0.9 and other.spec.policy.weights == {}
    # the file's schedule is kept when asked for by name, and dropped for a static policy
    assert moved.with_policy("schedule").spec.policy == moved.spec.policy
    assert moved.with_policy("max-min").spec.policy.schedule == []


def test_with_connect_switches_an_option_and_prices_it(moved) -> None:
    site = moved.inventory.site("kec_seranau")
    options = {option.id: option for option in site.lastmile}
    for option_id, option in options.items():
        connected = moved.with_connect("kec_seranau", option_id)
        reached = connected.topology.site("kec_seranau")
        assert reached.reached and reached.access_mbps == option.mbps
        assert connected.lastmile_idr_month == option.monthly_cost_idr


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (lambda s: s.with_purchase(0), "purchase.upstream_mbps", "greater than 0"),
        (lambda s: s.with_policy("fair-ish"), "policy.name", "'htb-equal'"),
        (lambda s: s.with_policy("htb-equal", guaranteed_share=2), "policy.guaranteed_share", ""),
        (
            lambda s: s.with_policy("htb-equal", weights={"nowhere": 1}),
            "policy.weights.nowhere",
            "",
        ),
        (lambda s: s.with_growth(-1), "demand.growth", "greater than 0"),
        (lambda s: s.with_connect("nowhere", "lte"), "connect.nowhere", "no such site"),
        (lambda s: s.with_connect("kec_seranau", "pigeon"), "connect.kec_seranau", "unknown"),
        (lambda s: s.with_run(duration="soon"), "scenario.duration", "not a duration"),
    ],
)
def test_bad_changes_name_the_file_and_key(moved, change, key, problem) -> None:
    with pytest.raises(ConfigError) as caught:
        change(moved)
    assert (caught.value.path, caught.value.key) == (str(moved.path), key)
    assert problem in caught.value.problem
