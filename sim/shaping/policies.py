"""Allocation policies: each compiles (sites, purchase, parameters) into a ShapingPlan.

A static policy is declared once, in POLICIES at the end of this module: its name in scenario
files, its builder, the `[policy]` keys it reads, its line in the docs' policy table and its
words in the acceptance report. `make policies` (tools/policy_tables.py) writes from them the
names the scenario schema accepts (sim/model/policy_names.py) and the docs' table
(docs/scenario-reference.md); tests/test_policies.py fails while either is stale.
Every leaf ceiling is also clipped to the site's access link: a plan never promises more than
the link carries. `deployed` has no builder: its plan is read from a file (sim.shaping.deployed).
A plug-in (`[policy] plugin = "FILE.py:Name"` or an entry point of `netlab.policies`) implements
the same interface (sim.shaping.policy_api) and goes through the same overrides and checks.
`schedule` (a PlanSchedule) switches between these by time of day. With
`[network] target = "routeros"` every leaf gets the same quantum, as RouterOS has no quantum
setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from sim.model.errors import ConfigError
from sim.model.policy_spec import PLUGIN, TIERS, PolicyParams
from sim.model.scenario import Scenario
from sim.model.topology import Site
from sim.model.units import mbps
from sim.shaping.deployed import deployed_trees
from sim.shaping.plan import (
    DIRECTIONS,
    MIN_QUANTUM,
    ClassTree,
    HtbClass,
    ShapingPlan,
    finalize,
    kernel_quantum,
    quanta,
)
from sim.shaping.plugins import check_params, load_reference
from sim.shaping.policy_api import PolicyBuilder

NO_GUARANTEE_BPS = 8_000.0  # HTB needs a positive rate; 1 kB/s is "no guarantee" in practice
DEFAULT_TIER_SHARE = {"essential": 0.35, "office": 0.4, "subdistrict": 0.15, "hotspot": 0.10}
DEFAULT_TIER_PRIO = {"essential": 0, "office": 1, "subdistrict": 1, "hotspot": 2}
DEFAULT_HOTSPOT_CEIL_MBPS = 20.0  # a hotspot's share of the root when it may borrow (assumption)

Builder = Callable[[PolicyParams, list[Site], float], list[HtbClass]]


def root_bps(scenario: Scenario) -> float:
    """The root is shaped a little below the purchase so the queue forms at the hub."""
    return scenario.upstream_bps * scenario.spec.network.root_headroom


def compile_policy(params: PolicyParams, scenario: Scenario, key: str = "policy") -> ShapingPlan:
    """Build the plan of a static policy for the scenario's served sites.

    `key` is where `params` sit in the scenario file, for errors in `[policy.sites]`.
    """
    warnings: list[str] = []
    if params.name == "deployed":  # the deployed plan: its own tree per direction
        trees, warnings = deployed_trees(params, scenario, key)
    else:
        classes = build_classes(params, scenario, key)
        trees = {direction: classes for direction in DIRECTIONS}
    access = {site.id: site.access_bps for site in scenario.sites}
    plan_trees: dict[str, ClassTree] = {}
    for direction in DIRECTIONS:
        classes = with_overrides(trees[direction], params, scenario.path, key)
        found: list[str] = []
        if scenario.spec.network.target == "routeros":
            classes, found = equal_quanta(classes, params.name)
        plan_trees[direction], checked = finalize(classes, access, f"{params.name} {direction}")
        warnings += [w for w in [*found, *checked] if w not in warnings]
    return ShapingPlan(params.name, plan_trees["down"], plan_trees["up"], tuple(warnings))


def policy_of(params: PolicyParams, path: Path, key: str = "policy") -> PolicyBuilder:
    """The policy object `params` names: a built-in, or the plug-in its `plugin` refers to."""
    if params.name != PLUGIN:
        return POLICIES[params.name]
    assert params.plugin is not None  # enforced by PolicyParams
    policy = load_reference(params.plugin, path, f"{key}.plugin", "netlab.policies")
    if not isinstance(policy, PolicyBuilder):
        raise ConfigError(
            path, f"{key}.plugin", f"{params.plugin} is no policy (it needs name, Params, build)"
        )
    return policy


def build_classes(params: PolicyParams, scenario: Scenario, key: str) -> list[HtbClass]:
    """The policy's classes for the served sites; a plug-in's failure is one line."""
    policy = policy_of(params, scenario.path, key)
    if policy.Params is PolicyParams:
        return policy.build(params, scenario.sites, root_bps(scenario))
    own = check_params(policy.Params, params.params, scenario.path, f"{key}.params")
    try:
        classes = policy.build(own, scenario.sites, root_bps(scenario))
    except Exception as exc:  # the user's code: said in one line, with where it came from
        raise ConfigError(scenario.path, f"{key}.plugin", f"{policy.name}: {exc!r}") from exc
    if not isinstance(classes, list) or not all(isinstance(c, HtbClass) for c in classes):
        raise ConfigError(
            scenario.path, f"{key}.plugin", f"{policy.name}: build() must return a list of HtbClass"
        )
    return classes


def with_overrides(
    classes: list[HtbClass], params: PolicyParams, path: Path, key: str
) -> list[HtbClass]:
    """Apply `[policy.sites.ID]` settings to the sites' leaves (a given ceil also caps rate)."""
    out = []
    for c in classes:
        override = params.sites.get(c.site) if c.site is not None else None
        if override is not None:
            ceil = mbps(override.ceil_mbps) if override.ceil_mbps else c.ceil
            rate = mbps(override.rate_mbps) if override.rate_mbps else min(c.rate, ceil)
            if rate > ceil:
                raise ConfigError(
                    path,
                    f"{key}.sites.{c.site}.rate_mbps",
                    f"{rate / 1e6:g} Mbit/s is above the leaf's ceiling of {ceil / 1e6:g} Mbit/s "
                    "(the policy's ceil or the site's access link)",
                )
            prio = c.prio if override.prio is None else override.prio
            c = replace(c, rate=rate, ceil=ceil, prio=prio)
        out.append(c)
    return out


