"""Cost against service for the chosen policy: the purchases probed, the price tiers' edges
and the answer on fresh seeds, priced."""

from __future__ import annotations

from sim.analysis.objectives import met
from sim.analysis.recommendation import FreshCheck, FrontierRow, PolicyAnswer, SearchPoint
from sim.model.scenario import Scenario
from sim.studies.optimize.finance import monthly_cost


def tier_edges(
    scenario: Scenario, found: PolicyAnswer, fresh: FreshCheck, grid: list[float]
) -> list[float]:
    """The smallest and largest grid purchase of every price tier up to the answer's, where
    the search did not go: what the frontier still needs simulated."""
    tops = sorted(t.up_to_mbps for t in scenario.spec.purchase.price_tiers if t.up_to_mbps)
    edges = set()
    low = 0.0
    for top in [*tops, float("inf")]:
        inside = [m for m in grid if low < m <= top]
        if inside and inside[0] <= fresh.at_answer.mbps:
            edges |= {inside[0], inside[-1]}
        low = top
    seen = {p.mbps for p in found.points} | {fresh.at_answer.mbps, fresh.cheaper_mbps}
    return sorted(m for m in edges if m not in seen and m <= fresh.at_answer.mbps)


def frontier(
    scenario: Scenario, found: PolicyAnswer, fresh: FreshCheck, tiers: list[SearchPoint]
) -> list[FrontierRow]:
    """Cost against service for the chosen policy: every purchase the search probed, the
    edges of the price tiers up to the answer, and the answer and the next cheaper option on
    fresh seeds, by purchase."""
    rows = [(point, "search") for point in found.points]
    rows += [(point, "price tier edge") for point in tiers]
    rows.append((fresh.at_answer, "answer (fresh seeds)"))
    if fresh.at_cheaper is not None:
        rows.append((fresh.at_cheaper, "next cheaper (fresh seeds)"))
    out = []
    for point, role in sorted(rows, key=lambda r: (r[0].mbps, r[1])):
        tier = scenario.spec.purchase.model_copy(update={"upstream_mbps": point.mbps})
        out.append(
            FrontierRow(
                mbps=point.mbps,
                monthly_idr=monthly_cost(scenario, point.mbps),
                idr_per_mbps_month=tier.monthly_cost_idr() / point.mbps,
                feasible=point.feasible,
                role=role,
                missed=[
                    name
                    for name, target in scenario.spec.optimize.objectives.targets().items()
                    if met(point.mean.get(name), target, name) is False
                ],
                seeds=[probe.seed for probe in point.probes],
            )
        )
    return out
