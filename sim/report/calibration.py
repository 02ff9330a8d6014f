"""The calibration's goodness-of-fit page: measured against fitted, per site and per hour.

It opens offline, with the plotly.min.js beside it (sim/report/page.py). It shows
the error figures per site, which sites were censored at a shaper's ceiling and which hours
were estimated, the sites fitted to the upstream's total with the busy hour estimated above a
saturated upstream and its interval, what those counters cannot tell, and what the fit leaves
unexplained: burstiness inside the hour (the measured 95th percentile over the model's) and
the upstream's traffic that no site's counters carry.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from sim.analysis.calibration import Calibration, SiteFit, UpstreamFit
from sim.report.page import div, nav, write_page

HOURS = list(range(24))


def _error(measured: float, fitted: float) -> str:
    if math.isnan(measured) or measured == 0:
        return "n/a"
    return f"{100.0 * (fitted - measured) / measured:+.1f} %"


def _table(result: Calibration) -> str:
    head = (
        "<tr><th>site</th><th>kind</th><th>scale</th><th>busy hour, Mbit/s<br>measured / fitted"
        "</th><th>error</th><th>daily GB<br>measured / fitted</th><th>error</th>"
        "<th>p95 5-min, Mbit/s<br>measured / model</th><th>RMS error, every day and hour</th>"
        "<th>censored samples</th><th>estimated hours</th></tr>"
    )
    rows = [head]
    for fit in result.sites:
        m, f = fit.measured, fit.fitted
        rows.append(
            f"<tr><td>{escape(fit.site.id)}</td><td>{fit.site.kind}</td><td>{fit.scale:.2f}</td>"
            f"<td>{m.busy_hour_mbps:.2f} / {f.busy_hour_mbps:.2f}</td>"
            f"<td>{_error(m.busy_hour_mbps, f.busy_hour_mbps)}</td>"
            f"<td>{m.daily_gb:.2f} / {f.daily_gb:.2f}</td><td>{_error(m.daily_gb, f.daily_gb)}</td>"
            f"<td>{m.p95_mbps:.2f} / {f.p95_mbps:.2f}</td>"
            f"<td>{fit.residual_mbps:.2f} Mbit/s ({_share(fit):.1f} %)</td>"
            f"<td>{fit.censored_samples} of {fit.samples}</td>"
            f"<td>{fit.hours.count('estimated')}</td></tr>"
        )
    return "<table>" + "\n".join(rows) + "</table>"


def _share(fit: SiteFit) -> float:
    """The RMS error as a share of the site's busy hour, %."""
    busy = fit.measured.busy_hour_mbps
    return 100.0 * fit.residual_mbps / busy if busy else math.nan


def _site_figure(result: Calibration) -> go.Figure:
    """Measured and fitted working-day hours of one site at a time (a menu picks it)."""
    fig = go.Figure()
    buttons = []
    for i, fit in enumerate(result.sites):
        visible = i == 0
        fig.add_scatter(
            x=HOURS, y=fit.measured_hourly, name="measured", mode="markers", visible=visible
        )
        fig.add_scatter(
            x=HOURS, y=fit.fitted_hourly, name="fitted", line={"dash": "dot"}, visible=visible
        )
        censored = [h for h in HOURS if fit.hours[h] == "estimated"]
        _estimated(
            fig, censored, fit.fitted_hourly, "estimated (censored or unmeasured)", 10, visible
        )
        mask = [False] * (3 * len(result.sites))
        mask[3 * i : 3 * i + 3] = [True, True, True]
        buttons.append({"label": fit.site.id, "method": "update", "args": [{"visible": mask}]})
    fig.update_layout(
        updatemenus=[{"buttons": buttons, "x": 1.0, "y": 1.18, "xanchor": "right"}],
        xaxis_title=f"hour of the working day ({escape(result.zone)} clock)",
        yaxis_title="offered load, Mbit/s (goodput)",
        height=420,
        margin={"t": 60},
    )
    return fig