def equal_quanta(classes: list[HtbClass], label: str) -> tuple[list[HtbClass], list[str]]:
    """Give every leaf the same quantum (RouterOS queues have no quantum setting).

    Warns when the policy had weighted the leaves by quantum, since that weighting is lost:
    leaves of one priority then share spare capacity equally, as the router will.
    """
    weighted = len({kernel_quantum(c) for c in classes if c.site is not None}) > 1
    equal = [replace(c, quantum=MIN_QUANTUM) if c.site is not None else c for c in classes]
    if not weighted:
        return equal, []
    return equal, [
        f"{label}: quantum weights cannot be deployed on RouterOS (network.target), which has "
        f"no HTB quantum: every leaf gets quantum {MIN_QUANTUM} B and leaves of one priority "
        "share spare capacity equally"
    ]


def weights_of(params: PolicyParams, sites: list[Site]) -> dict[str, float]:
    """Per-site weight: the `weights` table where given, else the site's users."""
    return {site.id: params.weights.get(site.id, float(site.users)) for site in sites}


def tier_of(site: Site) -> str:
    if site.kind == "office":
        return "essential" if site.essential else "office"
    return site.kind


def _root(capacity: float) -> HtbClass:
    return HtbClass("root", None, capacity, capacity)


def _leaf(
    site: Site, parent: str, rate: float, ceil: float, prio: int = 0, quantum: int = 100_000
) -> HtbClass:
    ceil = min(ceil, site.access_bps)
    return HtbClass(site.id, parent, min(rate, ceil), ceil, prio, quantum, site.id)


def _static(weights: dict[str, float], sites: list[Site], capacity: float) -> list[HtbClass]:
    total = sum(weights.values())
    leaves = [
        _leaf(s, "root", capacity * weights[s.id] / total, capacity * weights[s.id] / total)
        for s in sites
    ]
    return [_root(capacity), *leaves]


def equal_static(params: PolicyParams, sites: list[Site], capacity: float) -> list[HtbClass]:
    return _static({s.id: 1.0 for s in sites}, sites, capacity)


def weighted_static(params: PolicyParams, sites: list[Site], capacity: float) -> list[HtbClass]:
    return _static(weights_of(params, sites), sites, capacity)


def _borrowing(
    weights: dict[str, float], sites: list[Site], capacity: float, share: float
) -> list[HtbClass]:
    total = sum(weights.values())
    quantum = quanta(weights)
    leaves = [
        _leaf(s, "root", capacity * share * weights[s.id] / total, capacity, 0, quantum[s.id])
        for s in sites
    ]
    return [_root(capacity), *leaves]


def htb_equal(params: PolicyParams, sites: list[Site], capacity: float) -> list[HtbClass]:
    return _borrowing({s.id: 1.0 for s in sites}, sites, capacity, params.guaranteed_share)


def htb_weighted(params: PolicyParams, sites: list[Site], capacity: float) -> list[HtbClass]:
    return _borrowing(weights_of(params, sites), sites, capacity, params.guaranteed_share)


def max_min(params: PolicyParams, sites: list[Site], capacity: float) -> list[HtbClass]:
    leaves = [_leaf(s, "root", NO_GUARANTEE_BPS, capacity) for s in sites]
    return [_root(capacity), *leaves]


