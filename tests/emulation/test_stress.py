"""`netlab validate --stress`: every site greedy, every class compared where the split decides.

example-small at 09:00 is under its schedule's htb-priority plan (tiers with inner classes,
priorities and hotspot ceilings). With every site greedy the root must be busy in the kernel
too, and every class, tiers included, within 3 % of the root's rate of the fluid allocation.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os

import pytest

from sim.model.scenario import load_scenario
from sim.shaping.plan import DIRECTIONS
from sim.shaping.schedule import compile_schedule
from sim.studies.emulate import Stress, StressRow, cpu_cost
from tests.conftest import ROOT

SCENARIO = ROOT / "scenarios" / "example-small.toml"
TOLERANCE = 0.03  # of the root's rate, per class


@pytest.mark.emulation
def test_validate_stress_compares_every_class_with_the_root_busy(netlab, tmp_path):
    done = netlab(
        "validate", str(SCENARIO), "--stress", "--window", "09:00+4s", "--out", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    (folder,) = tmp_path.glob("example-small-stress-htb-priority-*")
    rows = list(csv.DictReader((folder / "stress.csv").open()))
    plan = compile_schedule(load_scenario(SCENARIO)).plan_at(dt.datetime(2022, 2, 1, 9))
    assert plan.policy == "htb-priority"
    want = {(c.id, d) for d in DIRECTIONS for c in plan.tree(d).classes}
    assert {(r["class_id"], r["direction"]) for r in rows} == want
    for r in rows:
        assert abs(float(r["error_of_root"])) <= TOLERANCE, r
        if r["class_id"] == "root":
            assert float(r["kernel_bps"]) >= 0.95 * float(r["root_bps"]), r
    meta = json.loads((folder / "stress.json").read_text())
    assert meta["policy"] == "htb-priority" and meta["info"]["measure_s"] == 4.0
    roots = {r["direction"]: float(r["kernel_bps"]) for r in rows if r["class_id"] == "root"}
    for direction, cost in meta["info"]["cpu_per_direction"].items():
        assert cost["wire_mbps"] == pytest.approx(roots[direction] / 1e6)  # scale 1
        assert 0 < cost["cores_busy"] <= os.cpu_count()
        assert cost["cores_per_gbps"] == pytest.approx(cost["cores_busy"] / roots[direction] * 1e9)


def test_stress_error_is_a_share_of_the_root(tmp_path):
    rows = [
        StressRow("root", "down", None, 100e6, 99e6, 100e6),
        StressRow("a", "down", "a", 30e6, 32e6, 100e6),
        StressRow("a", "up", "a", 10e6, 9.5e6, 50e6),
    ]
    result = Stress("s", "p", rows, {"scale": 1.0}, [])
    assert [r.error for r in rows] == pytest.approx([-0.01, 0.02, -0.01])
    assert result.worst() is rows[1] and result.worst("up") is rows[2]
    result.write(tmp_path / "out")
    written = list(csv.DictReader((tmp_path / "out" / "stress.csv").open()))
    assert [float(r["error_of_root"]) for r in written] == pytest.approx([-0.01, 0.02, -0.01])
    assert math.isclose(float(written[1]["kernel_bps"]), 32e6)


def test_cpu_cost_is_cores_per_gbit_on_the_wire():
    assert cpu_cost(0.5, 500e6) == {"cores_busy": 0.5, "wire_mbps": 500.0, "cores_per_gbps": 1.0}
    assert cpu_cost(0.2, 0.0)["cores_per_gbps"] == math.inf  # nothing got through
