"""Latency formulas against worked figures of their sources, and the fluid backend against them."""

from __future__ import annotations

import math

import pytest

from sim.analysis.emodel import mos, r_factor
from sim.backends.fluid import FluidBackend, FluidEnvironment
from sim.model.flow import Flow
from sim.model.tcp import mathis_bps, slow_start_s, slow_start_segments, tcp_path
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan

OVERHEAD = 1514 / 1448
MSS = 1448


def test_mathis_bound_by_hand() -> None:
    """Mathis et al. 1997 eq. (3), C = sqrt(3/2): MSS 1460 B, RTT 100 ms, p = 1 %:
    1460*8/0.1 * 1.2247/0.1 = 1.4304 Mbit/s; a quarter of the loss doubles it."""
    assert mathis_bps(1460, 0.1, 0.01) == pytest.approx(1.4304e6, rel=1e-4)
    assert mathis_bps(1460, 0.1, 0.0025) == pytest.approx(2 * 1.4304e6, rel=1e-4)
    assert mathis_bps(1460, 0.1, 0.0) == math.inf


def test_cardwell_slow_start_rounds() -> None:
    """Cardwell et al. 2000 eq. (1)-(4): with w1 = 1 and gamma = 2 the windows are 1, 2, 4, so
    7 segments take 3 rounds (log2(7 + 1)); with w1 = 2, gamma = 1.5 (delayed ACKs) they are
    2, 3, 4.5: 9.5 segments in 3 rounds; limited to W_max = 4 (eq. 10), 15 segments go as
    1, 2, 4, 4, 4: 5 rounds."""
    assert slow_start_s(7, 1.0, w1=1, w_max=1e9, gamma=2.0) == pytest.approx(3.0)
    assert slow_start_s(9.5, 0.2, w1=2, w_max=1e9, gamma=1.5) == pytest.approx(0.6)
    assert slow_start_s(15, 1.0, w1=1, w_max=4, gamma=2.0) == pytest.approx(5.0)


def test_cardwell_data_in_slow_start() -> None:
    """Cardwell et al. 2000 eq. (5): E[d_ss] = (1 - (1-p)^d)(1-p)/p + 1; p = 1 %, d = 1000:
    (1 - 0.99^1000) * 99 + 1 = 99.996 segments; all d without loss, never more than d."""
    assert slow_start_segments(1000, 0.01) == pytest.approx(99.9957, abs=1e-3)
    assert slow_start_segments(1000, 0.0) == 1000
    assert slow_start_segments(5, 0.01) == 5


def test_e_model_defaults_and_mos() -> None:
    """G.107 section 7.7: R = 93.2 at the default values; Annex B eq. (B-4):
    MOS = 1 + 0.035 R + R (R - 60)(100 - R) 7e-6, so MOS(93.2) = 4.41, MOS(70) = 3.60,
    MOS(50) = 2.58, 1 below R = 0 and 4.5 above 100."""
    assert r_factor() == pytest.approx(93.2, abs=0.05)
    assert mos(93.2) == pytest.approx(4.41, abs=0.005)
    assert mos(70) == pytest.approx(3.597, abs=0.001)
    assert mos(50) == pytest.approx(2.575, abs=0.001)
    assert mos(-5) == 1.0 and mos(120) == 4.5


