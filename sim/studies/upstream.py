"""The upstream's counters in a calibration: the sites no counter measures, fitted to what the
upstream carries beyond the measured sites (`sim.studies.aggregate` fits), and the regency's
busy hour with its interval, estimated above the ceiling where the upstream was saturated.

This module gathers the data (upstream minus measured sites, per local day and hour), writes
the fit into the calibrated scenario with its provenance and says, in plain words, what the
data can and cannot tell.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from sim.analysis.calibration import UpstreamFit
from sim.analysis.recommendation import Recommendation
from sim.demand.calendar import national
from sim.demand.expected import hourly_load
from sim.demand.profiles import scenario_calendar
from sim.model.scenario import Scenario
from sim.studies import aggregate
from sim.studies.hours import MBIT, Hours, workday_mean
from sim.studies.peaks import METHOD as PEAK_METHOD
from sim.studies.peaks import censored_peaks


def upstream_ceiling(scenario: Scenario) -> float:
    """The upstream's ceiling, L2 bits/s: the purchase, or the hub's link if that is less."""
    return min(scenario.upstream_bps, scenario.topology.hub.link_mbps * 1e6)


def _data(
    upstream: Hours, measured: dict[str, Hours], days: list[dt.date], working: np.ndarray
) -> aggregate.Data:
    """The upstream less the measured sites (NaN where any of them was not measured)."""
    target = np.full((len(days), 24), np.nan)
    censored = np.zeros((len(days), 24), dtype=bool)
    for i, day in enumerate(days):
        for hour in range(24):
            key = (day, hour)
            parts = [h.goodput.get(key, math.nan) for h in measured.values()]
            target[i, hour] = upstream.goodput.get(key, math.nan) - sum(parts)
            censored[i, hour] = key in upstream.censored
    return aggregate.Data(target, censored, working)


def fit_upstream(
    calibrated: Scenario,
    upstream: Hours,
    measured: dict[str, Hours],
    days: list[dt.date],
    workdays: list[dt.date],
) -> tuple[Scenario, UpstreamFit] | None:
    """Fit the sites not in `measured` to the upstream; None when every site was measured."""
    unmeasured = [site for site in calibrated.sites if site.id not in measured]
    if not unmeasured:
        return None
    calendar = scenario_calendar(calibrated) or national(())
    data = _data(upstream, measured, days, aggregate.day_types(calendar, days))
    kinds = aggregate.kinds_of(calibrated, unmeasured, days)
    shape, per_kind = aggregate.fit(kinds, data)
    chosen = np.array([day in set(workdays) for day in days])
    fixed = sum(
        (hourly_load(calibrated, s, workdays)[:, :, 0] / 3600.0 for s in calibrated.sites
         if s.id in measured),
        np.zeros((len(workdays), 24)),
    )  # fmt: skip
    picked = [kind.pick(chosen) for kind in kinds]
    hourly = aggregate.busy_hour(picked, shape, fixed, data.pick(chosen)) * 8.0 / MBIT
    low, high = aggregate.interval(kinds, data, per_kind, fixed, chosen)
    busy = int(np.argmax(hourly))
    seen = [d for d in workdays if (d, busy) in upstream.goodput]
    share = sum((d, busy) in upstream.censored for d in seen) / len(seen) if seen else 0.0
    fit = UpstreamFit(
        per_kind,
        shape.scales,
        [site.id for site in unmeasured],
        upstream_ceiling(calibrated) / MBIT,
        workday_mean(upstream, workdays),
        hourly,
        sorted({h for d, h in upstream.censored if d in set(workdays)}),
        share,
        busy,
        float(hourly[busy]),
        (min(low * 8.0 / MBIT, float(hourly[busy])), max(high * 8.0 / MBIT, float(hourly[busy]))),
        aggregate.INTERVAL_METHOD,
        [],
        shape.background * 8.0 / MBIT,
    )
    _peaks(fit, upstream)
    fit.identifiability.extend(identifiability(fit, len(measured), upstream))
    return _written(calibrated, fit, shape), fit


def _peaks(fit: UpstreamFit, upstream: Hours) -> None:
    """The days whose 5-minute peak sat at the ceiling, and their peak demand."""
    fit.peak_days = sum(1 for peak in upstream.peaks.values() if peak > 0)
    estimate = censored_peaks(upstream.peaks, fit.ceiling_mbps * MBIT)
    if estimate is None:
        return
    fit.peak_censored_days = [day.isoformat() for day in estimate.censored]
    fit.peak_mbps = estimate.estimate_bps / MBIT
    fit.peak_interval_mbps = [value / MBIT for value in estimate.interval_bps]
    fit.peak_method = PEAK_METHOD


def identifiability(fit: UpstreamFit, measured: int, upstream: Hours) -> list[str]:
    """What the upstream's counters can and cannot tell, in plain words."""
    kinds = ", ".join(f"{k} x{s:.2f}" for k, s in fit.scales.items())
    out = [
        f"{len(fit.sites)} sites are fitted from the upstream's total"
        + (f" less the {measured} measured sites" if measured else "")
        + ": how that total splits among them is not in the data; each keeps its assumed share "
        "(its users and its kind's session rate), scaled with its kind",
        (
            f"site kinds fitted apart ({kinds}): their shapes of the day tell them apart"
            if fit.per_kind
            else f"one scale for every kind ({kinds}): the kinds' shapes of the day do not tell "
            "them apart in these data"
        ),
        "the mix of applications stays assumed: an aggregate's download/upload ratio is the only "
        "figure that speaks to it, and only to the upload-only applications' weight",
        f"the hub's own traffic and unmapped ports are in the upstream: {fit.background_mbps:.1f}"
        " Mbit/s of it, taken as constant day and night, is left out of the sites' demand; any "
        "part that follows the clock is counted as theirs (the model does not simulate it)",
    ]
    if fit.censored:
        out.append(
            f"the upstream sat at or near its {fit.ceiling_mbps:.0f} Mbit/s ceiling in "
            f"{fit.censored_busy_share:.0%} of the working days' busy hour: the demand there is "
            "estimated from the unsaturated hours and the fitted shape, not measured"
        )
    if fit.peak_censored_days and fit.peak_mbps is not None:
        out.append(
            f"on {len(fit.peak_censored_days)} of {fit.peak_days} days a 5-minute peak sat at "
            f"the ceiling: the peak demand then is estimated at {fit.peak_mbps:.1f} Mbit/s on "
            "the wire from the other days' peaks, not measured"
        )
    if any(s >= aggregate.SCALE_BOUNDS[1] for s in fit.scales.values()):
        out.append("the measured load is more than the assumed users can offer: raise `users`")
    if upstream.long_intervals:
        out.append(
            f"{upstream.long_intervals} intervals longer than an hour (consolidated rows) "
            "were left out of the hourly fit"
        )
    return out


