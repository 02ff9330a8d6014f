"""What purchases cost: the tiered price with the last-mile options, the cheapest feasible
choice, the next cheaper option on the price table, and the answer against the budget."""

from __future__ import annotations

from sim.analysis.recommendation import Finance, PolicyAnswer
from sim.model.scenario import Scenario


def monthly_cost(scenario: Scenario, mbps: float) -> float:
    """Purchase at `mbps` (tiered price) plus the scenario's last-mile options, per month."""
    purchase = scenario.spec.purchase.model_copy(update={"upstream_mbps": mbps})
    return purchase.monthly_cost_idr() + scenario.lastmile_idr_month


def finance(scenario: Scenario, mbps: float) -> Finance:
    """The answer's yearly cost against the current purchase and the budget ceiling."""
    current = scenario.spec.purchase.upstream_mbps
    yearly, current_yearly = 12 * monthly_cost(scenario, mbps), 12 * monthly_cost(scenario, current)
    budget = scenario.spec.optimize.budget_idr_year
    return Finance(
        current_mbps=current,
        current_yearly_idr=current_yearly,
        yearly_idr=yearly,
        savings_yearly_idr=current_yearly - yearly,
        budget_yearly_idr=budget,
        below_budget_yearly_idr=None if budget is None else budget - yearly,
    )


def cheapest(
    scenario: Scenario, answers: dict[str, PolicyAnswer], grid: list[float]
) -> tuple[str, float] | None:
    """The cheapest (policy, purchase) at or above each policy's answer (tiers may help)."""
    best: tuple[float, float, float, str] | None = None
    for policy, answer in answers.items():
        if answer.mbps is None:
            continue
        for mbps in (m for m in grid if m >= answer.mbps):
            # at equal cost, prefer the policy with more margin (a lower answer of its own)
            key = (monthly_cost(scenario, mbps), mbps, answer.mbps, policy)
            if best is None or key < best:
                best = key
    return None if best is None else (best[3], best[1])


def next_cheaper(scenario: Scenario, mbps: float, grid: list[float]) -> float | None:
    """The next cheaper option on the price table: the grid purchase costing the most while
    still less than `mbps` does (the largest such purchase at equal cost)."""
    cost = monthly_cost(scenario, mbps)
    cheaper = [(monthly_cost(scenario, m), m) for m in grid if monthly_cost(scenario, m) < cost]
    return max(cheaper)[1] if cheaper else None
