"""Exports of a ShapingPlan: JSON round trip, the tc script (parsed back, and applied for real in
a network namespace when root), the RouterOS queue tree (checked structurally)."""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import shlex
import subprocess
from pathlib import Path

import pytest

from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.shaping.export import (
    DEFAULT_MINOR,
    FORMATS,
    PlanError,
    default_site_addresses,
    export,
    load_plan_file,
    plan_from_dict,
    to_json,
    to_mikrotik,
    to_tc_script,
)
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan, kernel_quantum
from sim.shaping.schedule import compile_schedule

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("example-small", "kotim-baseline")
STATIC_POLICIES = (
    "equal-static",
    "weighted-static",
    "htb-equal",
    "htb-weighted",
    "htb-priority",
    "max-min",
)


def _plans() -> list[tuple[str, ShapingPlan]]:
    """Every plan of the example scenarios, plus every static policy on the small example."""
    out = []
    for name in SCENARIOS:
        schedule = compile_schedule(load_scenario(ROOT / "scenarios" / f"{name}.toml"))
        out += [(f"{name}-{i}-{plan.policy}", plan) for i, plan in enumerate(schedule.plans)]
    for policy in STATIC_POLICIES:
        scenario = load_scenario(
            ROOT / "scenarios" / "example-small.toml", {"policy": {"name": policy}}
        )
        out.append((f"small-{policy}", compile_schedule(scenario).otherwise))
    return out


PLANS = _plans()
PLAN_IDS = [name for name, _ in PLANS]
ALL_PLANS = [plan for _, plan in PLANS]


def _burst_floor(rate_bps: float) -> float:
    return max(15_000.0, rate_bps * 0.05 / 8)


# ---------------------------------------------------------------------------------------------
# JSON


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_json_round_trip(plan: ShapingPlan, tmp_path: Path) -> None:
    assert plan_from_dict(plan.to_dict()) == plan
    assert plan_from_dict(json.loads(to_json(plan))) == plan
    path = tmp_path / "plan.json"
    path.write_text(export(plan, "json"))
    assert load_plan_file(path) == plan


def test_scenarios_cover_several_policies() -> None:
    assert {plan.policy for plan in ALL_PLANS} >= set(STATIC_POLICIES)
    assert any(len(plan.down.classes) > len(plan.down.leaves) + 1 for plan in ALL_PLANS)  # tiers


def _small() -> dict:
    """A small valid plan as data: root, one tier, two sites (one under the tier)."""
    down = [
        {"id": "root", "parent": None, "rate_bps": 100e6, "ceil_bps": 100e6},
        {"id": "tier_a", "parent": "root", "rate_bps": 60e6, "ceil_bps": 100e6, "prio": 1},
        {"id": "a", "parent": "tier_a", "rate_bps": 60e6, "ceil_bps": 90e6, "site": "a"},
        {"id": "b", "parent": "root", "rate_bps": 30e6, "ceil_bps": 50e6, "site": "b"},
    ]
    return {"policy": "hand-made", "warnings": [], "down": down, "up": copy.deepcopy(down)}


def test_hand_written_plan_gets_defaults() -> None:
    plan = plan_from_dict(_small())
    assert plan.down.by_id("a") == HtbClass("a", "tier_a", 60e6, 90e6, 0, None, "a")
    assert plan.down.by_id("tier_a").prio == 1


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
    "missing rate": (_mutate("down[1].rate_bps", DELETE), "down[1].rate_bps"),
    "unknown key": (_mutate("down[1].colour", "red"), "down[1].colour"),
    "unknown top key": (_mutate("extra", 1), "extra"),
    "prio out of range": (_mutate("down[1].prio", 8), "down[1].prio"),
    "negative rate": (_mutate("down[3].rate_bps", -5), "down[3].rate_bps"),
    "rate as text": (_mutate("down[3].rate_bps", "10M"), "down[3].rate_bps"),
    "rate as bool": (_mutate("down[3].rate_bps", True), "down[3].rate_bps"),
    "quantum zero": (_mutate("down[3].quantum", 0), "down[3].quantum"),
    "quantum fraction": (_mutate("down[3].quantum", 1.5), "down[3].quantum"),
    "duplicate id": (_mutate("down[3].id", "a"), "down[3].id"),
    "shell in class id": (_mutate("down[3].id", "b;reboot"), "down[3].id"),
    "shell in site": (_mutate("down[3].site", "$(reboot)"), "down[3].site"),
    "site twice": (_mutate("down[3].site", "a"), "down[3].site"),
    "site on root": (_mutate("down[0].site", "r"), "down[0].site"),
    "child of a site leaf": (_mutate("down[3].parent", "a"), "down[3].parent"),
    "oversubscribed": (_mutate("down[3].rate_bps", 45e6), "down[0].rate_bps"),
    "warnings not strings": (_mutate("warnings", [1]), "warnings"),
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
    with pytest.raises(PlanError):  # the same data straight from Python: a ValueError
        plan_from_dict(mutate(_small()))


