"""Where a search of a varied scenario starts: the purchase it should need, predicted from a
known need and the rates the two scenarios offer in their busiest hour."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.demand.expected import hourly_load
from sim.model.scenario import Scenario


def offered_mbps(scenario: Scenario) -> float:
    """The demand model's expected offered download rate in the busiest clock hour of the
    scenario's run, summed over its served sites, in Mbit/s: the load the purchase must carry
    at the peak the objectives' busy windows hold (`hourly_load`, hours the run touches)."""
    start = scenario.start
    begin = (start - dt.datetime.combine(start.date(), dt.time())).total_seconds()
    end = begin + scenario.duration
    days = [start.date() + dt.timedelta(days=d) for d in range(math.ceil(end / 86400.0))]
    hours = np.arange(24 * len(days)) * 3600.0
    inside = np.minimum(hours + 3600.0, end) > np.maximum(hours, begin)
    down = np.zeros(hours.size)
    for site in scenario.sites:
        down += hourly_load(scenario, site, days)[:, :, 0].ravel()
    return float(np.max(down[inside])) * 8.0 / 3600.0 / 1e6


def predicted_need(need: float, offered: float, varied_offered: float) -> float:
    """The purchase a varied scenario needs, from the `need` of the scenario it varies and the
    rates the two offer in their busiest hour. Square-root staffing: need = m + beta sqrt(m),
    m the mean offered rate of that hour, beta fitted to the known need; the headroom
    statistical multiplexing asks for grows as sqrt(m), slower than the mean. Linear scaling
    where the known need is at or below its mean (no headroom to fit)."""
    if offered <= 0.0:
        return need
    if need <= offered:
        return need * varied_offered / offered
    beta = (need - offered) / math.sqrt(offered)
    return varied_offered + beta * math.sqrt(max(varied_offered, 0.0))


def predicted_anchor(chosen: Scenario, answer: float, offered: float, other: Scenario) -> float:
    """Where a search of `other` (the chosen scenario varied) starts: `predicted_need` from
    the chosen scenario's `answer` and the offered rate `offered` of its busiest hour. The
    answer is the smallest feasible grid point, so its need lies in the step below it: the
    middle of that step is the need the prediction scales (the search starts at the grid
    point nearest the result)."""
    need = answer - chosen.spec.optimize.step_mbps / 2.0
    return predicted_need(need, offered, offered_mbps(other))
