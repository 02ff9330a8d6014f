"""What every backend offers the demand model and the runner (the Flow it carries: sim.model.flow).

A backend lives inside a SimPy environment. `transfer(flow, on_end)` calls on_end(flow) when
the flow ends: an elastic flow when its bytes have arrived or its user gave up (patience), a
paced flow when its duration is over. Both backends count L2 bytes per site leaf so that the
runner samples them into the per-class series the same way.
"""

from __future__ import annotations

from typing import Protocol

import simpy

from sim.model.flow import Direction, Flow, Transport
from sim.shaping.control import LeafStates
from sim.shaping.plan import ShapingPlan


class Backend(Transport, Protocol):
    """The interface both backends implement (`transfer` comes from Transport). Neither
    subclasses it: each backend's module has mypy check its class against it."""

    @property
    def env(self) -> simpy.Environment:
        """The SimPy environment the backend lives in (a subclass of it, for the fluid one)."""

    @property
    def name(self) -> str:
        """The backend's name in results ("fluid", "mininet")."""

    @property
    def flows(self) -> list[Flow]:
        """Every flow transferred so far, in the order it started."""

    def apply_plan(self, plan: ShapingPlan) -> None:
        """Put a (new) shaping plan in force now."""

    def leaf_bytes(self, direction: Direction) -> dict[str, float]:
        """Cumulative L2 bytes through each site's leaf class so far."""

    def leaf_drops(self, direction: Direction) -> dict[str, int]:
        """Cumulative packets dropped at each site's leaf class so far."""

    def leaf_states(self, direction: Direction) -> LeafStates:
        """Every site leaf's cumulative bytes and drops, its backlog and its demand now (None
        where the backend cannot tell), in one reading: what a live controller observes."""

    def finish(self) -> None:
        """End the run now: account for flows still active (status 'cut')."""
