"""Calibration: fit each site's demand to its measured counters, censored at shaper ceilings.

Per site, the measured download per clock hour (L2 bytes turned into goodput) is inverted
through the demand model's expected load (`sim.demand.expected`) into the session rate that
would offer it, day by day, divided by the calendar's factor for that hour (Friday prayer,
Ramadan), and averaged per hour over the working days (and over weekends and holidays, if
measured). An hour in which the site's rate sat at its shaper's ceiling is censored: the
demand behind it is unknown, so that hour is estimated from the site's unsaturated hours
(scale) and its kind's hourly shape, and marked "estimated". Hours without measurements are
estimated the same way. Before the rates, the mix weight of the upload-only applications is
fitted to the measured ratio of upload to download bytes. Sizes of transfers, the rest of the
mix and the number of users stay assumed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from sim.analysis.calibration import Calibration, Figures, SiteFit
from sim.demand.calendar import OFFICE_KINDS, Calendar, covered, national
from sim.demand.expected import hourly_load, session_load, sessions_for
from sim.measure.sites import SiteInterval
from sim.model.demand import KindProfile
from sim.model.errors import ConfigError
from sim.model.scenario import Scenario
from sim.model.topology import Site
from sim.shaping.schedule import compile_schedule
from sim.studies.aggregate import NEAR_CEILING
from sim.studies.hours import MBIT, Hours, bin_hours, workday_mean
from sim.studies.upstream import fit_upstream, upstream_ceiling

# The upload-only applications' share of upload bytes below which their mix weight is not
# fitted (the up/down ratio would hardly move with it).
UPLOAD_IDENTIFIABLE = 0.1


def ceilings(scenario: Scenario) -> dict[str, float]:
    """The lowest ceiling (L2 bits/s) any plan of the scenario puts on each site's download."""
    out: dict[str, float] = {site.id: site.access_bps for site in scenario.sites}
    for plan in compile_schedule(scenario).plans:
        tree = plan.down
        for leaf in tree.leaves:
            assert leaf.site is not None
            ceil, node = leaf.ceil, leaf
            while node.parent is not None:
                node = tree.by_id(node.parent)
                ceil = min(ceil, node.ceil)
            out[leaf.site] = min(out.get(leaf.site, math.inf), ceil)
    return out


def _observed_rates(
    scenario: Scenario,
    site: Site,
    hours: Hours,
    calendar: Calendar,
    weekday: bool,
    profile: KindProfile,
) -> dict[int, list[float]]:
    """Per hour, the base session rate (per user-hour, before calendar factors) each
    uncensored measured day implies, sessions drawn from `profile`'s mix."""
    session = session_load(scenario.spec.demand, profile, site.access_bps)
    growth = scenario.spec.demand.growth
    out: dict[int, list[float]] = defaultdict(list)
    for (date, hour), rate in hours.goodput.items():
        if (date, hour) in hours.censored or calendar.uses_weekday_profile(date) != weekday:
            continue
        factor = calendar.factors(date, site.kind)[hour]
        implied = sessions_for(np.array(rate * 3600.0), site, session)
        out[hour].append(float(implied) / growth / factor)
    return out


def _kind_profile(scenario: Scenario, site: Site) -> KindProfile:
    return scenario.spec.demand.kinds[site.kind]


def upload_scale(scenario: Scenario, site: Site, up_down: list[float]) -> float | None:
    """The factor on the mix weight of the kind's upload-only applications that gives the
    measured ratio of upload to download bytes.

    Unnormalised, those applications add upload only, so the ratio is linear in the factor u:
    R(u) = R(0) + u (R(1) - R(0)). None (the mix stays assumed) when there are no such
    applications or no data, or when they carry under UPLOAD_IDENTIFIABLE of the upload bytes:
    then noise in the ratio, not the applications, would set the factor.
    """
    profile = _kind_profile(scenario, site)
    apps = scenario.spec.demand.apps
    uploads = [n for n in profile.mix if set(apps[n].directions) == {"up"}]
    if not uploads or up_down[1] <= 0 or len(uploads) == len(profile.mix):
        return None
    ratios = []
    for u in (0.0, 1.0):
        mixed = _with_mix(profile, dict.fromkeys(uploads, u))
        load = session_load(scenario.spec.demand, mixed, site.access_bps)
        ratios.append(load.up / load.down)
    if ratios[1] - ratios[0] < UPLOAD_IDENTIFIABLE * ratios[1]:
        return None
    measured = up_down[0] / up_down[1]
    return float(np.clip((measured - ratios[0]) / (ratios[1] - ratios[0]), 0.05, 20.0))