def _error_heatmap(result: Calibration) -> go.Figure:
    """Fitted minus measured, per site and hour, relative to the site's busiest hour."""
    z = [
        (f.fitted_hourly - f.measured_hourly) / max(f.measured.busy_hour_mbps, 1e-9) * 100.0
        for f in result.sites
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=HOURS,
            y=[f.site.id for f in result.sites],
            zmid=0,
            colorscale="RdBu",
            colorbar={"title": "% of busy hour"},
        )
    )
    fig.update_layout(height=max(320, 18 * len(result.sites)), xaxis_title="hour", margin={"t": 20})
    return fig


def _upstream(result: Calibration) -> list[str]:
    if result.upstream is not None:
        return ["<p>Fitted with the sites without counters of their own: see above.</p>"]
    if result.upstream_hourly is None or result.sites_hourly is None:
        return ["<p>No upstream counters were imported.</p>"]
    fig = go.Figure()
    fig.add_scatter(x=HOURS, y=result.upstream_hourly, name="upstream, measured")
    if result.sites:
        fig.add_scatter(x=HOURS, y=result.sites_hourly, name="sum of the sites, measured")
    fig.update_layout(height=360, xaxis_title="hour", yaxis_title="Mbit/s", margin={"t": 20})
    rest = np.nanmean(result.upstream_hourly - result.sites_hourly)
    return [
        div(fig),
        f"<p>The upstream carries {rest:.2f} Mbit/s on average that no site's counters show "
        "(the hub's own traffic, unmapped ports): the model does not simulate it.</p>",
    ]


def _aggregate(result: Calibration) -> list[str]:
    """The sites fitted to the upstream: measured, fitted and estimated above the ceiling."""
    fit = result.upstream
    if fit is None:
        return []
    fig = go.Figure()
    fig.add_scatter(x=HOURS, y=fit.measured_hourly, name="upstream, measured", mode="markers")
    fig.add_scatter(x=HOURS, y=fit.fitted_hourly, name="fitted (every site)", line={"dash": "dot"})
    if fit.censored:
        hours = fit.censored_hours
        _estimated(
            fig, hours, fit.fitted_hourly, "estimated above the ceiling (censored hours)", 11
        )
        fig.add_hline(
            y=fit.ceiling_mbps,
            line={"dash": "dash", "color": "grey"},
            annotation_text=f"ceiling {fit.ceiling_mbps:.0f} Mbit/s (on the wire)",
        )
    fig.update_layout(
        height=380,
        xaxis_title=f"hour of the working day ({escape(result.zone)} clock)",
        yaxis_title="offered download, Mbit/s (goodput)",
        margin={"t": 20},
    )
    low, high = fit.interval_mbps
    kinds = ", ".join(f"{escape(k)} x{v:.2f}" for k, v in fit.scales.items())
    how = "one scale per site kind" if fit.per_kind else "one scale for every kind"
    return [
        "<h2>The sites fitted to the upstream</h2>",
        f"<p>{len(fit.sites)} sites have no counters of their own: they are fitted to the "
        f"upstream less the measured sites, {how} ({kinds}) on their assumed session rates, then "
        "a factor per clock hour.</p>",
        f'<p class="meta"><span>busy hour {fit.busy_hour:02d}:00: {fit.busy_hour_mbps:.1f} '
        f"Mbit/s offered</span><span>90 % interval {low:.1f}-{high:.1f} Mbit/s</span>"
        f"<span>censored: {fit.censored_busy_share:.0%} of the working days' busy hour"
        "</span></p>",
        div(fig),
        f"<p>Interval: {escape(fit.interval_method)}. It carries the day-to-day variation of "
        "the measurements, not the error of the kinds' assumed shape of the day.</p>",
        *_peak(fit),
        "<h3>What these counters can and cannot tell</h3>",
        "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in fit.identifiability) + "</ul>",
    ]


