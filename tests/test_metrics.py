"""Metrics against figures worked out by hand on a synthetic run of the tiny topology.

The fixture (tests/data/tiny.toml): sites office_a (50 Mbit/s access), office_b (50) and
hotspot (20); purchase 100 Mbit/s at Rp450,000 per Mbit/s = Rp45 M a month; two hours from
08:30, one-minute intervals. Every expected value below is derived in the comment beside it;
tolerances are float round-off only (rel 1e-9) unless stated.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.metrics import jain, summarize
from sim.analysis.summary import Summary
from sim.model.flow import Flow
from sim.model.scenario import load_scenario
from sim.run import RunRecord
from sim.shaping.schedule import compile_schedule

DATA = Path(__file__).parent / "data"
OVERHEAD = 1514 / 1448  # wire bytes per goodput byte at the default MSS and frame size
EXACT = 1e-9
STEPS = 120  # two hours of one-minute intervals
SITE_IDS = ["office_a", "office_b", "hotspot"]
DOWN_SHARE = np.array([0.5, 0.3, 0.2])  # how each interval's down traffic splits over sites


def _elastic(
    id_: int,
    site: str,
    app: str,
    start: float,
    size: float,
    end: float,
    delivered: float,
    status: str = "done",
    direction: str = "down",
) -> Flow:
    return Flow(id_, site, app, direction, start, size, end=end, delivered=delivered, status=status)  # type: ignore[arg-type]


def _paced(
    id_: int,
    site: str,
    app: str,
    start: float,
    rate: float,
    duration: float,
    end: float,
    delivered: float,
    time_at_rate: float,
    status: str,
) -> Flow:
    return Flow(
        id_,
        site,
        app,
        "down",
        start,
        rate * duration / 8,
        rate=rate,
        duration=duration,
        end=end,
        delivered=delivered,
        time_at_rate=time_at_rate,
        status=status,
    )  # type: ignore[arg-type]


FLOWS = [
    # office_a: two web pages, both finished. Busy hour = [1800, 5400) s (09:00-10:00).
    _elastic(1, "office_a", "web", 100, 10e6, 102, 10e6),  # fct 2 s, before the busy hour
    _elastic(2, "office_a", "web", 2000, 20e6, 2010, 20e6),  # fct 10 s, in the busy hour
    # office_b: a download abandoned after 40 of 100 MB; two e-gov uploads.
    _elastic(3, "office_b", "download", 2500, 100e6, 3100, 40e6, status="abandoned"),
    _elastic(4, "office_b", "egov", 6000, 5e6, 6001, 5e6, direction="up"),  # fct 1 s
    _elastic(5, "office_b", "egov", 6100, 5e6, 6100.5, 5e6, direction="up"),  # faster than alone
    # hotspot: 10 min of 2 Mbit/s video that got 120 of 150 MB and 480 s at rate; a 1 Mbit/s
    # call cut by the end of the run after 200 s at full rate (offers 25 MB, not its 150 MB).
    _paced(6, "hotspot", "streaming", 3000, 2e6, 600, 3600, 120e6, 480, "done"),
    _paced(7, "hotspot", "video_call", 7000, 1e6, 1200, 7200, 25e6, 200, "cut"),
]


def _down_rate_bps() -> np.ndarray:
    """40 Mbit/s, except 100 in the first five minutes and in interval 60."""
    rate = np.full(STEPS, 40e6)
    rate[:5] = 100e6
    rate[60] = 100e6
    return rate


@pytest.fixture(scope="module")
def record() -> RunRecord:
    scenario = load_scenario(DATA / "tiny.toml")
    down = _down_rate_bps()[:, None] * DOWN_SHARE[None, :] * 60 / 8
    up = np.zeros((STEPS, 3))
    up[:, 0] = 10e6 * 60 / 8  # 10 Mbit/s up, all from office_a
    return RunRecord(
        scenario=scenario,
        backend="synthetic",
        schedule=compile_schedule(scenario),
        flows=FLOWS,
        interval=60.0,
        site_ids=SITE_IDS,
        times=np.arange(STEPS) * 60.0,
        wire_bytes={"down": down, "up": up},
        drops={"down": np.zeros((STEPS, 3)), "up": np.zeros((STEPS, 3))},
        plan_index=np.zeros(STEPS, dtype=int),
        users=12,
    )


@pytest.fixture(scope="module")
def summary(record: RunRecord) -> dict:
    """What summary.json holds for the synthetic run."""
    return summarize(record).to_json()


def _site(summary: dict, site_id: str) -> dict:
    return next(site for site in summary["sites"] if site["id"] == site_id)


# -- Jain's index ------------------------------------------------------------------------------


def test_jain_equal_values_is_one() -> None:
    assert jain([0.7] * 5) == pytest.approx(1.0, rel=EXACT)


@pytest.mark.parametrize("n", [2, 4, 10])
def test_jain_one_of_n_is_one_over_n(n: int) -> None:
    assert jain([1.0] + [0.0] * (n - 1)) == pytest.approx(1 / n, rel=EXACT)


def test_jain_known_vector() -> None:
    # (1+2+3)^2 / (3 * (1+4+9)) = 36 / 42
    assert jain([1, 2, 3]) == pytest.approx(6 / 7, rel=EXACT)


def test_jain_edge_cases() -> None:
    assert jain([0.0, 0.0]) == 1.0  # equally starved is equal treatment
    with pytest.raises(ValueError):
        jain([])
    with pytest.raises(ValueError):
        jain([1.0, -0.5])


# -- the synthetic run -------------------------------------------------------------------------


def test_summary_has_exactly_the_documented_keys_and_is_json(summary: dict) -> None:
    assert set(summary) == {
        "overall",
        "sites",
        "apps",
        "upstream",
        "cost",
        "unserved",
        "objectives",
        "latency",
    }
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary


def test_site_satisfaction_and_unmet(summary: dict) -> None:
    a, b, h = (_site(summary, s) for s in SITE_IDS)
    # office_a: 30 MB offered, all delivered.
    assert a["offered_gb"] == pytest.approx(0.030, rel=EXACT)
    assert a["satisfaction"] == pytest.approx(1.0, rel=EXACT)
    assert a["unmet_gb"] == pytest.approx(0.0, abs=1e-12)
    # office_b: 100 + 5 + 5 = 110 MB offered, 40 + 5 + 5 = 50 MB delivered.
    assert b["offered_gb"] == pytest.approx(0.110, rel=EXACT)
    assert b["delivered_gb"] == pytest.approx(0.050, rel=EXACT)
    assert b["satisfaction"] == pytest.approx(5 / 11, rel=EXACT)
    assert b["unmet_gb"] == pytest.approx(0.060, rel=EXACT)
    assert b["abandoned_flows"] == 1
    # hotspot: 150 MB + the cut call's 1 Mbit/s x 200 s = 25 MB; 120 + 25 delivered.
    assert h["offered_gb"] == pytest.approx(0.175, rel=EXACT)
    assert h["satisfaction"] == pytest.approx(145 / 175, rel=EXACT)
    assert h["unmet_gb"] == pytest.approx(0.030, rel=EXACT)
    assert (h["kind"], h["users"], h["name"]) == ("hotspot", 4, "Public hotspot")


def test_site_busy_hour_p95_and_paced_share(summary: dict) -> None:
    a, b, h = (_site(summary, s) for s in SITE_IDS)
    # Flows started in 09:00-10:00: a's 20 MB (all), b's download (40/100), h's video (120/150).
    assert a["busy_hour_satisfaction"] == pytest.approx(1.0, rel=EXACT)
    assert b["busy_hour_satisfaction"] == pytest.approx(0.4, rel=EXACT)
    assert h["busy_hour_satisfaction"] == pytest.approx(0.8, rel=EXACT)
    # Down L2 per interval: 114 samples at 40 and 6 at 100 Mbit/s; the nearest-rank p95 drops
    # the top 6 (5 %), leaving 40 x share, in goodput: / overhead.
    for site, share in zip((a, b, h), DOWN_SHARE, strict=True):
        assert site["p95_mbps"] == pytest.approx(40 * share / OVERHEAD, rel=EXACT)
    # Paced time at rate: (480 + 200) / (600 + 200); offices have no paced flows.
    assert h["paced_at_rate_share"] == pytest.approx(0.85, rel=EXACT)
    assert a["paced_at_rate_share"] is None


def test_overall_and_busy_hour(summary: dict) -> None:
    overall = summary["overall"]
    # 30 + 110 + 175 = 315 MB offered, 30 + 50 + 145 = 225 MB delivered.
    assert overall["offered_gb"] == pytest.approx(0.315, rel=EXACT)
    assert overall["delivered_gb"] == pytest.approx(0.225, rel=EXACT)
    assert overall["satisfaction"] == pytest.approx(225 / 315, rel=EXACT)
    assert overall["unmet_gb"] == pytest.approx(0.090, rel=EXACT)
    assert overall["flows"] == 7
    assert overall["users"] == 12
    # Offered per clock hour: 08:30-09:00 10 MB, 09:00-10:00 20 + 100 + 150 = 270 MB,
    # 10:00-10:30 5 + 5 + 25 = 35 MB. The busy hour starts 1800 s into the run.
    busy = overall["busy_hour"]
    assert busy["start_s"] == 1800
    assert busy["clock"] == "09:00"
    # all three busy-hour flows are downloads: each direction apart, nothing up
    assert busy["offered_down_mbps"] == pytest.approx(270e6 * 8 / 3600 / 1e6, rel=EXACT)  # 0.6
    assert busy["delivered_down_mbps"] == pytest.approx(180e6 * 8 / 3600 / 1e6, rel=EXACT)
    assert busy["offered_up_mbps"] == 0 and busy["delivered_up_mbps"] == 0
    assert busy["satisfaction"] == pytest.approx(2 / 3, rel=EXACT)
    # Jain over (1, 5/11, 29/35), worked out: sum 2.283117, sum of squares 1.893142,
    # 2.283117^2 / (3 * 1.893142) = 0.917808.
    assert overall["jain_index"] == pytest.approx(0.917808, abs=1e-6)


def test_upstream_utilisation_and_billing(summary: dict) -> None:
    down, up = summary["upstream"]["down"], summary["upstream"]["up"]
    # Mean: (114 x 40 + 6 x 100) / 120 = 43 Mbit/s of 100.
    assert down["mean_utilisation"] == pytest.approx(0.43, rel=EXACT)
    assert down["p95_utilisation"] == pytest.approx(0.40, rel=EXACT)
    # Five-minute averages: 100 (first window), (100 + 4 x 40) / 5 = 52 (interval 60's window)
    # and 22 windows at 40. Nearest-rank 95th of 24: the 23rd smallest = 52.
    assert down["billing95_mbps"] == pytest.approx(52.0, rel=EXACT)
    assert down["peak_mbps"] == pytest.approx(100.0, rel=EXACT)
    assert up["mean_utilisation"] == pytest.approx(0.10, rel=EXACT)
    assert up["billing95_mbps"] == pytest.approx(10.0, rel=EXACT)


def test_cost(summary: dict) -> None:
    cost = summary["cost"]
    assert cost["monthly_idr"] == pytest.approx(45e6, rel=EXACT)
    # Two hours of a 30-day month: 45 M x 7200 / 2,592,000 = Rp125,000.
    assert cost["period_idr"] == pytest.approx(125_000, rel=EXACT)
    assert cost["per_delivered_gb_idr"] == pytest.approx(125_000 / 0.225, rel=EXACT)
    # Idle: 125,000 x (1 - 0.43) = Rp71,250.
    assert cost["idle_idr"] == pytest.approx(71_250, rel=EXACT)


def test_app_completion_times_and_slowdown(summary: dict) -> None:
    web, egov = summary["apps"]["web"], summary["apps"]["egov"]
    # Alone, 10 MB at office_a (50 Mbit/s access < 100 purchase) takes 10e6 x 8 x overhead / 50e6
    # = 1.6 x overhead s, so fct 2 s is a slowdown of 2 / (1.6 x overhead) = 1.195508; the
    # 20 MB page: 10 / (3.2 x overhead) = 2.988771.
    slow = [2 / (1.6 * OVERHEAD), 10 / (3.2 * OVERHEAD)]
    assert slow == pytest.approx([1.195508, 2.988771], abs=1e-6)
    assert web["flows"] == 2
    assert web["fct_p50_s"] == pytest.approx(6.0, rel=EXACT)  # linear between 2 and 10
    assert web["fct_p95_s"] == pytest.approx(9.6, rel=EXACT)
    assert web["fct_p99_s"] == pytest.approx(9.92, rel=EXACT)
    assert web["slowdown_p50"] == pytest.approx(sum(slow) / 2, rel=EXACT)
    assert web["slowdown_p95"] == pytest.approx(slow[0] + 0.95 * (slow[1] - slow[0]), rel=EXACT)
    # egov: 1 s for 5 MB is 1 / (0.8 x overhead) = 1.195508; 0.5 s would beat the link and is
    # clamped to 1.
    assert egov["slowdown_p50"] == pytest.approx((1.195508 + 1.0) / 2, abs=1e-6)
    assert web["at_rate_share"] is None
    assert web["abandoned_share"] == 0.0


def test_app_abandonment_and_at_rate(summary: dict) -> None:
    apps = summary["apps"]
    assert apps["download"]["abandoned_share"] == pytest.approx(1.0, rel=EXACT)
    assert apps["download"]["fct_p50_s"] is None  # no finished transfer
    assert apps["streaming"]["at_rate_share"] == pytest.approx(0.8, rel=EXACT)  # 480 / 600
    assert apps["video_call"]["at_rate_share"] == pytest.approx(1.0, rel=EXACT)
    assert apps["video_call"]["kind"] == "paced"
    assert apps["streaming"]["fct_p50_s"] is None


def test_unserved_sites_and_an_empty_run() -> None:
    scenario = load_scenario(DATA / "small-unserved.toml")
    n, steps = len(scenario.sites), 60
    empty = RunRecord(
        scenario=scenario,
        backend="synthetic",
        schedule=compile_schedule(scenario),
        flows=[],
        interval=60.0,
        site_ids=[site.id for site in scenario.sites],
        times=np.arange(steps) * 60.0,
        wire_bytes={"down": np.zeros((steps, n)), "up": np.zeros((steps, n))},
        drops={"down": np.zeros((steps, n)), "up": np.zeros((steps, n))},
        plan_index=np.zeros(steps, dtype=int),
    )
    summary = summarize(empty).to_json()
    assert summary["unserved"] == [
        {"id": "kec_seranau", "name": "Kecamatan Seranau", "users": 6, "kind": "subdistrict"}
    ]
    assert summary["overall"]["satisfaction"] is None
    assert summary["overall"]["busy_hour"] is None
    assert summary["overall"]["jain_index"] is None
    # Nothing used: the whole period's cost is idle.
    assert summary["cost"]["idle_idr"] == pytest.approx(summary["cost"]["period_idr"], rel=EXACT)
    json.dumps(summary, allow_nan=False)


# -- the typed summary -------------------------------------------------------------------------


def test_summary_round_trips_through_json_unchanged(record: RunRecord) -> None:
    typed = summarize(record)
    text = json.dumps(typed.to_json(), indent=2)
    again = Summary.from_json(json.loads(text))
    assert again == typed
    assert json.dumps(again.to_json(), indent=2) == text


def test_worst_site_per_kind_and_yearly_idle(record: RunRecord) -> None:
    typed = summarize(record)
    # offices: office_a 1.0, office_b 5/11; the only hotspot 145/175; no sub-district served
    office = typed.worst_site("office")
    assert office is not None and office.id == "office_b"
    assert office.satisfaction == pytest.approx(5 / 11, rel=EXACT)
    hotspot = typed.worst_site("hotspot")
    assert hotspot is not None and hotspot.id == "hotspot"
    assert typed.worst_site("subdistrict") is None
    # a year of Rp45 M a month at 43 % mean use: 12 x 45 M x 0.57 = Rp307.8 M idle
    assert typed.idle_yearly_idr == pytest.approx(307.8e6, rel=EXACT)


def test_objectives_over_each_kinds_busy_windows(summary: dict) -> None:
    """Tuesday 08:30-10:30: every office flow is in the offices' busy windows (weekday hours
    whose weight is >= 0.8 of the peak: 08-12 and 13-15), no hotspot flow in the hotspots'
    (17-22). office_a: 30 of 30 MB; office_b: 50 of 110 MB; the hotspot is not rated."""
    rows = {row["name"]: row for row in summary["objectives"]}
    assert list(rows)[0] == "office_busy_hour_satisfaction"
    office = rows["office_busy_hour_satisfaction"]  # the lower 5th percentile of (5/11, 1)
    assert office["value"] == pytest.approx(5 / 11, rel=EXACT)
    assert office["site"] == "office_b" and office["met"] is False and office["target"] == 0.95
    worst = rows["worst_office_satisfaction"]
    assert (worst["value"], worst["site"], worst["met"]) == (
        pytest.approx(5 / 11),
        "office_b",
        False,
    )
    assert rows["worst_hotspot_satisfaction"]["value"] is None  # nothing in its windows
    assert rows["worst_hotspot_satisfaction"]["met"] is None
    # web pages finished in 2 s and 10 s: linear 95th percentile 2 + 0.95 x 8 = 9.6 s
    web = rows["web_fct_p95_s"]
    assert web["value"] == pytest.approx(9.6, rel=EXACT) and web["better"] == "lower"
    assert web["target"] is None and web["met"] is None  # information unless a target is set
    assert rows["download_fct_p95_s"]["value"] is None  # the one download was abandoned
    assert rows["paced_at_rate_share"]["value"] is None  # the paced flows are the hotspot's
    # Jain over (1, 5/11): (16/11)^2 / (2 x (1 + 25/121)) = 256 / 292 = 0.876712
    assert rows["jain_index"]["value"] == pytest.approx(256 / 292, rel=EXACT)
    assert Summary.from_json(summary).failed_objectives()[0].site == "office_b"