def _with_mix(profile: KindProfile, factors: dict[str, float]) -> KindProfile:
    mix = {n: w * factors.get(n, 1.0) for n, w in profile.mix.items()}
    return profile.model_copy(update={"mix": mix})


def _fit_shape(
    observed: dict[int, list[float]], base: list[float]
) -> tuple[float, list[float], list[str]]:
    """Scale against the kind's weights (`base`, session rates per user-hour) over the hours
    measured, and the hourly weights: fitted where measured, else the kind's, scaled."""
    measured = sorted(h for h in observed if observed[h])
    fitted = {h: float(np.mean(observed[h])) for h in measured}
    assumed = sum(base[h] for h in measured)
    scale = sum(fitted.values()) / assumed if assumed > 0 else 1.0
    scale = scale if scale > 0 else 1.0
    rates = [fitted.get(h, base[h] * scale) for h in range(24)]
    hours = ["fitted" if h in fitted else "estimated" for h in range(24)]
    return scale, rates, hours


def _measured_figures(hours: Hours, workdays: list[dt.date]) -> Figures:
    hourly = workday_mean(hours, workdays)
    chosen = set(workdays)
    rates = [r * 8.0 / MBIT for d, r in hours.rates if d in chosen]
    whole = [d for d in workdays if all((d, h) in hours.goodput for h in range(24))]
    daily = [sum(hours.goodput[(d, h)] * 3600.0 for h in range(24)) / 1e9 for d in whole]
    return Figures(
        float(np.nanmax(hourly)) if np.any(~np.isnan(hourly)) else math.nan,
        float(np.percentile(rates, 95)) if rates else math.nan,
        float(np.mean(daily)) if daily else math.nan,
    )


def model_figures(
    scenario: Scenario, site: Site, workdays: list[dt.date]
) -> tuple[Figures, np.ndarray]:
    """The model's figures for a site over `workdays` and its mean hourly Mbit/s."""
    load = hourly_load(scenario, site, workdays)[:, :, 0] * 8.0 / 3600.0 / MBIT  # Mbit/s
    hourly = load.mean(axis=0)
    figures = Figures(
        float(hourly.max()),
        float(np.percentile(np.repeat(load, 12), 95)),
        float(load.sum(axis=1).mean() * 3600.0 / 8.0 * MBIT / 1e9),
    )
    return figures, hourly


@dataclass(frozen=True)
class _Fit:
    scale: float
    weekday: list[float]
    weekend: list[float] | None  # None: the kind's
    hours: list[str]  # per weekday hour: "fitted" or "estimated"
    mix: dict[str, float]  # factors on the kind's mix weights ({}: the kind's mix)


def _fit_site(scenario: Scenario, site: Site, hours: Hours, calendar: Calendar) -> _Fit:
    """The upload share first (it changes what a session offers), then the session rates.

    The scale comes from the working days; from weekends and holidays when none was measured.
    """
    kind = _kind_profile(scenario, site)
    factor = upload_scale(scenario, site, hours.up_down)
    apps = scenario.spec.demand.apps
    mix = (
        {}
        if factor is None
        else {n: round(factor, 6) for n in kind.mix if set(apps[n].directions) == {"up"}}
    )
    profile = _with_mix(kind, mix)
    base_day = [w * kind.sessions_per_user_hour for w in kind.weekday]
    base_end = [w * kind.sessions_per_user_hour for w in kind.weekend]
    working = _observed_rates(scenario, site, hours, calendar, True, profile)
    weekend_seen = _observed_rates(scenario, site, hours, calendar, False, profile)
    if not any(working.values()) and any(weekend_seen.values()):
        scale = _fit_shape(weekend_seen, base_end)[0]
        rates, hours_source = [b * scale for b in base_day], ["estimated"] * 24
    else:
        scale, rates, hours_source = _fit_shape(working, base_day)
    weekend = None
    if any(weekend_seen.values()):
        _, end_rates, _ = _fit_shape(weekend_seen, [b * scale for b in base_end])
        weekend = [r / (kind.sessions_per_user_hour * scale) for r in end_rates]
    weekday = [r / (kind.sessions_per_user_hour * scale) for r in rates]
    return _Fit(scale, weekday, weekend, hours_source, mix)


