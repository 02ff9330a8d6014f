"""One day of a by-day run reduced to the figures a year is judged on, so the run never holds
more than a day: the upstream series per direction, the busy hour, each site kind's busy-window
demand and delivery, and the day's objective verdicts.

The figures are small (a few kB a day) and exactly additive where the year adds them: a week's
or a month's satisfaction per kind is its days' delivered bytes over their asked bytes, not an
average of daily ratios (sim/analysis/year.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.flows import FlowArrays
from sim.analysis.metrics import busy_hour_of
from sim.analysis.objectives import evaluate, in_busy_window, site_kinds
from sim.model.topology import SITE_KINDS
from sim.model.units import MBPS

if TYPE_CHECKING:
    from sim.run import RunRecord


@dataclass(frozen=True)
class DayFigures:
    """What one simulated day gives the year (rates in Mbit/s, amounts in bytes)."""

    index: int  # days from the run's first
    date: str  # ISO local date the day starts on
    day_type: str  # "working", "weekend" or "holiday" (the scenario's calendar)
    seed: int
    growth: float  # the demand factor the day ran at
    flows: int
    upstream_mbps: dict[str, list[float]]  # per direction, per sample interval
    busy_hour: dict[str, float]  # offered/delivered per direction in the day's busy hour
    asked: dict[str, float]  # per site kind, offered bytes in its busy windows
    got: dict[str, float]  # per site kind, delivered bytes in its busy windows
    missed: list[str]  # objectives the day missed (measured and below target)
    measured: list[str]  # objectives the day could measure

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DayFigures:
        return cls(**data)


def day_figures(record: RunRecord, index: int, day_type: str, growth: float) -> DayFigures:
    """The figures of one day's run: the summary's busy hour and objectives, computed from
    one set of flow arrays (the whole summary would cost a fifth of the day again)."""
    flows = FlowArrays.from_flows(record.flows, record.site_ids)
    objectives = evaluate(record, flows, flows.offered)
    busy = in_busy_window(record, flows)
    kinds = site_kinds(record)[flows.site]
    asked: dict[str, float] = {}
    got: dict[str, float] = {}
    for k, kind in enumerate(SITE_KINDS):
        chosen = busy & (kinds == k)
        asked[kind] = float(flows.offered[chosen].sum())
        got[kind] = float(flows.delivered[chosen].sum())
    lengths = np.minimum(record.times + record.interval, record.scenario.duration) - record.times
    upstream: dict[str, list[float]] = {
        direction: [
            round(float(v), 6) for v in wire.sum(axis=1) * 8 / np.maximum(lengths, 1e-9) / MBPS
        ]
        for direction, wire in record.wire_bytes.items()
    }
    hour = busy_hour_of(record, flows)
    busy_hour = (
        {}
        if hour is None
        else {
            "offered_down": hour.offered_down_mbps,
            "offered_up": hour.offered_up_mbps,
            "delivered_down": hour.delivered_down_mbps,
            "delivered_up": hour.delivered_up_mbps,
        }
    )
    return DayFigures(
        index=index,
        date=record.scenario.start.date().isoformat(),
        day_type=day_type,
        seed=record.scenario.seed,
        growth=growth,
        flows=len(record.flows),
        upstream_mbps=upstream,
        busy_hour=busy_hour,
        asked=asked,
        got=got,
        missed=[row.name for row in objectives if row.met is False],
        measured=[row.name for row in objectives if row.met is not None],
    )
