"""Live controllers: what one is told every interval, what it answers, and how that is kept.

A controller watches the leaf classes while traffic flows and may re-plan the shaping. Every
`interval` the runner hands it an `Observation`: per direction and site, what the backend saw
since the last call (bytes, drops, the backlog where the backend has a queue, the demand where
the backend knows it). It answers None (keep the plan) or a new ShapingPlan, optionally as a
`Decision` with the reason. The runner validates the plan like any other and puts it in force
through the backend's apply_plan; every change becomes `Change` rows (time, class, field, old,
new, why) in the run folder's controller.csv.

A controller is called often (every 10 s is 8,640 calls a day), so readings travel as columns:
a backend reads every leaf of a direction into one `LeafStates`, the loop subtracts the last
reading column by column into `Readings`, which controllers read by site like a dict (each
`Reading` made only when asked for) or, as the shipped one does, column by column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel

from sim.model.flow import Direction
from sim.model.topology import Site
from sim.shaping.plan import DIRECTIONS, ClassTree, HtbClass, ShapingPlan
from sim.shaping.policy_api import NoParams


@dataclass(frozen=True, slots=True)
class LeafStates:
    """Every site leaf of one direction as a backend reads them at once: cumulative counters,
    column by column in the order of `sites` (None: the backend cannot tell)."""

    sites: tuple[str, ...]  # the same for every reading of a run
    bytes: Sequence[float]  # L2 bytes through each leaf since the run started
    drops: Sequence[int]  # packets dropped at each leaf since the run started
    backlog: Sequence[float | None]  # bytes queued now (the kernel's queue; the fluid has none)
    demand_bps: Sequence[float | None]  # wire bits/s the leaf's flows want now (fluid only)


@dataclass(frozen=True, slots=True)
class Reading:
    """One leaf over the last interval: what it carried and lost, and its state at the end."""

    bytes: float
    drops: int
    backlog: float | None
    demand_bps: float | None

    def rate_bps(self, seconds: float) -> float:
        """The leaf's mean L2 rate over `seconds`."""
        return self.bytes * 8.0 / seconds if seconds > 0 else 0.0


class Readings(Mapping[str, Reading]):
    """Every leaf of one direction over the last interval: columns in the order of `sites`,
    and a mapping site -> Reading for those who read by site (made on first use). Between two
    LeafStates (`between`), the columns of differences are computed when first read, so a
    controller pays only for what it reads."""

    __slots__ = ("sites", "backlog", "demand_bps", "_bytes", "_drops", "_span", "_by_site")

    def __init__(
        self,
        sites: tuple[str, ...],
        bytes: Sequence[float],
        drops: Sequence[int],
        backlog: Sequence[float | None],
        demand_bps: Sequence[float | None],
    ) -> None:
        self.sites, self.backlog, self.demand_bps = sites, backlog, demand_bps
        self._bytes: Sequence[float] | None = bytes
        self._drops: Sequence[int] | None = drops
        self._span: tuple[LeafStates, LeafStates] | None = None
        self._by_site: dict[str, Reading] | None = None

    @classmethod
    def between(cls, before: LeafStates, after: LeafStates) -> Readings:
        """The interval from `before` to `after` (bytes and drops differenced when read: a
        controller that reads neither costs the regency day 3 % fewer instructions, callgrind)."""
        readings = cls(after.sites, (), (), after.backlog, after.demand_bps)
        readings._bytes = readings._drops = None
        readings._span = (before, after)
        return readings

    @property
    def bytes(self) -> Sequence[float]:
        """L2 bytes through each leaf over the interval."""
        if self._bytes is None:
            assert self._span is not None
            before, after = self._span
            self._bytes = [b - a for a, b in zip(before.bytes, after.bytes, strict=True)]
        return self._bytes

    @property
    def drops(self) -> Sequence[int]:
        """Packets dropped at each leaf over the interval."""
        if self._drops is None:
            assert self._span is not None
            before, after = self._span
            self._drops = (  # a backend that drops nothing hands the same column every time
                [0] * len(after.sites)
                if after.drops is before.drops
                else [b - a for a, b in zip(before.drops, after.drops, strict=True)]
            )
        return self._drops

    @classmethod
    def of(cls, readings: Mapping[str, Reading]) -> Readings:
        """`readings` as columns (themselves, when they already are)."""
        if isinstance(readings, Readings):
            return readings
        rows = list(readings.values())
        return cls(
            tuple(readings),
            [r.bytes for r in rows],
            [r.drops for r in rows],
            [r.backlog for r in rows],
            [r.demand_bps for r in rows],
        )

    def __getitem__(self, site: str) -> Reading:
        by_site = self._by_site
        if by_site is None:
            columns = (self.sites, self.bytes, self.drops, self.backlog, self.demand_bps)
            rows = zip(*columns, strict=True)
            by_site = self._by_site = {s: Reading(b, d, q, w) for s, b, d, q, w in rows}
        return by_site[site]

    def __iter__(self) -> Iterator[str]:
        return iter(self.sites)

    def __len__(self) -> int:
        return len(self.sites)