def friday_factor(scenario: Scenario, binned: dict[str, Hours], calendar: Calendar) -> float | None:
    """Office activity during Friday prayer, fitted over every office and sub-district office:
    each prayer hour's Friday session rate against the Monday-Thursday one, weighted by rate
    (None when no Friday or no other working day was measured uncensored)."""
    start, end, _ = calendar.friday
    estimates, weights = [], []
    for site in scenario.sites:
        if site.kind not in OFFICE_KINDS or site.id not in binned:
            continue
        hours = binned[site.id]
        session = session_load(scenario.spec.demand, _kind_profile(scenario, site), site.access_bps)
        for hour in range(24):
            share = covered(hour, start, end)
            days: dict[str, list[float]] = {"friday": [], "workday": []}
            for (date, h), rate in hours.goodput.items():
                kind = calendar.day_type(date)
                if h == hour and kind in days and (date, h) not in hours.censored:
                    # compare session rates, not loads: a user in a session starts no other
                    days[kind].append(float(sessions_for(np.array(rate * 3600.0), site, session)))
            if share <= 0 or not days["friday"] or not days["workday"]:
                continue
            usual = float(np.mean(days["workday"]))
            ratio = float(np.mean(days["friday"])) / usual if usual > 0 else 1.0
            estimates.append(1.0 - (1.0 - ratio) / share)
            weights.append(share * usual)
    if not estimates or sum(weights) <= 0:
        return None
    return float(np.clip(np.average(estimates, weights=weights), 0.01, 1.5))


def calibrate(
    scenario: Scenario, rows: list[SiteInterval], zone: dt.tzinfo, source: str = ""
) -> tuple[Scenario, Calibration]:
    """Fit every measured site of `scenario`; returns the calibrated scenario and the fit."""
    calendar = national(tuple(scenario.spec.calendar.extra_holidays))
    ceil = ceilings(scenario)
    overhead = scenario.spec.network.overhead
    by_site: dict[str, list[SiteInterval]] = defaultdict(list)
    for row in rows:
        by_site[row.site].append(row)
    hourly = [r for r in rows if r.seconds <= 3600.0] or rows  # consolidated rows: not hours
    days = sorted({dt.datetime.fromtimestamp(r.start, zone).date() for r in hourly})
    # the figures are working days'; data of weekends and holidays alone stands in for them
    workdays = [d for d in days if calendar.day_type(d) in ("workday", "friday")] or days
    binned = {
        s.id: bin_hours(by_site[s.id], zone, overhead, ceil[s.id])
        for s in scenario.sites
        if by_site[s.id]
    }
    hub = scenario.topology.hub.id
    if not binned and not by_site[hub]:
        raise ConfigError(
            source or scenario.path,
            "site",
            "no served site and no upstream measured: map the counters to sites, or the "
            f'upstream to the hub ("{hub}": the hub\'s `counters` key in the topology, or '
            "--map when importing)",
        )
    friday = friday_factor(scenario, binned, calendar)
    if friday is not None:
        calendar = calendar.with_friday_factor(friday)
    fits = {
        s.id: _fit_site(scenario, s, binned[s.id], calendar)
        for s in scenario.sites
        if s.id in binned
    }
    calibrated = _calibrated_scenario(scenario, fits, source, len(days), friday)
    result = Calibration([], days, workdays, zone=str(zone))
    for site in scenario.sites:
        if site.id in fits:
            fit = _site_fit(calibrated, site, binned[site.id], fits[site.id], workdays)
            result.sites.append(fit)
        elif not by_site[hub]:
            result.notes.append(f"{site.id}: no measurements; its demand stays assumed")
    assumed_mix = [site_id for site_id, fit in fits.items() if not fit.mix]
    if assumed_mix:
        result.notes.append(
            f"{len(assumed_mix)} sites keep the assumed mix: their upload-only applications carry "
            f"under {UPLOAD_IDENTIFIABLE:.0%} of the upload bytes (or no upload was measured), "
            "too little to fit from the upload/download ratio"
        )
    known = {s.id for s in scenario.sites} | {hub}
    for site_id in sorted(set(by_site) - known):
        result.notes.append(f"{site_id}: measured, but not a served site of the scenario; left out")
    calibrated = _with_measured(calibrated, result)
    if by_site[hub]:
        upstream = bin_hours(by_site[hub], zone, overhead, upstream_ceiling(scenario), NEAR_CEILING)
        calibrated = _with_upstream(calibrated, result, upstream, binned)
    return calibrated, result