def _peak(fit: UpstreamFit) -> list[str]:
    if fit.peak_mbps is None or fit.peak_interval_mbps is None:
        return []
    low, high = fit.peak_interval_mbps
    return [
        f'<p class="meta"><span>5-minute peak at the ceiling on '
        f"{len(fit.peak_censored_days)} of {fit.peak_days} days "
        f"({escape(', '.join(fit.peak_censored_days[:5]))})</span><span>peak demand then, "
        f"estimated: {fit.peak_mbps:.1f} Mbit/s on the wire, 90 % interval {low:.1f}-{high:.1f}"
        "</span></p>",
        f"<p>Peak estimate: {escape(fit.peak_method)}.</p>",
    ]


def _unexplained(result: Calibration) -> str:
    items = []
    for fit in result.sites:
        ratio = fit.measured.p95_mbps / fit.fitted.p95_mbps if fit.fitted.p95_mbps else math.nan
        if ratio > 1.1:
            items.append(
                f"{fit.site.id}: 5-minute peaks {ratio:.2f}x the model's hourly means "
                "(burstiness inside the hour)"
            )
        if fit.censored:
            hours = fit.hours.count("estimated")
            items.append(
                f"{fit.site.id}: at its shaper's ceiling in {fit.censored_samples} samples; "
                f"{hours} hours estimated from its kind's shape"
            )
    items += result.notes
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>" if items else ""


def _estimated(
    fig: go.Figure,
    hours: list[int],
    fitted: np.ndarray,
    name: str,
    size: int,
    visible: bool = True,
) -> None:
    """Crosses on the fitted curve at the hours whose demand is estimated, not measured."""
    marker = {"symbol": "x", "size": size}
    fig.add_scatter(
        x=hours, y=fitted[hours], mode="markers", marker=marker, name=name, visible=visible
    )


def write_calibration_report(path: Path, result: Calibration, scenario: str) -> None:
    """Write the goodness-of-fit page for a calibration of `scenario`."""
    censored = [f.site.id for f in result.sites if f.censored]
    if result.upstream is not None and result.upstream.censored:
        censored.append("the upstream")
    body = [
        nav(path.parent, path.name),
        f"<h1>Calibration of {escape(scenario)}</h1>",
        f'<p class="meta"><span>{len(result.days)} days measured, '
        f"{len(result.workdays)} working days</span><span>{len(result.sites)} sites fitted "
        "to their own counters</span>"
        f"<span>censored: {escape(', '.join(censored) or 'none')}</span>"
        f"<span>local clock: {escape(result.zone)}</span></p>",
        *_aggregate(result),
        "<h2>What the fit does not explain</h2>",
        _unexplained(result),
        *_per_site(result),
        "<h2>The upstream</h2>",
        *_upstream(result),
    ]
    if result.sites:
        body += _error_table(result)
    write_page(path, f"calibration {scenario}", body)


def _per_site(result: Calibration) -> list[str]:
    if not result.sites:
        return ["<h2>Measured sites</h2>", "<p>No site was measured on its own port.</p>"]
    return [
        "<h2>Measured and fitted, per hour</h2>",
        "<p>Mean of the working days, offered load in goodput (the counters' L2 bytes divided "
        "by the frame overhead). Pick a site in the menu.</p>",
        div(_site_figure(result)),
        "<h2>Fitted minus measured, per site and hour</h2>",
        div(_error_heatmap(result)),
    ]


def _error_table(result: Calibration) -> list[str]:
    return [
        "<h2>Error per site</h2>",
        "<p>Working days. The busy hour is the hour of the day with the highest mean; the fit "
        "sets each hour's session rate from the mean of the days measured, so these means match "
        "by construction where no hour was censored. What the model misses shows in the last "
        "columns: the RMS error over every day and hour measured (Fridays, weekends and "
        "holidays included, which the calendar predicts) and the 5-minute 95th percentile "
        "against the model's, which has no burstiness inside the hour.</p>",
        _table(result),
    ]
