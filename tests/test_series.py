"""The per-flow and per-class series behind flows.csv and classes.csv, against hand figures.

A three-minute synthetic run of tests/data/tiny.toml (htb-equal: root over the leaves
office_a, office_b, hotspot; access 50, 50 and 20 Mbit/s; purchase 100), one-minute intervals.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.series import class_series, flow_completion, membership, offered_bytes
from sim.model.flow import Flow
from sim.model.scenario import load_scenario
from sim.run import RunRecord
from sim.shaping.plan import ClassTree, HtbClass
from sim.shaping.schedule import compile_schedule

DATA = Path(__file__).parent / "data"
OVERHEAD = 1514 / 1448
SITE_IDS = ["office_a", "office_b", "hotspot"]

FLOWS = [
    Flow(1, "office_a", "web", "down", 30.0, 6e6, end=32.0, delivered=6e6, status="done"),
    Flow(2, "office_b", "egov", "up", 70.0, 1.5e6, end=90.0, delivered=1e6, status="abandoned"),
    Flow(3, "hotspot", "web", "down", 130.0, 3e6, end=130.5, delivered=3e6, status="done"),
    Flow(4, "office_b", "call", "down", 100.0, 7.5e6, rate=1e6, duration=60.0, end=160.0),
    Flow(5, "office_b", "web", "down", 500.0, 0.75e6, end=600.0, status="cut"),  # after the last
]


@pytest.fixture(scope="module")
def record() -> RunRecord:
    scenario = load_scenario(DATA / "tiny.toml")
    down = np.array([[7.5e6, 0.0, 0.0], [0.0, 3.75e6, 0.0], [1.5e6, 0.0, 0.75e6]])  # L2 bytes
    return RunRecord(
        scenario=scenario,
        backend="synthetic",
        schedule=compile_schedule(scenario),
        flows=FLOWS,
        interval=60.0,
        site_ids=SITE_IDS,
        times=np.array([0.0, 60.0, 120.0]),
        wire_bytes={"down": down, "up": np.zeros((3, 3))},
        drops={"down": np.array([[0, 2, 0], [1, 0, 0], [0, 0, 3]]), "up": np.zeros((3, 3))},
        plan_index=np.zeros(3, dtype=int),
    )


def test_membership_of_a_nested_tree() -> None:
    tree = ClassTree(
        (
            HtbClass("root", None, 100, 100),
            HtbClass("tier", "root", 60, 100),
            HtbClass("x", "tier", 30, 100, site="x"),
            HtbClass("y", "tier", 30, 100, site="y"),
            HtbClass("z", "root", 40, 100, site="z"),
        )
    )
    expected = [  # columns y, z, x, w (w has no leaf)
        [1, 1, 1, 0],
        [1, 0, 1, 0],
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [0, 1, 0, 0],
    ]
    assert membership(tree, ["y", "z", "x", "w"]).tolist() == expected


def test_offered_bytes_by_start_interval(record: RunRecord) -> None:
    offered = offered_bytes(record)
    down = np.zeros((3, 3))
    down[0, 0] = 6e6  # flow 1 starts at 30 s
    down[1, 1] = 7.5e6  # flow 4 at 100 s: a paced flow offers its size
    down[2, 2] = 3e6  # flow 3 at 130 s
    down[2, 1] = 0.75e6  # flow 5 starts after the last interval: counted in the last
    up = np.zeros((3, 3))
    up[1, 1] = 1.5e6  # flow 2 at 70 s, its size whatever it delivered
    assert offered["down"].tolist() == down.tolist()
    assert offered["up"].tolist() == up.tolist()


def test_class_series_sums_leaves_into_the_root(record: RunRecord) -> None:
    series = {s.direction: s for s in class_series(record)}
    assert set(series) == {"down", "up"}
    down = series["down"]
    assert [c.id for c in down.tree.classes] == ["root", *SITE_IDS]
    assert down.steps.tolist() == [0, 1, 2]
    # bytes x 8 / 60 s; the root is the sum of its leaves
    allocated = [[1e6, 1e6, 0, 0], [0.5e6, 0, 0.5e6, 0], [0.3e6, 0.2e6, 0, 0.1e6]]
    assert down.allocated_bps == pytest.approx(np.array(allocated), rel=1e-12)
    assert down.delivered_bps == pytest.approx(np.array(allocated) / OVERHEAD, rel=1e-12)
    assert down.drops.tolist() == [[2, 0, 2, 0], [1, 1, 0, 0], [3, 0, 0, 3]]
    offered = [[0.8e6, 0.8e6, 0, 0], [1e6, 0, 1e6, 0], [0.5e6, 0, 0.1e6, 0.4e6]]
    assert down.offered_bps == pytest.approx(np.array(offered), rel=1e-12)
    assert series["up"].offered_bps[1].tolist() == pytest.approx([0.2e6, 0, 0.2e6, 0])


def test_flow_completion_only_for_finished_elastic_flows(record: RunRecord) -> None:
    fct, slowdowns = flow_completion(record)
    # flow 1: 2 s for 6 MB through its 50 Mbit/s access (alone: 6e6 x 8 x OVERHEAD / 50e6)
    assert fct[0] == 2.0
    assert slowdowns[0] == pytest.approx(2.0 / (0.96 * OVERHEAD), rel=1e-12)
    # flow 3: 0.5 s, faster than alone through 20 Mbit/s (1.2 x OVERHEAD s): slowdown 1
    assert fct[2] == 0.5 and slowdowns[2] == 1.0
    for i in (1, 3, 4):  # abandoned, paced, cut
        assert math.isnan(fct[i]) and math.isnan(slowdowns[i])