def _with_upstream(
    calibrated: Scenario, result: Calibration, upstream: Hours, binned: dict[str, Hours]
) -> Scenario:
    """The upstream's hours in the record, and the sites without counters fitted to them."""
    result.upstream_hourly = workday_mean(upstream, result.workdays)
    measured = [f.measured_hourly for f in result.sites]
    result.sites_hourly = np.nansum(measured, axis=0) if measured else np.zeros(24)
    fitted = fit_upstream(calibrated, upstream, binned, result.days, result.workdays)
    if fitted is None:
        return calibrated
    calibrated, result.upstream = fitted
    return calibrated


def _site_fit(
    calibrated: Scenario,
    site: Site,
    hours: Hours,
    fit: _Fit,
    workdays: list[dt.date],
) -> SiteFit:
    fitted, fitted_hourly = model_figures(calibrated, site, workdays)
    days = sorted({date for date, _ in hours.goodput})
    model = hourly_load(calibrated, site, days)[:, :, 0] * 8.0 / 3600.0 / MBIT
    index = {date: i for i, date in enumerate(days)}
    errors = [
        model[index[date], hour] - rate * 8.0 / MBIT
        for (date, hour), rate in hours.goodput.items()
        if (date, hour) not in hours.censored
    ]
    return SiteFit(
        site,
        fit.scale,
        fit.weekday,
        fit.weekend,
        fit.hours,
        hours.censored_samples,
        hours.samples,
        _measured_figures(hours, workdays),
        fitted,
        workday_mean(hours, workdays),
        fitted_hourly,
        float(np.sqrt(np.mean(np.square(errors)))) if errors else math.nan,
    )


def _calibrated_scenario(
    scenario: Scenario, fits: dict[str, _Fit], source: str, days: int, friday: float | None
) -> Scenario:
    sites = {}
    for site_id, fit in fits.items():
        entry = {
            "scale": round(fit.scale, 6),
            "weekday": [round(w, 6) for w in fit.weekday],
            "provenance": {
                "scale": "fitted",
                "weekday": "estimated" if "estimated" in fit.hours else "fitted",
                "weekend": "fitted" if fit.weekend else "assumed",
                "users": "assumed",
                "mix": "fitted" if fit.mix else "assumed",
            },
        }
        if fit.weekend:
            entry["weekend"] = [round(w, 6) for w in fit.weekend]
        if fit.mix:
            entry["mix"] = fit.mix
        sites[site_id] = entry
    data = scenario.spec.model_dump()
    data["calendar"] = {**data["calendar"], "use": True}
    data["calibration"] = {
        "source": source,
        "days": days,
        "sites": sites,
        "provenance": {**PROVENANCE, "friday_prayer": "assumed" if friday is None else "fitted"},
    }
    if friday is not None:
        data["calibration"]["friday_prayer_factor"] = round(friday, 4)
    return scenario.edited(data)


# Where the calibrated scenario's figures come from, beside the per-site ones.
PROVENANCE = {
    "session_rates": "fitted",
    "hourly_profiles": "fitted",
    "users": "assumed",
    "applications": "assumed",
    "mix": "assumed",
    "friday_prayer": "assumed",
    "ramadan_hours": "assumed",
    "holidays": "assumed",
}


def _with_measured(calibrated: Scenario, result: Calibration) -> Scenario:
    """Record each site's measured figures and whether it was censored in the scenario."""
    data = calibrated.spec.model_dump()
    for fit in result.sites:
        entry = data["calibration"]["sites"][fit.site.id]
        figures = {k: round(v, 4) for k, v in vars(fit.measured).items() if not math.isnan(v)}
        entry["measured"] = figures
        entry["censored"] = fit.censored
        entry["provenance"].update(dict.fromkeys(figures, "measured"))
    return calibrated.edited(data)
