"""What every backend offers the demand model and the runner, and the Flow it carries.

A backend lives inside a SimPy environment. `transfer(flow)` returns an event that fires when
the flow ends: an elastic flow when its bytes have arrived or its user gave up (patience), a
paced flow when its duration is over. Both backends count L2 bytes per site leaf so that the
runner samples them into the per-class series the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

import simpy

from sim.shaping.plan import Direction, ShapingPlan

FlowStatus = Literal["active", "done", "abandoned", "cut"]


@dataclass(slots=True, eq=False)
class Flow:
    """One transfer. Sizes are goodput bytes, rates goodput bits/s; results filled on end."""

    id: int
    site: str
    app: str
    direction: Direction
    start: float
    size: float  # elastic: bytes to move; paced: bytes it would move at its rate
    rate: float = 0.0  # paced: needed goodput rate, bits/s; 0 for elastic
    duration: float = 0.0  # paced: seconds
    patience: float = math.inf  # elastic: the user abandons after this many seconds
    end: float = math.nan
    delivered: float = 0.0
    status: FlowStatus = "active"
    time_at_rate: float = 0.0  # paced: seconds it got at least its needed rate
    done: simpy.Event | None = field(default=None, repr=False)

    @property
    def paced(self) -> bool:
        return self.rate > 0


class Backend(Protocol):
    """The interface both backends implement."""

    env: simpy.Environment
    name: str
    flows: list[Flow]

    def apply_plan(self, plan: ShapingPlan) -> None:
        """Put a (new) shaping plan in force now."""

    def transfer(self, flow: Flow) -> simpy.Event:
        """Start a flow now; the event fires when it ends."""

    def leaf_bytes(self, direction: Direction) -> dict[str, float]:
        """Cumulative L2 bytes through each site's leaf class so far."""

    def leaf_drops(self, direction: Direction) -> dict[str, int]:
        """Cumulative packets dropped at each site's leaf class so far."""

    def finish(self) -> None:
        """End the run now: account for flows still active (status 'cut')."""
