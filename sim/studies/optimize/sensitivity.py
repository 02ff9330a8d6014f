"""The tornado: the purchase the answer needs with each assumption varied low and high."""

from __future__ import annotations

from sim.analysis.recommendation import FreshCheck, Sensitivity
from sim.model.scenario import Scenario
from sim.studies.optimize.bisection import Bisection

# The assumptions varied for the tornado: (name, what low and high mean, factors).
VARIED = (
    ("users (session rate)", "x0.8", "x1.2", 0.8, 1.2),
    ("video-call share", "x0.5", "x2", 0.5, 2.0),
    ("streaming share", "x0.5", "x2", 0.5, 2.0),
)


def varied(chosen: Scenario, assumption: str, factor: float) -> Scenario:
    """The chosen scenario with one assumption of VARIED scaled by `factor`."""
    if assumption.startswith("users"):
        return chosen.with_growth(chosen.spec.demand.growth * factor)
    app = "video_call" if assumption.startswith("video") else "streaming"
    data = chosen.spec.model_dump()
    for profile in data["demand"]["kinds"].values():
        if app in profile["mix"]:
            profile["mix"][app] *= factor
    return chosen.edited(data)


def sensitivities(
    chosen: Scenario,
    found: dict[str, float | None],
    fresh: FreshCheck,
    grid: list[float],
    grown: list[Bisection],
) -> list[Sensitivity]:
    """With `[optimize] sensitivity`: the purchase each assumption needs low and high (`found`
    by the sensitivity searches) and demand growth from the growth searches; largest swing
    first."""
    if not chosen.spec.optimize.sensitivity:
        return []
    rows = [
        Sensitivity(name, low, high, found[f"{name} {lo}"], found[f"{name} {hi}"])
        for name, low, high, lo, hi in VARIED
    ]
    if grown:
        top = max(grown, key=lambda b: b.key[1])
        mbps = fresh.at_answer.mbps
        rows.append(Sensitivity("demand growth", "x1", f"x{top.key[1]:g}", mbps, top.answer))
    return sorted(rows, key=lambda r: -_swing(r, max(grid)))


def _swing(row: Sensitivity, ceiling: float) -> float:
    return abs((row.high_mbps or ceiling) - (row.low_mbps or ceiling))
