"""The optimiser's work queue: each distinct probe simulated once, the most urgent first, and
the answer independent of the order in which the workers finish."""

from __future__ import annotations

import asyncio
import json
import math
import os
import time

import pytest

import sim.studies.optimize.recommend as recommending
import sim.studies.optimize.searches as searches
from sim.analysis.metrics import summarize
from sim.model.scenario import load_scenario
from sim.run import run_scenario
from sim.studies.optimize.probes import objective_figures, probe_key, resolved, simulate
from sim.studies.optimize.recommend import recommend
from sim.studies.optimize.sensitivity import varied
from sim.studies.probe_queue import ProbeQueue
from tests.test_optimize import SCENARIO

LOG = "NETLAB_TEST_SIMULATED"  # where counted_simulate (in a worker) writes what it ran


def logged_double(x: int) -> int:
    """A job that leaves a line per call in the file named by $NETLAB_TEST_SIMULATED."""
    with open(os.environ[LOG], "a", encoding="utf-8") as out:
        out.write(f"{x}\n")
    return 2 * x


def counted_simulate(point):
    """probes.simulate, leaving the probe's key in the file named by $NETLAB_TEST_SIMULATED."""
    with open(os.environ[LOG], "a", encoding="utf-8") as out:
        out.write(json.dumps(probe_key(point)) + "\n")
    return objective_figures(summarize(run_scenario(point)))


def test_a_key_asked_twice_runs_once_and_both_get_its_result(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(LOG, str(tmp_path / "ran"))

    async def ask() -> list[int]:
        queue = ProbeQueue(2, logged_double, None)
        try:
            first = queue.run("a", (3,), 1)
            again = queue.run("a", (3,), 0)  # still running or waiting: shared
            other = queue.run("b", (4,), 1)
            results = [await first, await again, await other]
            results.append(await queue.run("a", (3,), 1))  # finished: answered at once
            assert queue.submitted == 2 and queue.done == 2
            return results
        finally:
            queue.close()

    assert asyncio.run(ask()) == [6, 6, 8, 6]
    assert sorted((tmp_path / "ran").read_text().split()) == ["3", "4"]


def test_the_most_urgent_waiting_job_runs_first() -> None:
    async def order() -> list[str]:
        queue = ProbeQueue(1, time.monotonic_ns, None)
        try:
            # the first goes straight to the idle worker; the rest wait and go by priority,
            # equal priorities in the order asked
            asked = {k: queue.run(k, (), p) for k, p in [("a", 5), ("b", 2), ("c", 0), ("d", 2)]}
            stamps = {k: await f for k, f in asked.items()}
            return sorted(stamps, key=stamps.__getitem__)
        finally:
            queue.close()

    assert asyncio.run(order()) == ["a", "c", "b", "d"]


def test_a_failed_job_fails_its_waiters_and_closing_drops_the_waiting() -> None:
    async def fail() -> None:
        queue = ProbeQueue(1, math.sqrt, None)
        try:
            with pytest.raises(ValueError, match="math domain error"):
                await queue.run("bad", (-1.0,), 0)
            queue.run("slow", (2.0,), 0)
            waiting = queue.run("waiting", (4.0,), 0)
        finally:
            queue.close()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(fail())


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The test scenario with growth x1.2: its users-x1.2 sensitivity search probes the very
    scenarios of the growth search (demand.growth 1.2), so some probes are asked for twice."""
    path = tmp_path_factory.mktemp("queue") / "opt.toml"
    path.write_text(SCENARIO.replace("growth = [1.5]", "growth = [1.2]"))
    return load_scenario(path)


def test_recommend_simulates_every_distinct_probe_once(small, tmp_path, monkeypatch) -> None:
    asked: list[str] = []
    key = probe_key

    def spy(point):
        asked.append(json.dumps(key(point)))
        return key(point)

    monkeypatch.setattr(searches, "probe_key", spy)
    monkeypatch.setattr(recommending, "simulate", counted_simulate)
    monkeypatch.setenv(LOG, str(tmp_path / "ran"))
    answer = recommend(small, workers=2)
    simulated = (tmp_path / "ran").read_text().splitlines()
    assert sorted(simulated) == sorted(set(asked))  # each distinct probe, once
    twice = {k for k in asked if asked.count(k) > 1}
    assert twice, "the scenario should ask for some probes twice"
    # those are the growth search's probes (users x1.2 is demand growth 1.2)
    grown = {(p.mbps, p.seed) for point in answer.growth["1.2"].points for p in point.probes}
    for shared in twice:
        spec = json.loads(json.loads(shared)[1])
        assert spec["demand"]["growth"] == pytest.approx(1.2)
        assert (spec["purchase"]["upstream_mbps"], spec["scenario"]["seed"]) in grown


def test_the_answer_does_not_depend_on_the_order_probes_finish(small) -> None:
    """One worker runs the probes in another order than two do: the same recommendation."""
    assert recommend(small, workers=1).to_json() == recommend(small, workers=2).to_json()


def test_the_same_point_reached_two_ways_is_one_probe(small) -> None:
    """What memoisation rests on: the growth search at x1.2 and the sensitivity search with
    users x1.2 resolve to the same scenario, so to one key and the same figures."""
    chosen = small.with_window()
    by_growth = resolved(chosen, 60.0, 1, 1.2)
    by_users = resolved(varied(chosen, "users (session rate)", 1.2), 60.0, 1, 1.0)
    assert probe_key(by_growth) == probe_key(by_users)
    assert simulate(by_growth) == simulate(by_users)
    other_seed = resolved(chosen, 60.0, 2, 1.2)
    assert probe_key(other_seed) != probe_key(by_growth)