@dataclass(frozen=True)
class Observation:
    """What a controller is told at a call: the time, the plan in force and every leaf."""

    time: float  # seconds since the run started
    clock: dt.datetime  # the scenario's local clock at that time
    interval: float  # seconds since the last call
    plan: ShapingPlan  # in force until now
    classes: Mapping[Direction, Mapping[str, Reading]]  # direction -> site -> its reading


@dataclass(frozen=True)
class Decision:
    """A new plan and why (the why is recorded with every change it makes)."""

    plan: ShapingPlan
    why: str = ""


@dataclass(frozen=True)
class Change:
    """One field of one class changed by a controller, as controller.csv records it."""

    time: float
    controller: str
    direction: str
    class_id: str
    field: str
    old: float
    new: float
    why: str


class Controller:
    """Base class for a controller: set `name` and `Params`; write `decide` (and `start`)."""

    name: ClassVar[str] = "unnamed"
    Params: ClassVar[type[BaseModel]] = NoParams

    def start(self, params: Any, sites: list[Site], capacity: float, plan: ShapingPlan) -> None:
        """Called once before the run: the parameters, served sites, root rate, first plan."""

    def decide(self, seen: Observation) -> ShapingPlan | Decision | None:
        raise NotImplementedError(f"controller {self.name} has no decide()")


def with_leaf_rates(
    plan: ShapingPlan, rates: dict[Direction, dict[str, float]], label: str
) -> ShapingPlan:
    """The plan with the given leaves' guarantees (bits/s, clipped to each leaf's ceil),
    every other figure as it was (the very classes and trees, where nothing changed)."""
    trees: dict[Direction, ClassTree] = {}
    for direction in DIRECTIONS:
        wanted = rates.get(direction)
        tree = plan.tree(direction)
        if not wanted:
            trees[direction] = tree
            continue
        classes: list[HtbClass] = []
        for c in tree.classes:
            rate = wanted.get(c.site) if c.site is not None else None
            if rate is not None and min(rate, c.ceil) != c.rate:
                c = c.with_rate(min(rate, c.ceil))
            classes.append(c)
        trees[direction] = ClassTree(tuple(classes))
    return ShapingPlan(label, trees["down"], trees["up"], plan.warnings)


FIELDS = ("rate", "ceil", "prio", "quantum", "per_user_bps")


def changes(
    old: ShapingPlan, new: ShapingPlan, time: float, controller: str, why: str
) -> list[Change]:
    """Every field of every class that differs between two plans of the same classes."""
    out: list[Change] = []
    for direction in DIRECTIONS:
        was_tree, tree = old.tree(direction), new.tree(direction)
        if tree is was_tree:
            continue
        before = {c.id: c for c in was_tree.classes}
        for c in tree.classes:
            was = before.get(c.id)
            if c is was:  # the very class: nothing of it changed
                continue
            for name in FIELDS:
                a = getattr(was, name) if was is not None else None
                b = getattr(c, name)
                if a != b:
                    old_value = float("nan") if a is None else float(a)
                    new_value = float("nan") if b is None else float(b)
                    out.append(
                        Change(time, controller, direction, c.id, name, old_value, new_value, why)
                    )
    return out
