"""What connecting unreached sites would give: every combination of their last-mile options.

`whatif(scenario, {"kec_seranau": ["vsat", "lte", "radio"], ...}, seeds)` runs the scenario's
short window (the optimiser's) with none of them connected and with every combination of
the options, all on the same seeds, so each combination is compared with not connecting on
the very same demand. Per combination: its monthly and yearly cost, per newly connected site
its service (throughput, web page-load p50/p95, call MOS, paced time at rate), and what
connecting them takes from the sites already served (their satisfaction and busy-hour
satisfaction, paired differences against not connecting, with 95 % intervals).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.analysis.compare import (
    MeanCI,
    PairedDifference,
    ci_text,
    estimate_text,
    mean_ci,
    paired_difference,
)
from sim.analysis.latency import GOOD_CALL_MOS
from sim.analysis.metrics import summarize
from sim.analysis.summary import Summary
from sim.model.errors import ConfigError, unknown_choice
from sim.model.scenario import Scenario
from sim.run import run_scenario
from sim.studies.optimize.recommend import recommend

NONE = "none"
SITE_FIGURES = (
    ("mean_mbps", "throughput (Mbit/s, mean over the window)"),
    ("page_load_p50_s", "web page-load p50 (s)"),
    ("page_load_p95_s", "web page-load p95 (s)"),
    ("call_mos", "call MOS (G.107)"),
    ("at_rate_share", "calls and video at their rate"),
)
OTHERS_FIGURES = (
    ("others_satisfaction", "satisfaction of the sites already served"),
    ("others_busy_satisfaction", "their busy-hour satisfaction (mean over sites)"),
)


@dataclass
class Combination:
    """One choice of options (site -> option, "none" for the baseline) and its runs."""

    choice: dict[str, str]
    monthly_idr: float
    runs: dict[int, dict[str, float | None]] = field(default_factory=dict)  # seed -> figures

    @property
    def name(self) -> str:
        return ", ".join(f"{site}={option}" for site, option in self.choice.items())

    def stats(self, figure: str) -> MeanCI:
        """Mean and 95 % CI of a figure over the seeds where it exists."""
        values = [run.get(figure) for run in self.runs.values()]
        return mean_ci([float(v) for v in values if v is not None])

    def to_json(self) -> dict[str, Any]:
        """whatif.json's entry: the choice, its monthly cost and every seed's figures."""
        return {"choice": self.choice, "monthly_idr": self.monthly_idr, "runs": self.runs}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Combination:
        """Read back to_json's data, also after a JSON round trip (seeds as text)."""
        runs = {int(seed): figures for seed, figures in data["runs"].items()}
        return cls(data["choice"], data["monthly_idr"], runs)