def htb_priority(params: PolicyParams, sites: list[Site], capacity: float) -> list[HtbClass]:
    shares = {**DEFAULT_TIER_SHARE, **params.tier_share}
    prios = {**DEFAULT_TIER_PRIO, **params.tier_prio}
    hotspot_ceil = mbps(params.hotspot_ceil_mbps or DEFAULT_HOTSPOT_CEIL_MBPS)
    present = [t for t in TIERS if any(tier_of(s) == t for s in sites)]
    share_total = sum(shares[t] for t in present)
    weights = weights_of(params, sites)
    classes = [_root(capacity)]
    for tier in present:
        members = [s for s in sites if tier_of(s) == tier]
        tier_rate = capacity * params.guaranteed_share * shares[tier] / share_total
        tier_id = f"tier_{tier}"
        classes.append(HtbClass(tier_id, "root", tier_rate, capacity))
        member_weights = {s.id: weights[s.id] for s in members}
        total = sum(member_weights.values())
        quantum = quanta(member_weights)
        for s in members:
            ceil = hotspot_ceil if tier == "hotspot" else capacity
            classes.append(
                _leaf(
                    s,
                    tier_id,
                    tier_rate * member_weights[s.id] / total,
                    ceil,
                    prios[tier],
                    quantum[s.id],
                )
            )
    return classes


@dataclass(frozen=True)
class Policy:
    """A built-in policy as scenario files name it and the docs' policy table describes it;
    it is a PolicyBuilder (sim.shaping.policy_api) whose parameters are `[policy]` itself."""

    name: str  # as scenario files name it (`make policies` writes it into the schema's names)
    builder: Builder | None  # None: the plan is read, not built (`deployed`, sim.shaping.deployed)
    params: tuple[str, ...]  # the [policy] keys it reads, besides `sites` (every policy's)
    doc: str  # its row in docs/scenario-reference.md's policy table, "What it builds"
    words: tuple[str, str]  # in plain words, Bahasa Indonesia then English (the berita acara)
    Params: ClassVar[type[PolicyParams]] = PolicyParams

    def build(self, params: PolicyParams, sites: list[Site], capacity: float) -> list[HtbClass]:
        if self.builder is None:
            raise ValueError(f"policy {self.name} reads its plan instead of building it")
        return self.builder(params, sites, capacity)


POLICIES: dict[str, Policy] = {
    policy.name: policy
    for policy in (
        Policy(
            "equal-static",
            equal_static,
            (),
            "Hard equal caps: each leaf rate = ceil = R / n. No borrowing (the naive split).",
            ("Batas tetap sama rata", "equal fixed caps"),
        ),
        Policy(
            "weighted-static",
            weighted_static,
            ("weights",),
            "Hard caps in proportion to weight: rate = ceil = R × w / Σw.",
            ("Batas tetap menurut bobot", "fixed caps by weight"),
        ),
        Policy(
            "htb-equal",
            htb_equal,
            ("guaranteed_share",),
            "Equal guarantees R × `guaranteed_share` / n. Every leaf may borrow up to R.",
            (
                "Jaminan sama rata, sisa kapasitas boleh dipinjam",
                "equal guarantees, spare capacity borrowed",
            ),
        ),
        Policy(
            "htb-weighted",
            htb_weighted,
            ("guaranteed_share", "weights"),
            "Guarantees R × `guaranteed_share` × w / Σw, borrowing up to R, quantum ∝ weight.",
            (
                "Jaminan menurut bobot, sisa kapasitas dibagi menurut bobot",
                "guarantees by weight, spare capacity shared by weight",
            ),
        ),
        Policy(
            "htb-priority",
            htb_priority,
            ("guaranteed_share", "weights", "tier_share", "tier_prio", "hotspot_ceil_mbps"),
            "One class per tier (essential, office, subdistrict, hotspot) with rate R × "
            "`guaranteed_share` × share / Σshare of the tiers present, its own priority, ceil R. "
            "Inside a tier, leaves split the tier rate by weight. Hotspot leaves are capped at "
            "`hotspot_ceil_mbps`.",
            ("Jaminan per tingkat prioritas", "guarantees by priority tier"),
        ),
        Policy(
            "max-min",
            max_min,
            (),
            "No guarantees (each leaf rate 8 kbit/s, `NO_GUARANTEE_BPS`, since HTB needs a "
            "positive rate), ceil R, equal quantum: spare capacity is shared max-min fair.",
            ("Bagi rata tanpa jaminan (max-min)", "max-min fair sharing, no guarantees"),
        ),
        Policy(
            "deployed",
            None,
            ("plan",),
            "The plan in force, read from the JSON plan file `plan` (relative to the scenario; "
            "`netlab import-config` writes it) and used as written whatever the purchase, which "
            "must hold its root. Not searched by the optimiser.",
            (
                "Pengaturan yang berlaku di router (diimpor)",
                "the shaping in force on the router (imported)",
            ),
        ),
    )
}
