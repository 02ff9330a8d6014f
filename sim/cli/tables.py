"""The tables the commands print: a run's figures and objectives, its acceptance trial, shaping
plans, the optimiser's answer and frontier, a counter import and a calibration."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from sim.analysis.labels import objective_label
from sim.cli.console import err, one_line, out, warn
from sim.model.scenario import Scenario
from sim.model.scenario_schema import TARGET_NAMES
from sim.model.topology import SITE_KINDS
from sim.shaping.plan import ShapingPlan, kernel_quantum

if TYPE_CHECKING:
    from sim.analysis.calibration import Calibration, UpstreamFit
    from sim.analysis.recommendation import Recommendation
    from sim.analysis.summary import Summary
    from sim.cli.counters import ImportReport

# The optimiser and the reports are imported where used: they bring in NumPy, SimPy and plotly,
# which `netlab --help` does not need.


def fmt_figure(value: float | None, spec: str, prefix: str = "", suffix: str = "") -> str:
    """Format a figure; None (nothing to measure) reads "n/a"."""
    return "n/a" if value is None else f"{prefix}{value:{spec}}{suffix}"


def print_summary(summary: Summary, scenario: Scenario) -> None:
    """The run's headline figures, and the worst-served site of each kind."""
    overall, down, cost = summary.overall, summary.upstream["down"], summary.cost
    table = Table(
        title=f"{scenario.name}: {scenario.spec.policy.name}, "
        f"{scenario.spec.purchase.upstream_mbps:g} Mbit/s",
        title_justify="left",
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    busy = overall.busy_hour
    rows = [
        ("satisfaction (delivered/offered)", fmt_figure(overall.satisfaction, ".3f")),
        (
            "busy-hour satisfaction",
            "n/a"
            if busy is None
            else fmt_figure(busy.satisfaction, ".3f", suffix=f" at {busy.local}"),
        ),
        (
            "busy hour offered down / up",
            "n/a"
            if busy is None
            else f"{busy.offered_down_mbps:.1f} / {busy.offered_up_mbps:.1f} Mbit/s",
        ),
        ("Jain's index over sites", fmt_figure(overall.jain_index, ".3f")),
        ("paced flows at their needed rate", fmt_figure(overall.paced_at_rate_share, ".1%")),
        ("unmet demand", fmt_figure(overall.unmet_gb, ".1f", suffix=" GB")),
        (
            "down utilisation mean / p95",
            fmt_figure(down.mean_utilisation, ".2f")
            + " / "
            + fmt_figure(down.p95_utilisation, ".2f"),
        ),
        (
            "95th-percentile billing (down)",
            fmt_figure(down.billing95_mbps, ".0f", suffix=" Mbit/s"),
        ),
        ("cost per delivered GB", fmt_figure(cost.per_delivered_gb_idr, ",.0f", prefix="Rp")),
        ("idle capacity (this period)", fmt_figure(cost.idle_idr, ",.0f", prefix="Rp")),
    ]
    for kind in SITE_KINDS:
        worst = summary.worst_site(kind)
        if worst is not None:
            rows.append(
                (
                    f"{kind}s: worst satisfaction, whole run",
                    fmt_figure(worst.satisfaction, ".3f", suffix=f" ({worst.id})"),
                )
            )
    if summary.unserved:
        rows.append(("unreached sites (not simulated)", str(len(summary.unserved))))
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    print_objectives(summary)


def print_objectives(summary: Summary) -> None:
    """summary.json's objectives: each figure against its target, the site that sets it."""
    table = Table(
        title="objectives (each kind's busy windows, not the whole run)", title_justify="left"
    )
    for column in ("objective, unit", "value", "target", "verdict", "site"):
        table.add_column(
            column, justify="left" if column in ("objective, unit", "site") else "right"
        )
    for row in summary.objectives:
        sign = "<=" if row.better == "lower" else ">="
        verdict = {True: "met", False: "[bold red]MISSED[/bold red]", None: "-"}[row.met]
        found = objective_label(row.name)
        table.add_row(
            f"{found.text()}\n[dim]{row.name}[/dim]",
            fmt_figure(row.value, ".3f"),
            "info" if row.target is None else f"{sign} {row.target:g}",
            verdict,
            row.site or "",
        )
    out.print(table)


def print_acceptance(folder: Path) -> None:
    """A multi-day run's acceptance verdict, its counts and the first failed checks."""
    from sim.analysis.acceptance import Acceptance
    from sim.report.acceptance import failures

    data = Acceptance.from_json(json.loads((folder / "acceptance.json").read_text()))
    counts = data.counts
    colour = "green" if data.verdict == "pass" else "bold red"
    out.print(
        f"acceptance trial {data.days[0]} to {data.days[-1]}: "
        f"[{colour}]{data.verdict.upper()}[/{colour}] ({counts['pass']} checks passed, "
        f"{counts['fail']} failed, {counts['n/a']} not applicable)",
        highlight=False,
    )
    for line in failures(data)[:10]:
        out.print(f"  failed: {line}", highlight=False)
    out.print(f"acceptance: {folder / 'acceptance.html'}", highlight=False, soft_wrap=True)


def print_plan(plan: ShapingPlan) -> None:
    """A plan's download classes: parent, rate, ceiling, priority and quantum."""
    table = Table(title=f"{plan.policy} (down; up is the same shape)", title_justify="left")
    for column in ("class", "parent", "rate Mbit/s", "ceil Mbit/s", "prio", "quantum B"):
        table.add_column(column, justify="left" if column in ("class", "parent") else "right")
    for c in plan.down.classes:
        table.add_row(
            c.id,
            c.parent or "-",
            f"{c.rate / 1e6:.2f}",
            f"{c.ceil / 1e6:.2f}",
            str(c.prio),
            str(c.quantum) if c.quantum is not None else f"({kernel_quantum(c)})",
        )
    out.print(table)


def print_recommendation(answer: Recommendation, summary: Summary, scenario: Scenario) -> None:
    """The answer, its checks, each policy's and each growth's need, then the frontier."""
    fresh, money = answer.fresh_seeds, answer.finance
    assert fresh is not None and answer.mbps is not None and money is not None
    at_answer, at_cheaper = fresh.at_answer, fresh.at_cheaper
    table = Table(title="optimum usage number", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    searched = answer.searched_mbps
    rows = [
        ("recommended purchase", f"{answer.mbps:g} Mbit/s with {answer.policy}"),
        ("simulated for", TARGET_NAMES[answer.target]),
        ("cost", f"Rp{answer.monthly_idr:,.0f}/month, Rp{answer.yearly_idr:,.0f}/year"),
        (
            f"against today's {money.current_mbps:g} Mbit/s "
            f"(Rp{money.current_yearly_idr:,.0f}/year)",
            money.against_today(),
        ),
        ("idle capacity (a year at this day's use)", f"Rp{summary.idle_yearly_idr:,.0f}"),
        (
            f"on {len(at_answer.probes)} fresh seeds",
            ("meets the objectives" if at_answer.feasible else "misses the objectives")
            + f" (each seed alone: {at_answer.seeds_meeting} of {len(at_answer.probes)})"
            + (f"; search alone found {searched:g}" if searched != answer.mbps else ""),
        ),
    ]
    if money.budget_yearly_idr is not None and money.below_budget_yearly_idr is not None:
        rows.insert(
            4,
            (
                f"against the ceiling of Rp{money.budget_yearly_idr:,.0f}/year",
                f"Rp{money.below_budget_yearly_idr:,.0f}/year below it"
                if money.below_budget_yearly_idr >= 0
                else f"Rp{-money.below_budget_yearly_idr:,.0f}/year OVER it",
            ),
        )
    if at_cheaper is not None and fresh.cheaper_mbps is not None:
        rows.append(
            (
                f"next cheaper option ({fresh.cheaper_mbps:g} Mbit/s, "
                f"Rp{12 * _monthly(scenario, fresh.cheaper_mbps):,.0f}/year)",
                "meets them too" if at_cheaper.feasible else "misses them",
            )
        )
    rows += _needs(answer)
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    if answer.judged_on is not None:
        out.print(answer.judged_on.line(), markup=False, highlight=False)
    print_frontier(answer)


def _monthly(scenario: Scenario, mbps: float) -> float:
    """The price table's monthly cost of a purchase."""
    from sim.studies.optimize.finance import monthly_cost

    return monthly_cost(scenario, mbps)


def _needs(answer: Recommendation) -> list[tuple[str, str]]:
    """What each policy and each demand growth needs."""
    rows = []
    for policy, found in answer.policies.items():
        value = "infeasible on the grid" if found.mbps is None else f"{found.mbps:g} Mbit/s"
        rows.append((f"{policy} needs", value))
    for growth, found in answer.growth.items():
        value = "above the grid" if found.mbps is None else f"{found.mbps:g} Mbit/s"
        rows.append((f"with demand x{growth}", value))
    return rows


def print_frontier(answer: Recommendation) -> None:
    """Every purchase simulated for the chosen policy, the answer among them: cost and verdict,
    a row per purchase (one searched and then checked on fresh seeds shows the fresh verdict,
    both roles named)."""
    from sim.analysis.recommendation import frontier_purchases

    assert answer.policy is not None
    frontier = Table(title=f"frontier ({answer.policy}, mean over seeds)", title_justify="left")
    for column in ("Mbit/s", "Rp/month", "Rp/Mbit/s", "meets", "misses", "what"):
        frontier.add_column(column, justify="left" if column in ("misses", "what") else "right")
    for row, rows in frontier_purchases(answer.frontier):
        frontier.add_row(
            f"{row.mbps:g}",
            f"{row.monthly_idr:,.0f}",
            f"{row.idr_per_mbps_month:,.0f}",
            "yes" if row.feasible else "no",
            (", ".join(row.missed) or "-")
            if len(row.missed) <= 2
            else f"{len(row.missed)} objectives",
            " + ".join(dict.fromkeys(r.role for r in rows)),
        )
    out.print(frontier)


def print_import(report: ImportReport) -> None:
    """What `import-counters` read: site intervals, each kind of event per interface, and the
    interfaces that map to no site."""
    events = report["events"]
    counts = Counter((e["interface"], e["kind"]) for e in events)
    table = Table("interface", "what", "count", "first")
    for (name, kind), count in sorted(counts.items()):
        first = next(e for e in events if e["interface"] == name and e["kind"] == kind)
        table.add_row(name, kind, str(count), f"line {first['line']}: {first['detail']}")
    out.print(f"{report['intervals']} site intervals read", highlight=False)
    if counts:
        out.print(table)
    for name in report["unmapped_interfaces"]:
        warn(f"interface {name} maps to no site; left out")


def print_calibration(result: Calibration) -> None:
    """Each site's fitted scale, measured against fitted figures and censored hours; the notes."""
    table = Table("site", "scale", "busy h Mbit/s meas / fit", "GB/day meas / fit", "censored")
    for fit in result.sites:
        m, f = fit.measured, fit.fitted
        table.add_row(
            fit.site.id,
            f"{fit.scale:.2f}",
            f"{m.busy_hour_mbps:.1f} / {f.busy_hour_mbps:.1f}",
            f"{m.daily_gb:.1f} / {f.daily_gb:.1f}",
            f"{fit.censored_samples} of {fit.samples}" if fit.censored else "",
        )
    if result.sites:
        out.print(table)
    if result.upstream is not None:
        out.print(_upstream_line(result.upstream), highlight=False, soft_wrap=True)
    for note in result.notes:
        err.print(Text.assemble(("note: ", "yellow"), one_line(note)), soft_wrap=True)


def _upstream_line(fit: UpstreamFit) -> str:
    """The sites fitted to the upstream, the busy hour with its interval, what was censored."""
    scales = ", ".join(f"{kind} x{scale:.2f}" for kind, scale in fit.scales.items())
    low, high = fit.interval_mbps
    line = (
        f"{len(fit.sites)} sites fitted to the upstream ({scales}): busy hour "
        f"{fit.busy_hour:02d}:00 {fit.busy_hour_mbps:.1f} Mbit/s offered, 90 % interval "
        f"{low:.1f}-{high:.1f}; censored: {fit.censored_busy_share:.0%} of the busy hour"
    )
    if fit.peak_mbps is not None:
        line += (
            f"; peak at the ceiling on {len(fit.peak_censored_days)} days, estimated "
            f"{fit.peak_mbps:.1f} Mbit/s"
        )
    return line