@dataclass
class WhatIfResult:
    """What whatif.json holds: the sites and options tried, the verdicts, and the baseline
    (none connected, first) and every combination with its runs."""

    connect: dict[str, list[str]]
    verdicts: list[str]
    combinations: list[Combination]

    def to_json(self) -> dict[str, Any]:
        return {
            "connect": self.connect,
            "verdicts": self.verdicts,
            "combinations": [c.to_json() for c in self.combinations],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WhatIfResult:
        combos = [Combination.from_json(c) for c in data["combinations"]]
        return cls(data["connect"], data["verdicts"], combos)


def check_options(scenario: Scenario, connect: dict[str, list[str]]) -> None:
    """Each site must be unreached in the inventory and each option one of its last miles;
    an error names the --connect value and the nearest site or option meant."""
    sites = {site.id: site for site in scenario.inventory.sites}
    unreached = [site.id for site in scenario.inventory.sites if not site.reached]
    for site_id, options in connect.items():
        site = sites.get(site_id)
        if site is None or site.reached:
            problem = unknown_choice("site to connect", site_id, unreached)
            if site is not None:
                problem = f"already reached (sites to connect: {', '.join(unreached)})"
            raise ConfigError(f"--connect {site_id}", "", problem)
        known = [option.id for option in site.lastmile]
        for option in options:
            if option not in known:
                problem = unknown_choice("last-mile option", option, known)
                raise ConfigError(f"--connect {site_id}={option}", "", problem)


def whatif(
    scenario: Scenario,
    connect: dict[str, list[str]],
    seeds: Sequence[int],
    span: tuple[float, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Combination]:
    """The baseline (none connected) and every combination, each run on every seed."""
    check_options(scenario, connect)
    base = scenario.edited({**scenario.spec.model_dump(), "connect": _without(scenario, connect)})
    base = base.with_window(span)
    choices = [dict.fromkeys(connect, NONE)]
    for options in itertools.product(*connect.values()):
        choices.append(dict(zip(connect, options, strict=True)))
    combos = []
    total, done = len(choices) * len(seeds), 0
    for choice in choices:
        variant = base
        for site_id, option in choice.items():
            if option != NONE:
                variant = variant.with_connect(site_id, option)
        combo = Combination(choice, variant.monthly_cost_idr)
        for seed in seeds:
            summary = summarize(run_scenario(variant.with_run(seed=seed)))
            combo.runs[seed] = figures(summary, list(connect), base.duration)
            done += 1
            if progress is not None:
                progress(done, total)
        combos.append(combo)
    return combos


def figures(summary: Summary, new_sites: list[str], length_s: float) -> dict[str, float | None]:
    """The figures of one run: per new site (prefixed "site:"), and of the others."""
    out: dict[str, float | None] = {}
    sites = {site.id: site for site in summary.sites}
    for site_id in new_sites:
        site, latency = sites.get(site_id), summary.latency.get(site_id)
        if site is None or latency is None:
            continue
        out[f"{site_id}:mean_mbps"] = site.delivered_gb * 8e3 / length_s
        out[f"{site_id}:page_load_p50_s"] = latency.page_load_p50_s
        out[f"{site_id}:page_load_p95_s"] = latency.page_load_p95_s
        out[f"{site_id}:call_mos"] = latency.call_mos
        out[f"{site_id}:at_rate_share"] = site.paced_at_rate_share
    others = [site for site in summary.sites if site.id not in new_sites]
    offered = sum(site.offered_gb for site in others)
    delivered = sum(site.delivered_gb for site in others)
    out["others_satisfaction"] = delivered / offered if offered > 0 else None
    busy = [s.busy_hour_satisfaction for s in others if s.busy_hour_satisfaction is not None]
    out["others_busy_satisfaction"] = sum(busy) / len(busy) if busy else None
    return out


def taken(combo: Combination, baseline: Combination, figure: str) -> PairedDifference:
    """Paired difference combo - baseline of a figure on common seeds, with its 95 % CI."""
    mine = {s: float(v) for s, r in combo.runs.items() if (v := r.get(figure)) is not None}
    base = {s: float(v) for s, r in baseline.runs.items() if (v := r.get(figure)) is not None}
    return paired_difference(mine, base)


def verdicts(combos: list[Combination], new_sites: list[str]) -> list[str]:
    """Plain sentences: per combination, what it costs, what the new sites get, what it takes."""
    baseline, lines = combos[0], []
    for combo in combos[1:]:
        extra = combo.monthly_idr - baseline.monthly_idr
        parts = [f"{combo.name}: Rp{extra:,.0f} a month more (Rp{12 * extra:,.0f} a year)"]
        for site_id in new_sites:
            parts.append(_site_sentence(combo, site_id))
        diff = taken(combo, baseline, "others_satisfaction")
        if diff.ci is None or diff.mean is None:
            parts.append("too few seeds to tell what it takes from the others")
        elif not diff.significant:
            parts.append(f"the others' satisfaction: change {estimate_text(diff.mean, diff.ci)}")
        else:
            amount, spread = ci_text(-diff.mean, diff.ci)
            parts.append(f"the others lose {amount} ± {spread} of their satisfaction")
        lines.append("; ".join(parts))
    return lines


def _site_sentence(combo: Combination, site_id: str) -> str:
    option = combo.choice[site_id]
    if option == NONE:
        return f"{site_id} stays unconnected"
    words = []
    for figure, fmt in (
        ("page_load_p50_s", "web pages load in {} s (p50)"),
        ("call_mos", "calls score MOS {}"),
    ):
        stats = combo.stats(f"{site_id}:{figure}")
        if stats.mean is None:
            continue
        words.append(fmt.format(estimate_text(stats.mean, stats.ci)))
    return f"{site_id} on {option}: " + (", ".join(words) or "no web pages or calls measured")


def _without(scenario: Scenario, connect: dict[str, list[str]]) -> dict[str, str]:
    """The scenario's own [connect] table less the sites the what-if chooses for."""
    return {k: v for k, v in scenario.spec.connect.items() if k not in connect}


def cheapest_good(combos: list[Combination], new_sites: list[str]) -> Combination | None:
    """The cheapest combination whose new sites' calls score MOS >= 3.6 on average (where any
    were made) and that takes nothing significant from the others' satisfaction."""
    good = []
    for combo in combos[1:]:
        scores = [combo.stats(f"{site_id}:call_mos").mean for site_id in new_sites]
        diff = taken(combo, combos[0], "others_satisfaction")
        hurts = diff.significant and diff.mean is not None and diff.mean < 0
        if all(m is None or m >= GOOD_CALL_MOS for m in scores) and not hurts:
            good.append(combo)
    return min(good, key=lambda c: c.monthly_idr) if good else None


def purchase_line(scenario: Scenario, combo: Combination, workers: int | None = None) -> str:
    """The optimiser's cheapest purchase keeping every objective with the combination's
    sites connected, in one sentence."""
    connected = scenario
    for site_id, option in combo.choice.items():
        connected = connected.with_connect(site_id, option)
    answer = recommend(connected, workers)
    if not answer.feasible or answer.mbps is None:
        return f"with {combo.name}: no purchase on the optimiser's grid meets every objective"
    return (
        f"with {combo.name} (the cheapest choice whose calls score MOS >= {GOOD_CALL_MOS}): "
        f"buy {answer.mbps:g} Mbit/s shaped with {answer.policy}, "
        f"Rp{answer.monthly_idr or 0:,.0f} a month with the last miles "
        f"(Rp{answer.yearly_idr or 0:,.0f} a year), to keep every objective"
    )