def test_parent_listed_after_child_is_named(tmp_path: Path) -> None:
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


# ---------------------------------------------------------------------------------------------
# tc script, parsed back


def _tc_commands(script: str) -> list[tuple[str | None, list[str]]]:
    """(name from the `# class NAME` comment just above, argv) for every tc command line."""
    out = []
    comment: str | None = None
    for line in script.splitlines():
        if line.startswith("#"):
            found = re.match(r"# (?:class (\w+)|(unclassified traffic))", line)
            comment = (found.group(1) or found.group(2)) if found else None
            continue
        if line.startswith("tc "):
            argv = shlex.split(line.split(" 2>/dev/null")[0])
            out.append((comment if argv[1] == "class" else None, argv))
    return out


def _options(argv: list[str], start: str) -> dict[str, str]:
    """`... htb rate X ceil Y ...` -> {rate: X, ceil: Y, ...} from the word after `start`."""
    tail = argv[argv.index(start) + 1 :]
    return dict(zip(tail[::2], tail[1::2], strict=True))


def _check_tc_script(plan: ShapingPlan, script: str, devs: dict[str, str], addresses) -> None:
    commands = _tc_commands(script)
    for direction, dev in devs.items():
        tree = plan.tree(direction)
        mine = [(name, argv) for name, argv in commands if argv[argv.index("dev") + 1] == dev]
        qdiscs = [argv for _, argv in mine if argv[1] == "qdisc"]
        assert qdiscs[0][:6] == ["tc", "qdisc", "del", "dev", dev, "root"]
        assert qdiscs[1] == f"tc qdisc add dev {dev} root handle 1: htb default fffe".split()
        classes = [(name, argv) for name, argv in mine if argv[1] == "class"]
        classid: dict[str, str] = {}
        for name, argv in classes:
            assert name is not None, f"tc class line without a class comment: {argv}"
            assert name not in classid, f"{name} added twice on {dev}"
            classid[name] = argv[argv.index("classid") + 1]
        assert sorted(classid) == sorted([*(c.id for c in tree.classes), "unclassified traffic"])
        assert classid[tree.root.id] == "1:1"
        assert classid["unclassified traffic"] == f"1:{DEFAULT_MINOR:x}"
        assert len(set(classid.values())) == len(classid)
        seen: set[str] = set()
        for name, argv in classes:
            parent = argv[argv.index("parent") + 1]
            assert parent == "1:" or parent in seen, f"{name}: parent {parent} not yet added"
            seen.add(argv[argv.index("classid") + 1])
            options = _options(argv, "htb")
            rate, ceil = (float(options[k].removesuffix("bit")) for k in ("rate", "ceil"))
            assert int(options["burst"]) >= _burst_floor(rate) - 1
            assert int(options["cburst"]) >= _burst_floor(ceil) - 1
            if name == "unclassified traffic":
                assert parent == "1:1" and options["prio"] == "7"
                continue
            c = tree.by_id(name)
            want_parent = "1:" if c.parent is None else classid[c.parent]
            assert parent == want_parent
            assert rate == round(c.rate) and ceil == round(c.ceil)
            assert int(options["quantum"]) == kernel_quantum(c)
            assert int(options["prio"]) == c.prio
        filters = [argv for _, argv in mine if argv[1] == "filter"]
        match = "dst" if direction == "down" else "src"
        want = {(match, addresses[c.site], classid[c.id]) for c in tree.leaves}
        got = [(a[a.index("ip", a.index("match")) + 1], a[-3], a[-1]) for a in filters]
        assert sorted(got) == sorted(want)  # one filter per leaf, nothing else
        for argv in filters:
            assert argv[argv.index("parent") + 1] == "1:" and argv[argv.index("u32") - 1] == "1"


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_tc_script_structure(plan: ShapingPlan, tmp_path: Path) -> None:
    script = to_tc_script(plan, "lan0", "wan0")
    assert script.startswith("#!/bin/sh\n") and "\nset -e\n" in script
    _check_tc_script(plan, script, {"down": "lan0", "up": "wan0"}, default_site_addresses(plan))
    path = tmp_path / "plan.sh"
    path.write_text(script)
    checked = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert to_tc_script(plan, "lan0", "wan0") == script  # deterministic
    assert export(plan, "tc", lan_dev="lan0", wan_dev="wan0") == script


