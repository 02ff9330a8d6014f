"""A run's flows as parallel numpy arrays, and the small figures every module takes over them
(slowdowns, shares, percentiles), so metrics, latency, objectives and acceptance read them
one way (sim/analysis/metrics.py's docstring has the conventions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.model.flow import Flow
from sim.run import RunRecord

STATUS_CODES = {"active": 0, "done": 1, "abandoned": 2, "cut": 3}
DONE, ABANDONED, CUT = STATUS_CODES["done"], STATUS_CODES["abandoned"], STATUS_CODES["cut"]


@dataclass(frozen=True)
class FlowArrays:
    """A run's flows as parallel numpy arrays, one entry a flow, with what metrics derive."""

    apps: list[str]  # application names, in order of first appearance
    site: np.ndarray  # index into the record's site_ids
    app: np.ndarray  # index into `apps`
    status: np.ndarray  # codes of STATUS_CODES
    start: np.ndarray  # seconds since scenario start
    end: np.ndarray
    size: np.ndarray  # goodput bytes
    delivered: np.ndarray
    rate: np.ndarray  # paced: needed goodput bits/s; 0 for elastic
    time_at_rate: np.ndarray  # paced: seconds at the needed rate
    down: np.ndarray  # True for downloads

    @classmethod
    def from_flows(cls, flows: list[Flow], site_ids: list[str]) -> FlowArrays:
        n = len(flows)
        column = {site: i for i, site in enumerate(site_ids)}
        apps: dict[str, int] = {}
        numbers = np.array(
            [(f.start, f.end, f.size, f.delivered, f.rate, f.time_at_rate) for f in flows],
            dtype=float,
        ).reshape(n, 6)
        app = np.fromiter((apps.setdefault(f.app, len(apps)) for f in flows), np.intp, n)
        return cls(
            apps=list(apps),
            site=np.fromiter((column[f.site] for f in flows), np.intp, n),
            app=app,
            status=np.fromiter((STATUS_CODES[f.status] for f in flows), np.int8, n),
            start=numbers[:, 0],
            end=numbers[:, 1],
            size=numbers[:, 2],
            delivered=numbers[:, 3],
            rate=numbers[:, 4],
            time_at_rate=numbers[:, 5],
            down=np.fromiter((f.direction == "down" for f in flows), bool, n),
        )

    @property
    def paced(self) -> np.ndarray:
        return self.rate > 0

    @property
    def finished_elastic(self) -> np.ndarray:
        return ~self.paced & (self.status == DONE)

    @property
    def ran_s(self) -> np.ndarray:
        """Seconds each flow was active (up to the end of the run for cut flows)."""
        return self.end - self.start

    @property
    def offered(self) -> np.ndarray:
        """Goodput bytes each flow asked for within the run (see sim/analysis/metrics.py)."""
        cut_paced = self.paced & (self.status == CUT)
        return np.where(cut_paced, self.rate * self.ran_s / 8.0, self.size)


def bottleneck_bps(record: RunRecord) -> np.ndarray:
    """Per site (in record.site_ids order): the slower of its access link and the purchase."""
    scenario = record.scenario
    access = {site.id: site.access_bps for site in scenario.sites}
    return np.array([min(access[s], scenario.upstream_bps) for s in record.site_ids])


def slowdown(
    fct: np.ndarray, size: np.ndarray, bottleneck: np.ndarray, overhead: float
) -> np.ndarray:
    """Completion time over the time alone at the bottleneck; never below 1 (below is noise)."""
    ideal = size * overhead * 8.0 / bottleneck
    return np.maximum(np.divide(fct, ideal, out=np.ones_like(fct), where=ideal > 0), 1.0)


def completion(
    ran_s: np.ndarray,
    size: np.ndarray,
    finished: np.ndarray,
    bottleneck: np.ndarray,
    overhead: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per flow: completion time (s) and slowdown where `finished` (a finished elastic flow),
    NaN elsewhere. The one definition: a run's flows file is written and read back with it."""
    ratios = slowdown(ran_s, size, bottleneck, overhead)
    return np.where(finished, ran_s, np.nan), np.where(finished, ratios, np.nan)


def at_rate_share(flows: FlowArrays, where: np.ndarray) -> float | None:
    """Time-weighted share of paced-flow time spent at the needed rate."""
    chosen = where & flows.paced
    return ratio(float(flows.time_at_rate[chosen].sum()), float(flows.ran_s[chosen].sum()))


def nearest_rank_p95(samples: np.ndarray, axis: int | None = None) -> np.ndarray:
    return np.percentile(samples, 95, axis=axis, method="inverted_cdf")


def percentiles(values: np.ndarray, qs: tuple[int, ...]) -> list[float | None]:
    if values.size == 0:
        return [None] * len(qs)
    return [float(v) for v in np.percentile(values, qs)]


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    if denominator <= 0 or not math.isfinite(denominator):
        return None
    return float(numerator) / float(denominator)
