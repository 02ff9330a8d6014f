"""The fluid backend against queueing theory and conservation laws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.backends.fluid import FluidBackend, FluidEnvironment
from sim.model.flow import Flow
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan

OVERHEAD = 1514 / 1448


def one_link(env: FluidEnvironment, capacity: float, sites: dict[str, float]) -> FluidBackend:
    """A backend with one shaped root of `capacity` bits/s and leaves of the given rates."""
    root = HtbClass("root", None, capacity, capacity)
    leaves = [HtbClass(s, "root", rate, capacity, 0, 100_000, s) for s, rate in sites.items()]
    tree = ClassTree((root, *leaves))
    backend = FluidBackend(env, dict.fromkeys(sites, 1e12), OVERHEAD)
    backend.apply_plan(ShapingPlan("test", tree, tree))
    return backend


def poisson_flows(env, backend, rng, rate_per_s, sizes, site="a"):
    for i, size in enumerate(sizes):
        yield env.timeout(rng.exponential(1.0 / rate_per_s))
        backend.transfer(Flow(i, site, "bulk", "down", env.now, size=float(size)))


@pytest.mark.parametrize("distribution", ["exponential", "lognormal"])
def test_processor_sharing_matches_m_g_1_ps(distribution: str) -> None:
    """One shaped link, Poisson arrivals: M/G/1-PS gives E[T | size x] = x / (C (1 - rho)).

    So the mean slowdown is 1/(1 - rho) whatever the size distribution (insensitivity).
    With rho = 0.5 and 60,000 flows, batch means put the standard error under 1.5 %; we
    accept 5 % (more than 3 standard errors).
    """
    env = FluidEnvironment()
    capacity = 10e6  # L2 bits/s
    backend = one_link(env, capacity, {"a": capacity})
    rng = np.random.default_rng(1)
    mean_size = 125_000.0  # goodput bytes
    n = 60_000
    if distribution == "exponential":
        sizes = rng.exponential(mean_size, n)
    else:
        sigma = 1.0
        sizes = rng.lognormal(math.log(mean_size) - sigma**2 / 2, sigma, n)
    service = mean_size * OVERHEAD * 8.0 / capacity  # mean seconds of a flow alone
    rho = 0.5
    env.process(poisson_flows(env, backend, rng, rho / service, sizes))
    env.run()
    flows = backend.flows[n // 20 :]  # drop the warm-up
    assert all(f.status == "done" for f in flows)
    sojourn = np.array([f.end - f.start for f in flows])
    alone = np.array([f.size * OVERHEAD * 8.0 / capacity for f in flows])
    assert sojourn.mean() == pytest.approx(service / (1 - rho), rel=0.05)
    assert (sojourn / alone).mean() == pytest.approx(1 / (1 - rho), rel=0.05)


def test_bytes_are_conserved_and_shared_by_weight() -> None:
    """Every byte a flow receives is counted once at its leaf, L2 = goodput x overhead."""
    env = FluidEnvironment()
    capacity = 30e6
    backend = one_link(env, capacity, {"a": 20e6, "b": 10e6})
    sizes = {"a": 40e6, "b": 40e6}  # goodput bytes, enough to keep both busy for a while
    for i, (site, size) in enumerate(sizes.items()):
        backend.transfer(Flow(i, site, "bulk", "down", 0.0, size=size))
    env.run(until=5.0)
    counted = backend.leaf_bytes("down")
    # both busy: guarantees 20/10 and no spare, so 2:1 for 5 s
    assert counted["a"] == pytest.approx(20e6 * 5 / 8)
    assert counted["b"] == pytest.approx(10e6 * 5 / 8)
    env.run()
    counted = backend.leaf_bytes("down")
    for flow in backend.flows:
        assert flow.status == "done"
        assert counted[flow.site] == pytest.approx(flow.size * OVERHEAD)
    # a finishes at 40e6*8*overhead/20e6 s; then b gets all 30 Mbit/s for the rest
    a, b = backend.flows
    assert a.end == pytest.approx(40e6 * 8 * OVERHEAD / 20e6)
    left = 40e6 * OVERHEAD - 10e6 * a.end / 8
    assert b.end == pytest.approx(a.end + left * 8 / 30e6)


def test_paced_flows_get_their_rate_first_and_share_when_starved() -> None:
    env = FluidEnvironment()
    capacity = 10e6
    backend = one_link(env, capacity, {"a": capacity})
    call = Flow(0, "a", "call", "down", 0.0, size=2e6 * 10 / 8, rate=2e6, duration=10.0)
    backend.transfer(call)
    backend.transfer(Flow(1, "a", "bulk", "down", 0.0, size=1e12))  # never finishes in time
    env.run(until=20.0)
    assert call.status == "done" and call.time_at_rate == pytest.approx(10.0)
    assert call.delivered == pytest.approx(call.size)
    # five 3 Mbit/s videos on a 10 Mbit/s link: each gets capacity/5/overhead goodput
    videos = [
        Flow(10 + i, "a", "video", "down", 20.0, size=3e6 * 10 / 8, rate=3e6, duration=10.0)
        for i in range(5)
    ]
    for v in videos:
        backend.transfer(v)
    env.run(until=40.0)
    for v in videos:
        assert v.time_at_rate == 0.0
        assert v.delivered == pytest.approx(capacity / 6 * 10 / 8 / OVERHEAD)


def test_impatient_users_abandon_and_take_partial_bytes() -> None:
    env = FluidEnvironment()
    backend = one_link(env, 8e6, {"a": 8e6})
    flow = Flow(0, "a", "web", "down", 0.0, size=10e6, patience=5.0)
    backend.transfer(flow)
    env.run()
    assert flow.status == "abandoned" and flow.end == pytest.approx(5.0)
    assert flow.delivered == pytest.approx(8e6 * 5 / 8 / OVERHEAD)
