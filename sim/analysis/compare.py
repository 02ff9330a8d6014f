"""Side-by-side comparison of sweep groups (usually policies) over seeds: the statistics.

`compare` takes rows of the table of runs (sim.analysis.table: a sweep's rows, or its
results.csv read back) and, per metric:
- each group's mean over its runs with a 95 % confidence interval, mean ± t(0.975, n-1)·s/√n;
- paired differences against the best group: runs pair up when they share the seed and every
  other grid value, so both saw the same demand; the mean difference gets the same t-interval,
  and it is significant when that interval excludes 0;
- a plain verdict per pair ("a beats b on busy-hour satisfaction by 0.21 ± 0.03 (95 % CI,
  10 paired seeds)", or "no significant difference").

t quantiles come from a table (scipy is not a dependency), read conservatively: beyond 30
degrees of freedom the nearest tabulated df below (40, 60, 120) is used, so a CI is never
narrower than the exact one (at most 1 % wider). The HTML rendering is sim.report.comparison.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np

from sim.analysis.table import METRIC_COLUMNS, cell_text

# t(0.975, df): two-sided 95 % quantiles of Student's t, df 1..30, then 40, 60 and 120.
_T975_TABLE = """
12.7062 4.3027 3.1824 2.7764 2.5706 2.4469 2.3646 2.3060 2.2622 2.2281
2.2010 2.1788 2.1604 2.1448 2.1314 2.1199 2.1098 2.1009 2.0930 2.0860
2.0796 2.0739 2.0687 2.0639 2.0595 2.0555 2.0518 2.0484 2.0452 2.0423
"""
T975 = {
    **dict(enumerate(map(float, _T975_TABLE.split()), start=1)),
    40: 2.0211,
    60: 2.0003,
    120: 1.9799,
}

HIGHER_IS_BETTER = {
    "satisfaction",
    "busy_hour_satisfaction",
    "jain",
    "paced_at_rate_share",
    *(c for c in METRIC_COLUMNS if c.startswith("worst_")),
}
LOWER_IS_BETTER = {"unmet_gb", "monthly_idr", "per_delivered_gb_idr", "idle_idr"}
DEFAULT_METRICS = (
    "busy_hour_satisfaction",
    "satisfaction",
    "jain",
    "paced_at_rate_share",
    "worst_office_satisfaction",
    "unmet_gb",
    "per_delivered_gb_idr",
)
LABELS = {
    "busy_hour_satisfaction": "busy-hour satisfaction",
    "jain": "Jain's fairness index",
    "paced_at_rate_share": "calls and video at their rate",
    "unmet_gb": "unmet demand (GB)",
    "util_mean": "mean utilisation",
    "util_p95": "p95 utilisation",
    "billing95_mbps": "95th-percentile billing (Mbit/s)",
    "monthly_idr": "monthly cost (Rp)",
    "per_delivered_gb_idr": "cost per delivered GB (Rp)",
    "idle_idr": "idle capacity (Rp)",
}
# Columns that are neither grid values nor the seed: left out when runs are paired.
NOT_CONTEXT = {"point", "point_hash", "status", "error", *METRIC_COLUMNS}


@dataclass(frozen=True)
class MeanCI:
    """n, mean, sample standard deviation and the 95 % CI half-width of some values (sd and
    ci None below n = 2, mean None at n = 0)."""

    n: int
    mean: float | None
    sd: float | None
    ci: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MeanCI:
        return cls(**data)


@dataclass(frozen=True)
class PairedDifference(MeanCI):
    """The mean of paired differences with its CI; significant when the CI excludes 0."""

    significant: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PairedDifference:
        return cls(**data)


@dataclass(frozen=True)
class Pairing:
    """The best group against another on one metric: the difference and its verdict."""

    difference: PairedDifference
    verdict: str

    def to_json(self) -> dict[str, Any]:
        return {**self.difference.to_json(), "verdict": self.verdict}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pairing:
        fields = {k: v for k, v in data.items() if k != "verdict"}
        return cls(PairedDifference.from_json(fields), data["verdict"])


@dataclass(frozen=True)
class MetricComparison:
    """One metric across the groups: each group's mean ± CI, the best, and pairings to it."""

    direction: str  # "higher", "lower" (is better) or "neutral"
    best: str
    groups: dict[str, MeanCI]
    paired: dict[str, Pairing]  # every other group, by name

    def to_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "best": self.best,
            "groups": {name: stats.to_json() for name, stats in self.groups.items()},
            "paired": {name: pair.to_json() for name, pair in self.paired.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MetricComparison:
        return cls(
            direction=data["direction"],
            best=data["best"],
            groups={name: MeanCI.from_json(v) for name, v in data["groups"].items()},
            paired={name: Pairing.from_json(v) for name, v in data["paired"].items()},
        )


@dataclass(frozen=True)
class Comparison:
    """What `compare` finds: the grouping, the groups, each metric's figures and the verdicts."""

    by: list[str]
    groups: list[str]
    metrics: dict[str, MetricComparison]
    verdicts: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "groups": self.groups,
            "metrics": {name: m.to_json() for name, m in self.metrics.items()},
            "verdicts": self.verdicts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Comparison:
        return cls(
            by=data["by"],
            groups=data["groups"],
            metrics={k: MetricComparison.from_json(v) for k, v in data["metrics"].items()},
            verdicts=data["verdicts"],
        )


def label(metric: str) -> str:
    """A metric's name for people: its LABELS entry, or the column name in words."""
    return LABELS.get(metric, metric.replace("_", " "))


def t_quantile(df: int) -> float:
    """t(0.975, df) from the table; between or beyond tabulated df, the next smaller one."""
    if df < 1:
        raise ValueError("the t distribution needs at least one degree of freedom")
    return T975[max(k for k in T975 if k <= df)]


def mean_ci(values: Sequence[float]) -> MeanCI:
    """n, mean, sample standard deviation and the 95 % CI half-width (None below n = 2)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return MeanCI(n=0, mean=None, sd=None, ci=None)
    if x.size == 1:
        return MeanCI(n=1, mean=float(x[0]), sd=None, ci=None)
    sd = float(np.std(x, ddof=1))
    ci = t_quantile(x.size - 1) * sd / math.sqrt(x.size)
    return MeanCI(n=int(x.size), mean=float(np.mean(x)), sd=sd, ci=ci)


_Key = TypeVar("_Key", bound=Hashable)  # what pairs the two sides' values: a seed, a run


def paired_difference(a: Mapping[_Key, float], b: Mapping[_Key, float]) -> PairedDifference:
    """Mean of a - b over the keys both have, with its 95 % CI and whether it excludes 0.

    A difference within rounding noise (1e-9 of the values) counts as exactly 0.
    """
    common = [key for key in a if key in b]
    stats = mean_ci([_difference(a[key], b[key]) for key in common])
    significant = stats.ci is not None and stats.mean is not None and abs(stats.mean) > stats.ci
    return PairedDifference(**asdict(stats), significant=significant)


def compare(
    rows: list[dict[str, Any]],
    by: str | Sequence[str] = "policy.name",
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> Comparison:
    """Groups by the `by` column(s), then per metric: means ± CI, paired differences, verdicts."""
    keys = [by] if isinstance(by, str) else list(by)
    done = [row for row in rows if row.get("status", "done") == "done"]
    context_keys = sorted({k for row in done for k in row} - NOT_CONTEXT - set(keys))
    varying = {k for k in context_keys if len({cell_text(row.get(k)) for row in done}) > 1}
    unit = "paired seeds" if varying <= {"seed"} else "paired runs"
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in done:
        groups.setdefault(group_label(row, keys), []).append(row)
    out = Comparison(by=keys, groups=list(groups), metrics={}, verdicts=[])
    for metric in metrics:
        values = {
            name: {
                tuple(cell_text(row.get(k)) for k in context_keys): float(row[metric])
                for row in members
                if row.get(metric) not in (None, "")
            }
            for name, members in groups.items()
        }
        values = {name: v for name, v in values.items() if v}
        if not values:
            continue
        stats = {name: mean_ci(list(v.values())) for name, v in values.items()}
        sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
        best = max(stats, key=lambda name: sign * (stats[name].mean or 0.0))
        paired = {}
        for name in values:
            if name == best:
                continue
            diff = paired_difference(values[best], values[name])
            paired[name] = Pairing(diff, verdict(metric, best, name, diff, unit))
            out.verdicts.append(paired[name].verdict)
        out.metrics[metric] = MetricComparison(_direction(metric), best, stats, paired)
    return out


def verdict(metric: str, best: str, other: str, diff: PairedDifference, unit: str) -> str:
    """One sentence on best - other for a metric (diff from paired_difference)."""
    name = label(metric)
    n, mean, ci = diff.n, diff.mean, diff.ci
    if ci is None or mean is None:
        return f"{best} vs {other} on {name}: too few {unit} to tell ({n})"
    if mean == 0.0 and ci == 0.0:
        return f"{best} and {other} give the same {name} on all {n} {unit}"
    amount, spread = ci_text(mean, ci)
    if not diff.significant:
        return (
            f"{best} vs {other}: no significant difference on {name} "
            f"({amount} ± {spread}, 95 % CI, {n} {unit})"
        )
    winner, loser = (best, other) if _better(metric, mean) else (other, best)
    size, _ = ci_text(abs(mean), ci)
    how = "is higher than" if metric not in HIGHER_IS_BETTER | LOWER_IS_BETTER else "beats"
    lower = "; lower is better" if metric in LOWER_IS_BETTER else ""
    return f"{winner} {how} {loser} on {name} by {size} ± {spread} (95 % CI, {n} {unit}{lower})"


def group_label(row: dict[str, Any], keys: Sequence[str]) -> str:
    """The group a row belongs to: its values of the `by` keys, joined."""
    return " / ".join(cell_text(row.get(k)) for k in keys)


def pooled_keys(points: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[str]:
    """Grid keys (other than `keys`) whose values differ inside one group: what grouping by
    `keys` would pool. Empty when every group holds one point (runs differing only by seed)."""
    seen: dict[str, dict[str, set[str]]] = {}
    for values in points:
        group = seen.setdefault(group_label(values, keys), {})
        for key, value in values.items():
            if key not in keys:
                group.setdefault(key, set()).add(cell_text(value))
    return sorted({k for group in seen.values() for k, v in group.items() if len(v) > 1})


def file_name(keys: Sequence[str], grid_keys: Sequence[str]) -> str:
    """comparison.html when grouped by the whole grid, else comparison-by-KEY+KEY.html, so a
    comparison by another grouping never overwrites it."""
    if list(keys) == list(grid_keys):
        return "comparison.html"
    return "comparison-by-" + "+".join(k.replace("/", "_") for k in keys) + ".html"


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both (lower x, higher y), by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best_y = [], -math.inf
    for i in order:
        if points[i][1] > best_y:
            front.append(i)
            best_y = points[i][1]
    return front


def ci_text(value: float, ci: float) -> tuple[str, str]:
    """Value and half-width as text to the half-width's significant digit (two when it starts
    with 1 or 2, so 0.15 is not shown as 0.2): what the interval can tell, and no more."""
    if ci <= 0:
        return f"{value:,.4g}", "0"
    exponent = math.floor(math.log10(ci))
    places = -exponent + (1 if ci / 10**exponent < 3 else 0)  # negative: tens, hundreds...
    if places > 6:  # a tiny half-width: powers of ten rather than a row of zeros
        scale = 10.0**-places
        return f"{round(value / scale):d}e-{places:02d}", f"{round(ci / scale):d}e-{places:02d}"
    decimals = max(0, places)
    return f"{round(value, places):,.{decimals}f}", f"{round(ci, places):,.{decimals}f}"


def estimate_text(mean: float | None, ci: float | None) -> str:
    """A mean with its 95 % half-width as every page prints it: "12.3 ± 0.4", rounded by
    `ci_text`; "not distinguishable from 0 (within ± 9)" when the interval includes 0;
    the mean alone (3 significant digits) without an interval, "-" without a mean."""
    if mean is None:
        return "-"
    if ci is None:
        return f"{mean:,.3g}"
    amount, spread = ci_text(mean, ci)
    if abs(mean) <= ci and not (mean == 0.0 and ci == 0.0):
        return f"not distinguishable from 0 (within ± {spread})"
    return f"{amount} ± {spread}"


def _difference(a: float, b: float) -> float:
    return 0.0 if abs(a - b) <= 1e-9 * max(abs(a), abs(b)) else a - b


def _better(metric: str, best_minus_other: float) -> bool:
    return best_minus_other < 0 if metric in LOWER_IS_BETTER else best_minus_other > 0


def _direction(metric: str) -> str:
    if metric in HIGHER_IS_BETTER:
        return "higher"
    return "lower" if metric in LOWER_IS_BETTER else "neutral"
