"""Per-flow and per-class series of a run, which its folder's flows and classes files hold
(sim/results.py writes them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sim.analysis.flows import FlowArrays, bottleneck_bps, completion
from sim.model.flow import Direction
from sim.run import RunRecord
from sim.shaping.plan import DIRECTIONS, ClassTree


def flow_completion(record: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """Per flow: completion time (s) and slowdown; NaN unless it is a finished elastic flow."""
    flows = FlowArrays.from_flows(record.flows, record.site_ids)
    overhead = record.scenario.spec.network.overhead
    bottleneck = bottleneck_bps(record)[flows.site]
    return completion(flows.ran_s, flows.size, flows.finished_elastic, bottleneck, overhead)


@dataclass(frozen=True)
class ClassSeries:
    """One direction of one plan's class tree over the intervals in which the plan was in force.

    Arrays are [interval, class], classes in tree order; a class counts the traffic of every
    site leaf under it. Rates are bytes over the nominal interval (record.interval).
    """

    direction: Direction
    tree: ClassTree
    steps: np.ndarray  # indices of the intervals, into record.times
    allocated_bps: np.ndarray  # L2 bits/s through the class
    delivered_bps: np.ndarray  # goodput bits/s (L2 over the frame overhead)
    drops: np.ndarray  # packets dropped
    offered_bps: np.ndarray  # goodput bits/s asked for by flows that started in the interval


def class_series(record: RunRecord) -> Iterator[ClassSeries]:
    """Every plan's classes, per direction, over the intervals the plan was in force."""
    overhead = record.scenario.spec.network.overhead
    offered = offered_bytes(record)
    for plan_no, plan in enumerate(record.plans):
        steps = np.flatnonzero(record.plan_index == plan_no)
        if steps.size == 0:
            continue
        for direction in DIRECTIONS:
            tree = plan.tree(direction)
            members = membership(tree, record.site_ids).T
            wire = record.wire_bytes[direction][steps] @ members * 8.0 / record.interval
            yield ClassSeries(
                direction=direction,
                tree=tree,
                steps=steps,
                allocated_bps=wire,
                delivered_bps=wire / overhead,
                drops=record.drops[direction][steps] @ members,
                offered_bps=offered[direction][steps] @ members * 8.0 / record.interval,
            )


def membership(tree: ClassTree, site_ids: list[str]) -> np.ndarray:
    """[class, site] 1 where the site's leaf lies under (or is) the class."""
    column = {site: i for i, site in enumerate(site_ids)}
    parents = {c.id: c.parent for c in tree.classes}
    matrix = np.zeros((len(tree.classes), len(site_ids)))
    row = {c.id: i for i, c in enumerate(tree.classes)}
    for c in tree.classes:
        if c.site is None or c.site not in column:
            continue
        node: str | None = c.id
        while node is not None:
            matrix[row[node], column[c.site]] = 1.0
            node = parents[node]
    return matrix


def offered_bytes(record: RunRecord) -> dict[Direction, np.ndarray]:
    """[interval, site] goodput bytes offered by flows that started in the interval."""
    column = {site: i for i, site in enumerate(record.site_ids)}
    steps = len(record.times)
    out = {d: np.zeros((steps, len(record.site_ids))) for d in DIRECTIONS}
    for f in record.flows:
        step = min(int(f.start // record.interval), steps - 1)
        out[f.direction][step, column[f.site]] += f.size
    return out