def test_tc_script_with_given_addresses() -> None:
    plan = plan_from_dict(_small())
    addresses = {"a": "192.168.10.0/24", "b": "172.16.0.9/32", "unused": "10.9.9.0/24"}
    script = to_tc_script(plan, "br-lan", "ppp0", addresses)
    assert "PLACEHOLDER" not in script
    _check_tc_script(plan, script, {"down": "br-lan", "up": "ppp0"}, addresses)
    assert "PLACEHOLDER" in to_tc_script(plan, "br-lan", "ppp0")


def test_default_site_addresses_are_distinct_networks() -> None:
    plan = max(ALL_PLANS, key=lambda p: len(p.down.leaves))
    addresses = default_site_addresses(plan)
    assert set(addresses) == {c.site for c in plan.down.leaves}
    assert len(set(addresses.values())) == len(addresses)
    assert all(re.fullmatch(r"10\.\d+\.\d+\.0/24", a) for a in addresses.values())


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"lan_dev": "eth0; reboot"}, "lan_dev"),
        ({"wan_dev": "a-name-longer-than-15"}, "wan_dev"),
        ({"wan_dev": "$(id)"}, "wan_dev"),
        ({"lan_dev": "eth0", "wan_dev": "eth0"}, "must differ"),
        ({"site_addresses": {"a": "10.0.1.0/24"}}, "no address for site 'b'"),
        ({"site_addresses": {"a": "10.0.1.5/24", "b": "10.0.2.0/24"}}, "site_addresses.a"),
        ({"site_addresses": {"a": "10.0.0.0/16", "b": "10.0.2.0/24"}}, "overlaps"),
        ({"site_addresses": {"a": "fe80::/64", "b": "10.0.2.0/24"}}, "IPv4"),
        ({"site_addresses": {"a": "10.0.1.0/24", "b": "10.0.2.0/24 ; x"}}, "site_addresses.b"),
    ],
)
def test_tc_script_refuses_bad_input(kwargs: dict, problem: str) -> None:
    plan = plan_from_dict(_small())
    args = {"lan_dev": "lan0", "wan_dev": "wan0", "site_addresses": None, **kwargs}
    with pytest.raises(ValueError, match=re.escape(problem)):
        to_tc_script(plan, **args)


def test_free_text_stays_in_comments() -> None:
    data = _small()
    data["warnings"] = ["scaled\nreboot\r\n/system reset-configuration", "end \\"]
    plan = plan_from_dict(data)
    for script in (to_tc_script(plan), to_mikrotik(plan)):
        for line in script.splitlines():
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
    assert FORMATS == ("tc", "mikrotik", "json")
    with pytest.raises(ValueError, match="unknown export format"):
        export(ALL_PLANS[0], "cisco")


# ---------------------------------------------------------------------------------------------
# MikroTik RouterOS, checked structurally


def _ros_sections(script: str) -> dict[str, list[dict[str, str]]]:
    """{menu: [fields of each `add` line]}; menus are the `/ip firewall mangle` style lines."""
    sections: dict[str, list[dict[str, str]]] = {}
    menu = None
    for line in script.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("/") and " remove " not in line:
            menu = line
            sections[menu] = []
            continue
        if line.startswith("add "):
            assert menu is not None
            fields = dict(token.split("=", 1) for token in shlex.split(line)[1:])
            sections[menu].append(fields)
    return sections


