"""Synthetic interface counters from a known scenario: the example and the round-trip test.

No regency's counters are public, so netlab makes some: the known scenario's expected load per
clock hour (`sim.demand.expected`), on the wire (L2), with multiplicative noise on every
5-minute interval, capped at each site's shaper ceiling (a shaped site sits flat at it), summed
into cumulative counters that wrap at 32 bits on the sites' ports and 64 on the upstream, with
the flaws real logs have: a counter reset, a gap, a duplicated row and rows out of order; the
upstream, if asked, flat at a ceiling below the demand (a saturated purchase).
These counters test the import and the fit; they say nothing about the regency's real traffic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.demand.expected import hourly_load
from sim.model.scenario import Scenario
from sim.studies.calibrate import ceilings

WRAP32 = 2**32
WRAP64 = 2**64


@dataclass(frozen=True)
class Synthetic:
    """How to make the counters: days, interval, noise and the upstream's own traffic."""

    days: list[dt.date]
    step: int = 300
    noise: float = 0.10  # lognormal shape of each interval's rate, mean kept
    hub_own_mbps: float = 2.0  # traffic of the hub itself, on the upstream only
    seed: int = 1
    flaws: bool = True
    upstream_cap_mbps: float | None = None  # the upstream's download flat at this (L2) rate


def _rates(known: Scenario, spec: Synthetic, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per site, L2 bytes/s per interval, down and up: shape (intervals, 2)."""
    per_hour = 3600 // spec.step
    overhead = known.spec.network.overhead
    ceil = ceilings(known)
    out = {}
    for site in known.sites:
        hourly = hourly_load(known, site, spec.days).reshape(-1, 2) / 3600.0 * overhead
        rates = np.repeat(hourly, per_hour, axis=0)
        noise = rng.lognormal(-(spec.noise**2) / 2, spec.noise, size=rates.shape)
        rates = rates * noise
        rates[:, 0] = np.minimum(rates[:, 0], ceil[site.id] / 8.0)
        out[site.id] = rates
    return out


def counter_csv(known: Scenario, spec: Synthetic, interfaces: dict[str, str]) -> str:
    """The generic counter CSV (`timestamp,interface,rx_bytes,tx_bytes`, local WIB clock).

    `interfaces` maps site ids (and the hub's id, for the upstream) to interface names.
    """
    rng = np.random.default_rng(spec.seed)
    rates = _rates(known, spec, rng)
    hub = known.topology.hub.id
    total = sum(rates.values())
    own = spec.hub_own_mbps * 1e6 / 8.0
    rates[hub] = total + np.array([own, own / 4])
    if spec.upstream_cap_mbps is not None:  # a saturated upstream: what passed, not the demand
        rates[hub][:, 0] = np.minimum(rates[hub][:, 0], spec.upstream_cap_mbps * 1e6 / 8.0)
    start = dt.datetime.combine(spec.days[0], dt.time())
    rows: list[tuple[dt.datetime, str, int, int]] = []
    for site_id, site_rates in rates.items():
        if site_id not in interfaces:
            continue
        wrap = WRAP64 if site_id == hub else WRAP32
        cumulative = np.vstack([np.zeros(2), np.cumsum(site_rates * spec.step, axis=0)])
        offset = rng.integers(0, WRAP32, size=2)
        for i, (down, up) in enumerate(cumulative):
            when = start + dt.timedelta(seconds=i * spec.step)
            tx, rx = (int(down) + int(offset[0])) % wrap, (int(up) + int(offset[1])) % wrap
            if site_id == hub:  # on the upstream, the download is received
                rx, tx = tx, rx
            rows.append((when, interfaces[site_id], rx, tx))
    if spec.flaws:
        rows = _flaws(rows, interfaces, known, spec.step)
    lines = ["timestamp,interface,rx_bytes,tx_bytes"]
    lines += [f"{w:%Y-%m-%d %H:%M:%S},{name},{rx},{tx}" for w, name, rx, tx in rows]
    return "\n".join(lines) + "\n"


def _flaws(
    rows: list[tuple[dt.datetime, str, int, int]],
    interfaces: dict[str, str],
    known: Scenario,
    step: int,
) -> list[tuple[dt.datetime, str, int, int]]:
    """A reset, a 40-minute gap, a duplicate and rows out of order, on the first sites."""
    sites = [interfaces[s.id] for s in known.sites if s.id in interfaces]
    reset, gap, twice = sites[0], sites[1 % len(sites)], sites[2 % len(sites)]
    first = rows[0][0]
    reset_at = first + dt.timedelta(days=1, hours=10)
    gap_from = first + dt.timedelta(days=2, hours=9)
    out, base = [], None
    for when, name, rx, tx in rows:
        if name == reset and when >= reset_at:  # the router rebooted: counters start again
            base = base or (rx, tx)
            rx, tx = (rx - base[0]) % WRAP32, (tx - base[1]) % WRAP32
        if name == gap and gap_from < when < gap_from + dt.timedelta(minutes=40):
            continue
        out.append((when, name, rx, tx))
        if name == twice and when == first + dt.timedelta(hours=12):
            out.append((when, name, rx, tx))
    i = next(k for k, row in enumerate(out) if row[0] == first + dt.timedelta(days=1))
    out[i], out[i + 1] = out[i + 1], out[i]  # the logger wrote two rows the wrong way round
    return out
