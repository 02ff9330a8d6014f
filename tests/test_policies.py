"""What each policy builds, and schedules switched live during a run."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pytest

from sim.model.policy_spec import PLUGIN, POLICY_NAMES, SCHEDULE, STATIC_POLICIES, PolicyParams
from sim.model.scenario import load_scenario
from sim.run import run_scenario
from sim.shaping.htb import CompiledTree
from sim.shaping.policies import (
    DEFAULT_HOTSPOT_CEIL_MBPS,
    POLICIES,
    Policy,
    compile_policy,
    root_bps,
    tier_of,
)
from sim.shaping.schedule import compile_schedule
from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("policy_tables", ROOT / "tools" / "policy_tables.py")
assert spec is not None and spec.loader is not None
policy_tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(policy_tables)

SMALL = ROOT / "scenarios" / "example-small.toml"


def plan_for(policy: str, **params):
    scenario = load_scenario(SMALL).with_policy(policy, **params)
    return scenario, compile_policy(scenario.spec.policy, scenario)


def leaves(plan):
    return {c.site: c for c in plan.down.leaves}


def test_equal_static_caps_are_equal_and_hard() -> None:
    scenario, plan = plan_for("equal-static")
    share = root_bps(scenario) / len(scenario.sites)
    for site in scenario.sites:
        leaf = leaves(plan)[site.id]
        assert leaf.rate == leaf.ceil == pytest.approx(min(share, site.access_bps))


def test_weighted_policies_follow_users() -> None:
    scenario, plan = plan_for("htb-weighted", guaranteed_share=0.8)
    users = {s.id: s.users for s in scenario.sites}
    total = sum(users.values())
    for site in scenario.sites:
        leaf = leaves(plan)[site.id]
        expected = root_bps(scenario) * 0.8 * users[site.id] / total
        assert leaf.rate == pytest.approx(min(expected, site.access_bps))
        assert leaf.ceil == pytest.approx(min(root_bps(scenario), site.access_bps))
        assert leaf.quantum == round(100_000 * users[site.id] / min(users.values()))
    _, static = plan_for("weighted-static", weights={"setda": 1000.0})
    rates = {s: c.rate for s, c in leaves(static).items()}
    assert all(c.rate == c.ceil for c in leaves(static).values())
    assert rates["setda"] == pytest.approx(min(max(rates.values()), 100e6))
    assert rates["setda"] > rates["disdik"]


def test_htb_priority_tiers_and_hotspot_ceilings() -> None:
    scenario, plan = plan_for("htb-priority")
    prio = {tier_of(s): leaves(plan)[s.id].prio for s in scenario.sites}
    assert prio["essential"] < prio["office"] < prio["hotspot"]  # on leaves: only theirs count
    assert all(c.prio == 0 for c in plan.down.classes if c.id.startswith("tier_"))
    for site in scenario.sites:
        leaf = leaves(plan)[site.id]
        if site.kind == "hotspot":
            assert leaf.ceil == pytest.approx(min(DEFAULT_HOTSPOT_CEIL_MBPS * 1e6, site.access_bps))
            assert leaf.parent == "tier_hotspot"
    tiers = [c for c in plan.down.classes if c.id.startswith("tier_")]
    assert sum(t.rate for t in tiers) == pytest.approx(root_bps(scenario) * 0.9)


def test_max_min_has_no_guarantees_and_equal_quantum() -> None:
    _, plan = plan_for("max-min")
    assert {c.quantum for c in plan.down.leaves} == {100_000}
    assert all(c.rate <= 8_000 for c in plan.down.leaves)


def test_schedule_switches_plans_live(tmp_path: Path) -> None:
    """A site capped at 2 Mbit/s only from 09:00 to 10:00 carries at most that, then more."""
    text = SMALL.read_text().split("[policy]")[0].replace("../topologies", str(ROOT / "topologies"))
    text = text.replace('duration = "12h"', 'duration = "6h"')
    text += """
[policy]
name = "schedule"

[[policy.schedule]]
start = "09:00"
end = "10:00"
policy = { name = "htb-weighted", sites = { setda = { ceil_mbps = 2 } } }

