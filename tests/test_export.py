"""Exports of a ShapingPlan: plan files (validated), the tc script (the compiler's command list,
checked against the plan), the RouterOS script (checked structurally), `netlab export`.

The tc script applied in a namespace beside the emulator's tree: tests/test_tc_namespace.py.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.model.topology import Topology
from sim.shaping.deployment import Deployment, deployment
from sim.shaping.export import FORMATS, export
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan
from sim.shaping.planfile import PlanError, load_plan_file, plan_from_dict, to_json
from sim.shaping.policies import POLICIES
from sim.shaping.schedule import compile_schedule
from sim.shaping.tc import CATCH_ALL_MINOR, compile_device, deployed_quanta, queue_packets
from sim.shaping.tc_script import IFB_DEV, to_tc_script

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("example-small", "kotim-baseline")
BUILT = [name for name, policy in POLICIES.items() if policy.builder is not None]  # not deployed


def _plans() -> list[tuple[str, ShapingPlan]]:
    """Every plan of the example scenarios, plus every policy that builds its plan on the small
    example."""
    out = []
    for name in SCENARIOS:
        schedule = compile_schedule(load_scenario(ROOT / "scenarios" / f"{name}.toml"))
        out += [(f"{name}-{i}-{plan.policy}", plan) for i, plan in enumerate(schedule.plans)]
    for policy in BUILT:
        scenario = load_scenario(ROOT / "scenarios" / "example-small.toml").with_policy(policy)
        out.append((f"small-{policy}", compile_schedule(scenario).otherwise))
    return out


PLANS = _plans()
PLAN_IDS = [name for name, _ in PLANS]
ALL_PLANS = [plan for _, plan in PLANS]


def _burst_floor(rate_bps: float) -> float:
    return max(15_000.0, rate_bps * 0.05 / 8)


def _sh_n(script: str, tmp_path: Path) -> None:
    path = tmp_path / "script.sh"
    path.write_text(script)
    checked = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


# ---------------------------------------------------------------------------------------------
# plan files


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_json_round_trip(plan: ShapingPlan, tmp_path: Path) -> None:
    assert plan_from_dict(plan.to_dict()) == plan
    assert plan_from_dict(json.loads(to_json(plan))) == plan
    path = tmp_path / "plan.json"
    path.write_text(export(plan, "json"))
    assert load_plan_file(path) == plan


def test_scenarios_cover_several_policies() -> None:
    assert {plan.policy for plan in ALL_PLANS} >= set(BUILT)
    assert any(len(plan.down.classes) > len(plan.down.leaves) + 1 for plan in ALL_PLANS)  # tiers


def _small() -> dict:
    """A small valid plan as data: root, one tier, two sites (one under the tier)."""
    down = [
        {"id": "root", "parent": None, "rate_bps": 100e6, "ceil_bps": 100e6},
        {"id": "tier_a", "parent": "root", "rate_bps": 60e6, "ceil_bps": 100e6},
        {"id": "a", "parent": "tier_a", "rate_bps": 60e6, "ceil_bps": 90e6, "site": "a"},
        {"id": "b", "parent": "root", "rate_bps": 30e6, "ceil_bps": 50e6, "site": "b"},
    ]
    return {"policy": "hand-made", "warnings": [], "down": down, "up": copy.deepcopy(down)}


def test_hand_written_plan_gets_defaults() -> None:
    plan = plan_from_dict(_small())
    assert plan.down.by_id("a") == HtbClass("a", "tier_a", 60e6, 90e6, 0, None, "a")
    assert plan.warnings == ()


def test_what_the_kernel_does_otherwise_is_a_loud_warning() -> None:
    data = _small()
    data["down"][3]["rate_bps"] = 45e6  # 60 + 45 > 100
    data["down"][1]["prio"] = 2  # ignored on an inner class
    plan = plan_from_dict(data)
    assert len(plan.warnings) == 2
    assert "OVERSUBSCRIBED" in plan.warnings[0] and "hand-made down" in plan.warnings[0]
    assert "inner class tier_a" in plan.warnings[1]
    assert plan_from_dict(plan.to_dict()) == plan  # the warnings are not added twice


def _mutate(path: str, value: object):
    """A mutation setting the value at a `down[2].ceil_bps`-style path (DELETE removes it)."""

    def apply(data: dict) -> dict:
        *parents, last = re.findall(r"[^.\[\]]+", path)
        node: object = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]  # type: ignore[index]
        key = int(last) if last.isdigit() else last
        if value is DELETE:
            del node[key]  # type: ignore[union-attr]
        else:
            node[key] = value  # type: ignore[index]
        return data

    return apply


DELETE = object()

BAD_PLANS = {
    "ceil below rate": (_mutate("down[3].ceil_bps", 10e6), "down[3].ceil_bps"),
    "unknown parent": (_mutate("up[2].parent", "nowhere"), "up[2].parent"),
    "no root": (_mutate("down[0].parent", "tier_a"), "down[0].parent"),
    "second root": (_mutate("down[3].parent", None), "down[3].parent"),
    "empty tree": (_mutate("up", []), "up"),
    "tree not a list": (_mutate("up", {"id": "root"}), "up"),
    "missing policy": (_mutate("policy", DELETE), "policy"),
    "bad policy name": (_mutate("policy", "x; reboot"), "policy"),
    "policy name with newline": (_mutate("policy", "x\n"), "policy"),
    "missing rate": (_mutate("down[1].rate_bps", DELETE), "down[1].rate_bps"),
    "unknown key": (_mutate("down[1].colour", "red"), "down[1].colour"),
    "unknown top key": (_mutate("extra", 1), "extra"),
    "prio out of range": (_mutate("down[1].prio", 8), "down[1].prio"),
    "negative rate": (_mutate("down[3].rate_bps", -5), "down[3].rate_bps"),
    "rate above 100G": (_mutate("down[3].rate_bps", 2e11), "down[3].rate_bps"),
    "rate as text": (_mutate("down[3].rate_bps", "10M"), "down[3].rate_bps"),
    "rate as bool": (_mutate("down[3].rate_bps", True), "down[3].rate_bps"),
    "quantum zero": (_mutate("down[3].quantum", 0), "down[3].quantum"),
    "quantum fraction": (_mutate("down[3].quantum", 1.5), "down[3].quantum"),
    "duplicate id": (_mutate("down[3].id", "a"), "down[3].id"),
    "shell in class id": (_mutate("down[3].id", "b;reboot"), "down[3].id"),
    "id with newline": (_mutate("down[3].id", "b\n"), "down[3].id"),
    "shell in site": (_mutate("down[3].site", "$(reboot)"), "down[3].site"),
    "site twice": (_mutate("down[3].site", "a"), "down[3].site"),
    "site on root": (_mutate("down[0].site", "r"), "down[0].site"),
    "child of a site leaf": (_mutate("down[3].parent", "a"), "down[3].parent"),
    "warnings not strings": (_mutate("warnings", [1]), "warnings[0]"),
}


@pytest.mark.parametrize("case", BAD_PLANS, ids=list(BAD_PLANS))
def test_bad_plan_file_names_the_key(case: str, tmp_path: Path) -> None:
    mutate, key = BAD_PLANS[case]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(mutate(_small())))
    with pytest.raises(ConfigError) as caught:
        load_plan_file(path)
    assert caught.value.key == key, str(caught.value)
    assert str(caught.value).startswith(f"{path}: {key}: ")
    assert "\n" not in str(caught.value)
    with pytest.raises(PlanError):  # the same data straight from Python: a ValueError
        plan_from_dict(mutate(_small()))


def test_parent_listed_after_child_is_named() -> None:
    data = _small()
    data["down"][1], data["down"][2] = data["down"][2], data["down"][1]
    with pytest.raises(PlanError, match=r"down\[1\]\.parent: must come after its parent"):
        plan_from_dict(data)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"policy": NaN}', "not valid JSON"),
        ("[1, 2]", "expected an object"),
    ],
)
def test_unreadable_plan_file(text: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_plan_file(path)


def test_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_plan_file(tmp_path / "nope.json")


def _recommendation() -> dict:
    """The keys the optimiser writes to recommendation.json (sim/studies/optimize/recommend.py)."""
    return {"feasible": True, "policy": "hand-made", "mbps": 100.0, "split": [], "growth": {}}


def test_recommendation_with_a_plan_part(tmp_path: Path) -> None:
    path = tmp_path / "recommendation.json"
    path.write_text(json.dumps(_recommendation() | {"plan": _small()}))
    assert load_plan_file(path) == plan_from_dict(_small())
    bad = _small()
    bad["down"][3]["ceil_bps"] = 1.0
    path.write_text(json.dumps(_recommendation() | {"plan": bad}))
    with pytest.raises(ConfigError, match=r"recommendation\.json: plan\.down\[3\]\.ceil_bps: "):
        load_plan_file(path)


def test_recommendation_takes_the_plan_of_its_run_folder(tmp_path: Path) -> None:
    """Today's recommendation.json has no plan: the run at the answer's manifest.json has it."""
    path = tmp_path / "recommendation.json"
    path.write_text(json.dumps(_recommendation()))
    with pytest.raises(ConfigError, match="recommendation.json: plan: no plan here"):
        load_plan_file(path)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"seed": 1, "plans": [_small()]}))
    assert load_plan_file(path) == plan_from_dict(_small())
    manifest.write_text(json.dumps({"plans": [_small(), _small()]}))
    with pytest.raises(ConfigError, match=r"manifest\.json: plans: 2 plans \(a schedule\)"):
        load_plan_file(path)
    manifest.write_text(json.dumps({"plans": [_small() | {"colour": 1}]}))
    with pytest.raises(ConfigError, match=r"manifest\.json: plans\[0\]\.colour: unknown key"):
        load_plan_file(path)


# ---------------------------------------------------------------------------------------------
# the compiler's quanta


def _tree(*quanta: int | None) -> ClassTree:
    leaves = [HtbClass(f"s{i}", "root", 1e6, 10e6, 0, q, f"s{i}") for i, q in enumerate(quanta)]
    return ClassTree((HtbClass("root", None, 10e6, 10e6), *leaves))


def test_small_quanta_are_scaled_keeping_their_ratios() -> None:
    quanta, warnings = deployed_quanta(_tree(10_000, 30_000, 15_000), "t")
    assert [quanta[f"s{i}"] for i in range(3)] == [100_000, 300_000, 150_000]
    assert quanta["root"] is None
    assert len(warnings) == 1 and "scaled by 10" in warnings[0]


def test_large_or_kernel_quanta_are_left_alone() -> None:
    assert deployed_quanta(_tree(100_000, 250_000), "t") == (
        {"root": None, "s0": 100_000, "s1": 250_000},
        [],
    )
    assert deployed_quanta(_tree(None, None), "t") == ({"root": None, "s0": None, "s1": None}, [])
    quanta, warnings = deployed_quanta(_tree(10_000, None), "t")  # scaling one would skew
    assert quanta["s0"] == 10_000 and "not scaled" in warnings[0]


def test_scaling_stops_at_the_cap() -> None:
    quanta, warnings = deployed_quanta(_tree(50_000, 1_000_000), "t")
    assert quanta["s0"] == 100_000 and quanta["s1"] == 2_000_000  # x2 reaches the cap exactly
    quanta, warnings = deployed_quanta(_tree(10_000, 1_000_000), "t")
    assert quanta["s0"] == 20_000 and quanta["s1"] == 2_000_000  # ratio kept, capped
    assert "capped" in warnings[0]


# ---------------------------------------------------------------------------------------------
# tc script: exactly the compiler's commands, and they say what the plan says


def _where(plan: ShapingPlan, nat: bool, lan: str = "lan0", wan: str = "wan0") -> Deployment:
    return Deployment(deployment(plan).networks, lan, wan, nat, ())


def _tc_lines(script: str) -> list[list[str]]:
    return [
        shlex.split(line.split(" 2>/dev/null")[0])[1:]
        for line in script.splitlines()
        if line.startswith("tc ")
    ]


@pytest.mark.parametrize("nat", [False, True], ids=["no-nat", "nat"])
@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_tc_script_is_the_compilers_command_list(plan, nat, tmp_path) -> None:
    where = _where(plan, nat)
    script = to_tc_script(plan, where)
    assert script.startswith("#!/bin/sh\n") and "\nset -e\n" in script
    _sh_n(script, tmp_path)
    up_dev = IFB_DEV if nat else "wan0"
    want = []
    for direction, dev, match in (("down", "lan0", "dst"), ("up", up_dev, "src")):
        program = compile_device(plan.tree(direction), dev, match, where.networks, direction)
        want += [program.reset, *program.build]
    got = _tc_lines(script)
    assert got[len(want)] == ["qdisc", "del", "dev", "lan0", "ingress"]  # an earlier redirect
    assert len(got) > len(want) + 1 if nat else len(got) == len(want) + 1
    assert got[: len(want)] == want  # the rest: the redirect to the IFB (the namespace test)
    assert to_tc_script(plan, where) == script  # deterministic
    assert export(plan, "tc", where) == script


def _options(argv: list[str]) -> dict[str, str]:
    tail = argv[argv.index("htb") + 1 :]
    return dict(zip(tail[::2], tail[1::2], strict=True))


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_tc_classes_and_filters_say_what_the_plan_says(plan: ShapingPlan) -> None:
    where = _where(plan, nat=False)
    lines = _tc_lines(to_tc_script(plan, where))
    for direction, dev, match in (("down", "lan0", "dst"), ("up", "wan0", "src")):
        tree = plan.tree(direction)
        mine = [argv for argv in lines if argv[argv.index("dev") + 1] == dev]
        assert mine[1] == f"qdisc add dev {dev} root handle 1: htb default 0".split()
        classes = {a[a.index("classid") + 1]: a for a in mine if a[0] == "class"}
        minor = {c.id: f"1:{i + 1:x}" for i, c in enumerate(tree.classes)}
        assert set(classes) == {*minor.values(), f"1:{CATCH_ALL_MINOR:x}"}
        for c in tree.classes:
            argv, options = classes[minor[c.id]], _options(classes[minor[c.id]])
            assert argv[argv.index("parent") + 1] == (minor[c.parent] if c.parent else "1:")
            assert options["rate"] == f"{round(c.rate)}bit"
            assert options["ceil"] == f"{round(c.ceil)}bit"
            assert int(options["burst"]) >= _burst_floor(c.rate) - 1
            assert int(options["cburst"]) >= _burst_floor(c.ceil) - 1
            assert options["prio"] == str(c.prio)
            assert options.get("quantum") == (None if c.quantum is None else str(c.quantum))
        fallback = _options(classes[f"1:{CATCH_ALL_MINOR:x}"])
        assert fallback["prio"] == "7" and "quantum" not in fallback
        assert fallback["rate"] == f"{round(min(1e6, tree.root.rate / 100))}bit"
        filters = [a for a in mine if a[0] == "filter"]
        got = {(a[a.index("prio") + 1], a[-4], a[-3], a[-1]) for a in filters}
        want = {("2", match, where.networks[c.site][0], minor[c.id]) for c in tree.leaves}
        want.add(("3", match, "0.0.0.0/0", f"1:{CATCH_ALL_MINOR:x}"))
        if direction == "down":  # from a site to a site: not internet traffic, bypass
            want |= {("1", "src", where.networks[c.site][0], "1:0") for c in tree.leaves}
        assert got == want and len(filters) == len(want)


def test_tc_script_with_real_and_placeholder_addresses(tmp_path: Path) -> None:
    plan = plan_from_dict(_small())
    site = {"name": "A", "kind": "office", "users": 1, "access_mbps": 10}
    topology = Topology.model_validate(
        {
            "name": "t",
            "hub": {"name": "h", "link_mbps": 100},
            "sites": [
                site | {"id": "a", "subnets": ["192.168.10.0/24", "192.168.11.0/24"]},
                site | {"id": "b"},
            ],
        }
    )
    script = to_tc_script(plan, deployment(plan, topology))
    _sh_n(script, tmp_path)
    assert "match ip dst 192.168.10.0/24 flowid 1:3" in script
    assert "match ip dst 192.168.11.0/24 flowid 1:3" in script
    assert "match ip dst 10.0.1.0/24 flowid 1:4" in script  # b: a placeholder
    assert "PLACEHOLDERS below" in script and "addresses of 1 site (b)" in script


def test_free_text_stays_in_comments() -> None:
    data = _small()
    data["warnings"] = ["scaled\nreboot\r\n/system reset-configuration", "end \\"]
    plan = plan_from_dict(data)
    for fmt in ("tc", "mikrotik"):
        for line in export(plan, fmt).splitlines():
            assert not line.startswith(("reboot", "/system")), line
            assert not line.endswith("\\"), line
    bad = ShapingPlan(
        "x",
        ClassTree((HtbClass("root", None, 1e6, 1e6), HtbClass("a b", "root", 1e6, 1e6, site="a"))),
        plan.up,
    )
    with pytest.raises(ValueError, match="not an identifier"):
        export(bad, "tc")  # plans built in code are validated too


def test_unknown_format() -> None:
    assert FORMATS == ("tc", "mikrotik", "json", "libreqos")
    with pytest.raises(ValueError, match="unknown export format"):
        export(ALL_PLANS[0], "cisco")


def test_leaf_fifo_lengths() -> None:
    assert queue_packets(100e6) == 1000  # 200 ms is 1651 frames: capped
    assert queue_packets(20e6) == 330  # 20e6 * 0.2 / 8 / 1514
    assert queue_packets(1e6) == 100  # 16 frames: raised to the floor


def test_a_class_named_like_the_catch_all_keeps_its_own_handle() -> None:
    data = _small()
    data["down"][3]["id"] = "unclassified"
    plan = plan_from_dict(data)
    program = compile_device(plan.down, "lan0", "dst", deployment(plan).networks, "t")
    classids = [a[a.index("classid") + 1] for a in program.build if a[0] == "class"]
    assert classids == ["1:1", "1:2", "1:3", "1:4", "1:fffe"]
    assert "1:4" in {a[-1] for a in program.build if a[0] == "filter"}