def _check_mikrotik(plan: ShapingPlan, script: str, interfaces: dict[str, str | None]) -> None:
    addresses = default_site_addresses(plan)
    sections = _ros_sections(script)
    assert list(sections) == ["/ip firewall mangle", "/queue tree"]
    mangle, queues = sections["/ip firewall mangle"], sections["/queue tree"]
    marks: dict[str, dict[str, str]] = {}
    for rule in mangle:
        assert rule["chain"] == "forward" and rule["action"] == "mark-packet"
        assert rule["passthrough"] == "no" and rule["comment"].startswith("netlab: site ")
        assert rule["new-packet-mark"] not in marks
        marks[rule["new-packet-mark"]] = rule
    defined: dict[str, dict[str, str]] = {}
    for queue in queues:
        assert queue["name"] not in defined
        assert queue["comment"].startswith("netlab: ")
        if queue["parent"] not in defined:  # a top queue: on the interface or global
            assert queue["parent"] in {*(i for i in interfaces.values() if i), "global"}
        for key in ("limit-at", "max-limit"):
            if key in queue:
                assert re.fullmatch(r"[1-9]\d*", queue[key]), queue  # plain bits/s
        if "priority" in queue:
            assert 1 <= int(queue["priority"]) <= 8
        defined[queue["name"]] = queue
    used_marks = set()
    for direction, interface in interfaces.items():
        tree = plan.tree(direction)
        tops = [q for q in queues if q["parent"] == (interface or "global")]
        top = next(q for q in tops if q["name"] == f"netlab-{direction}")
        assert int(top["max-limit"]) == round(tree.root.ceil)
        by_comment = {}
        for q in queues:
            found = re.search(r"(?:site|class) (\w+)$", q["comment"])
            if found and q["name"].startswith(f"netlab-{direction}-"):
                by_comment[found.group(1)] = q
        for c in tree.classes[1:]:
            q = by_comment[c.site or c.id]
            assert int(q["limit-at"]) == round(c.rate)
            assert int(q["max-limit"]) == round(c.ceil)
            assert int(q["priority"]) == c.prio + 1
            parent = top if c.parent == tree.root.id else by_comment[c.parent]
            assert q["parent"] == parent["name"]
            if c.site is not None:
                rule = marks[q["packet-mark"]]
                field = "dst-address" if direction == "down" else "src-address"
                other = "src-address" if direction == "down" else "dst-address"
                assert rule[field] == addresses[c.site] and other not in rule
                assert c.site in rule["comment"]
                used_marks.add(q["packet-mark"])
            else:
                assert "packet-mark" not in q
        unmarked = [
            q
            for q in queues
            if q.get("packet-mark") == "no-mark" and q["parent"] == f"netlab-{direction}"
        ]
        assert len(unmarked) == (1 if interface else 0)
    assert used_marks == set(marks)


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_mikrotik_structure(plan: ShapingPlan) -> None:
    script = to_mikrotik(plan)
    assert "PLACEHOLDER" in script
    _check_mikrotik(plan, script, {"down": None, "up": None})
    assert export(plan, "mikrotik") == script


def test_mikrotik_on_interfaces() -> None:
    plan = next(p for name, p in PLANS if "htb-priority" in name)
    script = to_mikrotik(plan, lan_interface="bridge-lan", wan_interface="ether1")
    _check_mikrotik(plan, script, {"down": "bridge-lan", "up": "ether1"})
    assert export(plan, "mikrotik", lan_dev="bridge-lan", wan_dev="ether1") == script
    with pytest.raises(ValueError, match="interface"):
        to_mikrotik(plan, lan_interface='ether1" comment="x')


# ---------------------------------------------------------------------------------------------
# tc script applied for real in a network namespace


