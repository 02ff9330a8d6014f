"""The shaping in force, as read from a configuration: one model for every format.

Readers (RouterOS, tc, LibreQoS) produce it; `to_plan` and `to_sites` turn it into netlab's
types. Rates are bits/s; a guarantee of 0 means none was given and a ceiling of None means
"no limit here" (the parent's). prio is netlab's 0 (first) .. 7 (last), None when not given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.model.errors import ConfigError
from sim.model.flow import Direction


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a construct was read: file and 1-based line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class PerAddress:
    """A queue that shares per address (RouterOS PCQ): each address is a sub-queue."""

    rate: float | None  # bits/s each address may take; None: an equal share of the queue
    classifier: tuple[str, ...]  # e.g. ("dst-address",)
    limit: str | None  # the per-address queue length as written (packets or bytes)


@dataclass(frozen=True, slots=True)
class Discipline:
    """The queue under a class: its name in the file, its kind, PCQ's per-address sharing."""

    name: str
    kind: str  # pfifo, bfifo, sfq, pcq, fq_codel, cake, red, default, unknown
    per_address: PerAddress | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """What traffic a class takes: networks, interfaces, and what else decides it (text)."""

    networks: tuple[str, ...] = ()  # "a.b.c.d/n" or IPv6 prefixes, as the file gives them
    interfaces: tuple[str, ...] = ()
    everything: bool = False  # the class takes all traffic (no condition, 0.0.0.0/0)
    other: tuple[str, ...] = ()  # e.g. "packet-mark http (set by no mangle rule)"

    @property
    def known(self) -> bool:
        """True when some traffic is known to reach the class."""
        return bool(self.networks or self.interfaces or self.everything)


@dataclass(frozen=True, slots=True)
class ShapedClass:
    """One class (queue) of one direction."""

    name: str
    parent: str | None
    rate: float  # guarantee, bits/s; 0: none given
    ceil: float | None  # bits/s; None: no limit of its own
    origin: Origin
    prio: int | None = None
    quantum: int | None = None
    discipline: Discipline | None = None
    disabled: bool = False
    match: Match = field(default_factory=Match)


@dataclass(frozen=True, slots=True)
class Circuit:
    """A site as the file knows it: a name, its addresses and its leaf in each direction."""

    name: str
    networks: tuple[str, ...]
    origin: Origin
    down: str | None  # the name of its leaf class in the download tree
    up: str | None
    interfaces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Note:
    """A warning a network engineer needs; `topic` groups the ones said once (approximations)."""

    text: str
    origin: Origin | None = None
    topic: str = ""

    def __str__(self) -> str:
        return f"{self.origin}: {self.text}" if self.origin else self.text


@dataclass(frozen=True)
class ShapingInForce:
    """Everything read: a class tree per direction (parents first), circuits and notes."""

    fmt: str
    files: tuple[str, ...]
    down: tuple[ShapedClass, ...]
    up: tuple[ShapedClass, ...]
    circuits: tuple[Circuit, ...]
    notes: tuple[Note, ...] = ()

    def tree(self, direction: Direction) -> tuple[ShapedClass, ...]:
        return self.down if direction == "down" else self.up


class Notes:
    """Collects notes in order; a note with a topic is kept once (the first)."""

    def __init__(self) -> None:
        self.items: list[Note] = []
        self._topics: set[str] = set()

    def add(self, text: str, origin: Origin | None = None, topic: str = "") -> None:
        if topic:
            if topic in self._topics:
                return
            self._topics.add(topic)
        self.items.append(Note(text, origin, topic))

    def extend(self, notes: tuple[Note, ...] | list[Note]) -> None:
        for note in notes:
            self.add(note.text, note.origin, note.topic)


def refuse(origin: Origin, problem: str) -> ConfigError:
    """The one-line error for a construct not taken: `FILE: line N: PROBLEM`."""
    return ConfigError(origin.path, f"line {origin.line}", problem)