def test_e_model_loss_and_delay() -> None:
    """Ie,eff = Ie + (95 - Ie) Ppl/(Ppl/BurstR + Bpl) (G.107 eq. 7-29): G.711 with PLC
    (Bpl 25.1) at 2 % loses 95*2/27.1 = 7.01 of R; Idd is 0 up to Ta = 100 ms and grows
    past it (eq. 7-28): at 400 ms, X = 2, Idd = 25((1+64)^(1/6) - 3(1+(2/3)^6)^(1/6) + 2)."""
    no_loss = r_factor(50, 0.0, 0.0, 25.1)
    assert no_loss - r_factor(50, 2.0, 0.0, 25.1) == pytest.approx(95 * 2 / 27.1, rel=1e-9)
    x = 2.0
    idd = 25 * ((1 + x**6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)
    assert idd == pytest.approx(24.07, abs=0.01)
    assert r_factor(400) < r_factor(100) - idd  # echo impairments grow with delay as well


def one_flow(size: float, path, patience: float = math.inf) -> Flow:
    """A single elastic flow on a fast, idle link (1 Gbit/s), carried by the fluid backend."""
    env = FluidEnvironment()
    capacity = 1e9
    root = HtbClass("root", None, capacity, capacity)
    tree = ClassTree((root, HtbClass("a", "root", capacity, capacity, 0, 100_000, "a")))
    backend = FluidBackend(env, {"a": 1e12}, OVERHEAD, {("a", "bulk"): path})
    backend.apply_plan(ShapingPlan("test", tree, tree))
    flow = Flow(0, "a", "bulk", "down", 0.0, size=size, patience=patience)
    backend.transfer(flow)
    env.run()
    return flow


def test_fluid_short_flow_takes_cardwell_latency() -> None:
    """No loss, window not reached: handshakes (2 RTT) plus slow start of all 100 segments,
    w1 = 10, gamma = 2: RTT log2(100/10 + 1) (Cardwell eq. 4): 0.2 + 0.1*3.4594 s."""
    path = tcp_path(0.1, 0.0, MSS, 6 * 2**20, 1, w1=10, handshake_rtts=2, gamma=2.0)
    flow = one_flow(100 * MSS, path)
    assert flow.status == "done"
    assert flow.end == pytest.approx(0.2 + 0.1 * math.log2(11), rel=1e-6)


def test_fluid_window_limited_flow_takes_cardwell_latency() -> None:
    """Window 64 KiB (45.26 segments) at RTT 100 ms: slow start until the window is full,
    then one window a round (Cardwell eq. 10); the fluid model moves the bytes at
    window/RTT after its setup delay, which adds up to the same time."""
    window = 64 * 1024
    path = tcp_path(0.1, 0.0, MSS, window, 1, w1=10, handshake_rtts=1, gamma=1.5)
    segments = 1000
    flow = one_flow(segments * MSS, path)
    w_max = window / MSS
    reached = (1.5 * w_max - 10) / 0.5
    rounds = math.log(w_max / 10, 1.5) + 1 + (segments - reached) / w_max
    assert flow.end == pytest.approx(0.1 + 0.1 * rounds, rel=1e-6)
    assert path.cap_bps == pytest.approx(window * 8 / 0.1)


def test_fluid_lossy_flow_runs_at_the_mathis_rate() -> None:
    """p = 1 %, RTT 600 ms (a VSAT): a 10 MB transfer runs at the Mathis bound (about
    0.236 Mbit/s a connection) once out of slow start, about 340 s in all. The fluid model
    never moves bytes above the cap, so the ~100 segments of slow start (Cardwell eq. 5) take
    the longer of their slow-start rounds and their time at the cap."""
    path = tcp_path(0.6, 0.01, MSS, 6 * 2**20, 1)
    flow = one_flow(10e6, path)
    rate = mathis_bps(MSS, 0.6, 0.01)
    assert path.cap_bps == pytest.approx(rate) and rate == pytest.approx(0.2363e6, rel=1e-3)
    d_ss = slow_start_segments(math.ceil(10e6 / MSS), 0.01)
    t_ss = slow_start_s(d_ss, 0.6, 10, 6 * 2**20 / MSS)
    rest = (10e6 - d_ss * MSS) * 8 / rate
    assert flow.end == pytest.approx(2 * 0.6 + max(t_ss, d_ss * MSS * 8 / rate) + rest, rel=1e-6)


def test_abandoned_during_handshake_delivers_nothing() -> None:
    path = tcp_path(0.6, 0.0, MSS, 6 * 2**20, 1)
    flow = one_flow(1e6, path, patience=0.5)
    assert flow.status == "abandoned" and flow.delivered == 0 and flow.end == 0.5


def test_regency_seranau_vsat_against_radio() -> None:
    """The issue's figure: on the regency, Seranau on VSAT (600 ms, 1 % loss) loads web pages
    at least 3x slower (p50) than on radio (3 ms, 0.1 %), its calls score below MOS 3.6 and
    radio's above 4.0 (G.107 Annex B: 3.6 is where some users are dissatisfied)."""
    from sim.analysis.metrics import summarize
    from sim.model.scenario import load_scenario
    from sim.run import run_scenario
    from tests.conftest import ROOT

    base = load_scenario(ROOT / "scenarios" / "kotim-baseline.toml")
    base = base.with_run(start="2022-02-02T08:00:00", duration="1h", sample_interval="1m")
    got = {}
    for option in ("vsat", "radio"):
        summary = summarize(run_scenario(base.with_connect("kec_seranau", option)))
        got[option] = summary.latency["kec_seranau"]
    assert got["vsat"].rtt_ms == 630 and got["radio"].rtt_ms == 33  # + 30 ms upstream
    assert got["vsat"].page_load_p50_s >= 3 * got["radio"].page_load_p50_s
    assert got["vsat"].call_mos < 3.6 < 4.0 < got["radio"].call_mos