_RATE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)bit$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMG]?)b$")
_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_BYTES = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _shown_classes(text: str) -> dict[str, dict[str, object]]:
    """`tc [-s|-d] class show` text (iproute2 6.1) -> {classid: {parent, rate, ceil, ...}}."""
    out: dict[str, dict[str, object]] = {}
    for line in text.splitlines():
        words = line.split()
        if words[:2] != ["class", "htb"]:
            continue
        info: dict[str, object] = {"parent": None}
        for key, value in zip(words[2:], words[3:], strict=False):
            if key in ("parent", "prio", "quantum"):
                info[key] = value if key == "parent" else int(value)
            elif key in ("rate", "ceil"):
                number, unit = _RATE.match(value).groups()  # type: ignore[union-attr]
                info[key] = float(number) * _SCALE[unit]
            elif key in ("burst", "cburst"):
                number, unit = _SIZE.match(value.split("/")[0]).groups()  # type: ignore[union-attr]
                info[key] = float(number) * _BYTES[unit]
        out[words[2]] = info
    return out


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr.strip()}"
    return done.stdout


def _close(shown: float, want: float) -> bool:
    """tc prints rates to 3-4 significant digits past the unit and the kernel keeps bytes/s."""
    return abs(shown - round(want)) <= 1e-3 * want + 8


def _apply_and_read_back(plan: ShapingPlan, tmp_path: Path) -> None:
    ns = f"nlx-test-{os.getpid()}-{secrets.token_hex(3)}"
    lan, wan = "nlxlan", "nlxwan"
    script = tmp_path / "plan.sh"
    script.write_text(to_tc_script(plan, lan, wan))
    _run(["ip", "netns", "add", ns])
    try:
        in_ns = ["ip", "netns", "exec", ns]
        _run(["ip", "-n", ns, "link", "add", lan, "type", "veth", "peer", "name", wan])
        for dev in (lan, wan):
            _run(["ip", "-n", ns, "link", "set", dev, "up"])
        _run([*in_ns, "sh", str(script)])
        _run([*in_ns, "sh", str(script)])  # again: the script replaces what it put there
        for direction, dev in (("down", lan), ("up", wan)):
            tree = plan.tree(direction)
            shown = _shown_classes(_run([*in_ns, "tc", "-s", "class", "show", "dev", dev]))
            detail = _shown_classes(_run([*in_ns, "tc", "-d", "class", "show", "dev", dev]))
            minor = {c.id: f"1:{i + 1:x}" for i, c in enumerate(tree.classes)}
            has_kids = {c.parent for c in tree.classes}
            assert len(shown) == len(tree.classes) + 1  # and the unclassified leaf
            for c in tree.classes:
                got = shown[minor[c.id]]
                assert got["parent"] == (minor[c.parent] if c.parent else None), c.id
                assert _close(got["rate"], c.rate), (c.id, got["rate"], c.rate)
                assert _close(got["ceil"], c.ceil), (c.id, got["ceil"], c.ceil)
                assert got["burst"] >= 0.99 * _burst_floor(c.rate)
                assert got["cburst"] >= 0.99 * _burst_floor(c.ceil)
                if c.id not in has_kids:  # the kernel prints prio and quantum for leaves only
                    assert got["prio"] == c.prio
                    assert detail[minor[c.id]]["quantum"] == kernel_quantum(c)
            fallback = shown[f"1:{DEFAULT_MINOR:x}"]
            assert fallback["parent"] == "1:1" and fallback["prio"] == 7
            qdiscs = _run([*in_ns, "tc", "qdisc", "show", "dev", dev])
            assert "qdisc htb 1: root" in qdiscs and f"default 0x{DEFAULT_MINOR:x}" in qdiscs
            filters = _run([*in_ns, "tc", "filter", "show", "dev", dev])
            flowids = re.findall(r"\*flowid (\S+)", filters)
            assert sorted(flowids) == sorted(minor[c.id] for c in tree.leaves)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=60)
    gone = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=60)
    assert ns not in gone.stdout


@pytest.mark.parametrize(
    "plan",
    [p for name, p in PLANS if name.startswith(("kotim-baseline", "example-small-0"))],
    ids=[n for n in PLAN_IDS if n.startswith(("kotim-baseline", "example-small-0"))],
)
def test_tc_script_applies_in_a_namespace(plan: ShapingPlan, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("applying the tc script needs root (network namespaces, tc)")
    _apply_and_read_back(plan, tmp_path)
