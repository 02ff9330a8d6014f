"""A transfer as the demand model asks for it and a backend carries it, and what carries it.

`Flow` is the record every layer shares: the demand model creates it, a backend fills in its
end, delivered bytes and status, and the metrics read it. `Transport` is all the demand model
needs of a backend, so demand depends on this module, not on the backends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:  # only a type here; importing SimPy would slow every `netlab check`
    import simpy

Direction = Literal["down", "up"]  # down: towards the sites; up: from them
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


class Transport(Protocol):
    """What carries flows: every backend is one (sim.backends.base.Backend)."""

    def transfer(self, flow: Flow) -> simpy.Event:
        """Start a flow now; the event fires when it ends."""