[policy.otherwise]
name = "htb-weighted"
"""
    path = tmp_path / "sched.toml"
    path.write_text(text)
    scenario = load_scenario(path)
    schedule = compile_schedule(scenario)
    record = run_scenario(scenario)
    column = record.site_ids.index("setda")
    mbit = record.wire_bytes["down"][:, column] * 8 / record.interval / 1e6
    hour = (record.times + 6 * 3600) // 3600  # the run starts at 06:00
    capped = hour == 9
    assert set(record.plan_index[capped]) == {0} and set(record.plan_index[~capped]) == {1}
    assert schedule.plans[0] is not schedule.plans[1]
    assert mbit[capped].max() <= 2.0 + 1e-6
    assert np.percentile(mbit[(hour >= 10) & (hour < 11)], 90) > 2.0


def test_the_schema_and_the_docs_follow_the_registry() -> None:
    """`make policies` writes the schema's names and the docs' table from POLICIES; either
    left stale fails here."""
    assert policy_tables.stale() == [], "run `make policies`"
    assert tuple(POLICIES) == STATIC_POLICIES
    assert all(name == policy.name for name, policy in POLICIES.items())
    assert (*STATIC_POLICIES, PLUGIN, SCHEDULE) == POLICY_NAMES


def test_a_policy_declared_once_is_written_into_the_schema_and_the_docs(monkeypatch) -> None:
    """One more Policy in the registry: both written files go stale, and what the tool would
    write names it, with its doc line and keys."""
    fair = Policy(
        "fair-share",
        lambda params, sites, capacity: [],
        ("guaranteed_share",),
        "Equal guarantees, borrowing up to R.",
        ("Jaminan sama rata", "equal guarantees"),
    )
    monkeypatch.setitem(POLICIES, "fair-share", fair)
    assert policy_tables.stale() == [policy_tables.NAMES, policy_tables.REFERENCE]
    policies = list(POLICIES.values())
    assert '    "deployed",\n    "fair-share",\n]' in policy_tables.names_module(policies)
    reference = policy_tables.reference(policy_tables.REFERENCE.read_text(), policies)
    row = "| `fair-share` | Equal guarantees, borrowing up to R. | `guaranteed_share`, `sites` |"
    assert f"{row}\n| `plugin` |" in reference


def test_each_policy_reads_keys_of_the_policy_table() -> None:
    keys = set(PolicyParams.model_fields) - {"name", "sites"}
    for policy in POLICIES.values():
        assert set(policy.params) <= keys, policy.name


def _docs_policy_table() -> list[tuple[str, str, str]]:
    """(name, what it builds, uses) of each row of the policy table in the reference."""
    text = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    table = text.split("| `name` | What it builds | Uses |\n|---|---|---|\n", 1)[1]
    rows = []
    for row in table.split("\n\n", 1)[0].splitlines():
        cells = re.fullmatch(r"\| `([a-z-]+)` \| (.+) \| (.+) \|", row)
        assert cells is not None, f"not a row of the policy table: {row}"
        rows.append((cells[1], cells[2], cells[3]))
    return rows


def test_the_docs_policy_table_ends_with_plugin_and_schedule() -> None:
    """docs/scenario-reference.md: the registry's rows (written by `make policies`), then the
    two that are no declared policy."""
    rows = _docs_policy_table()
    assert [name for name, _, _ in rows[:-2]] == list(POLICIES)
    assert rows[-2][0] == PLUGIN and rows[-2][2] == "`plugin`, `params`, `sites`"
    assert rows[-1][0] == SCHEDULE and rows[-1][2] == "`schedule`, `otherwise`"


def test_the_cli_offers_exactly_the_registered_policies(netlab) -> None:
    result = netlab("run", "--help", env={**os.environ, "COLUMNS": "400"})
    offered = re.search(r"defaults\): ([a-z, -]+)\.", result.stdout)
    assert offered is not None, result.stdout
    assert offered.group(1).split(", ") == list(POLICIES)


def test_routeros_target_makes_every_quantum_equal_and_says_so() -> None:
    scenario = load_scenario(SMALL).with_policy("htb-weighted")
    linux = compile_policy(scenario.spec.policy, scenario)
    assert len({c.quantum for c in linux.down.leaves}) > 1  # weighted by users
    data = scenario.spec.model_dump()
    data["network"]["target"] = "routeros"
    routeros = scenario.edited(data)
    plan = compile_policy(routeros.spec.policy, routeros)
    for direction in ("down", "up"):
        assert {c.quantum for c in plan.tree(direction).leaves} == {100_000}
    # guarantees and ceilings are the policy's own; only the quantum changed
    assert [(c.rate, c.ceil, c.prio) for c in plan.down.leaves] == [
        (c.rate, c.ceil, c.prio) for c in linux.down.leaves
    ]
    (warning,) = [w for w in plan.warnings if "RouterOS" in w]
    assert "quantum weights cannot be deployed on RouterOS" in warning
    # a policy with equal quanta loses nothing and is not warned about
    equal = compile_policy(routeros.with_policy("max-min").spec.policy, routeros)
    assert not [w for w in equal.warnings if "RouterOS" in w]


def test_routeros_target_shares_spare_equally_in_the_allocator() -> None:
    """Two greedy sites of a priority split the spare above their guarantees 3 : 1 by quantum
    on Linux, 1 : 1 on RouterOS."""
    scenario = load_scenario(SMALL).with_policy(
        "htb-weighted", guaranteed_share=0.01, weights={"setda": 3.0, "disdik": 1.0}
    )
    data = scenario.spec.model_dump()
    data["network"]["target"] = "routeros"
    shares = {}
    for name, variant in (("linux", scenario), ("routeros", scenario.edited(data))):
        plan = compile_policy(variant.spec.policy, variant)
        tree = CompiledTree(plan.down, {s.id: s.access_bps for s in variant.sites})
        greedy = {"setda", "disdik"}
        demand = [float("inf") if c.site in greedy else 0.0 for c in plan.down.classes]
        alloc = dict(zip(tree.ids, tree.allocate(demand), strict=True))
        spare = {c.site: alloc[c.id] - c.rate for c in plan.down.leaves if c.site in greedy}
        shares[name] = spare["setda"] / spare["disdik"]
    assert shares["routeros"] == pytest.approx(1.0, rel=1e-9)
    assert shares["linux"] == pytest.approx(3.0, rel=1e-9)