def _written(calibrated: Scenario, fit: UpstreamFit, shape: aggregate.Shape) -> Scenario:
    """The scenario with the fitted sites' entries, the busy hour and its interval."""
    data = calibrated.spec.model_dump()
    for site_id in fit.sites:
        name = calibrated.topology.site(site_id).kind
        kind = calibrated.spec.demand.kinds[name]
        entry: dict[str, Any] = {
            "scale": round(shape.scales[name], 6),
            "weekday": [round(w * f, 6) for w, f in zip(kind.weekday, shape.weekday, strict=True)],
            "provenance": {
                "scale": "fitted-total",
                "weekday": "estimated" if fit.censored else "fitted-total",
                "weekend": "assumed" if shape.weekend is None else "fitted-total",
                "split": "assumed",
                "users": "assumed",
                "mix": "assumed",
            },
        }
        if shape.weekend is not None:
            entry["weekend"] = [
                round(w * f, 6) for w, f in zip(kind.weekend, shape.weekend, strict=True)
            ]
        data["calibration"]["sites"][site_id] = entry
    spec = data["calibration"]
    if round(fit.interval_mbps[0], 3) > 0:  # an upstream that carried nothing has no interval
        spec["busy_hour_mbps"] = round(fit.busy_hour_mbps, 3)
        spec["interval_mbps"] = [round(value, 3) for value in fit.interval_mbps]
    spec["identifiability"] = fit.identifiability
    spec["provenance"] = {
        **spec["provenance"],
        "split_among_sites": "assumed",
        "busy_hour": "estimated" if fit.censored else "fitted-total",
    }
    return calibrated.edited(data)


def with_interval_growth(scenario: Scenario) -> tuple[Scenario, tuple[float, float] | None]:
    """The scenario with the optimiser's growth searches also at the ends of its calibration's
    interval, as factors on the fitted demand (None: the scenario carries no interval)."""
    spec = scenario.spec.calibration
    if spec.interval_mbps is None or not spec.busy_hour_mbps:
        return scenario, None
    low, high = (round(value / spec.busy_hour_mbps, 3) for value in spec.interval_mbps)
    data = scenario.spec.model_dump()
    data["optimize"]["growth"] = sorted({*data["optimize"]["growth"], low, 1.0, high})
    return scenario.edited(data), (low, high)


def interval_line(answer: Recommendation, interval: tuple[float, float], scenario: Scenario) -> str:
    """The purchase at the fitted demand and at the ends of the calibration's interval, all
    three from the growth searches (same seeds, so comparable; the recommendation itself is
    confirmed on more seeds)."""
    ends = [answer.growth.get(str(factor)) for factor in (interval[0], 1.0, interval[1])]
    found = [f"{end.mbps:g}" if end and end.mbps else "none on the grid" for end in ends]
    low, high = scenario.spec.calibration.interval_mbps or [math.nan, math.nan]
    return (
        f"{found[1]} Mbit/s at the fitted demand; {found[0]}-{found[2]} across the "
        f"calibration's 90 % interval (busy hour {low:.1f}-{high:.1f} Mbit/s; growth searches "
        f"x{interval[0]:g}, x1, x{interval[1]:g} on {scenario.spec.optimize.growth_seeds} seeds; "
        f"recommended after confirmation: {answer.mbps:g})"
    )
