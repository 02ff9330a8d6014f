"""ShapingPlan: the HTB class tree per direction, as data shared by both backends and exporters.

Rates are bits/s of L2 traffic (what HTB counts); quantum is bytes. A tree lists parents before
children and its first class is the root. `finalize` enforces the one rule the kernel does not:
guarantees that sum past their parent's rate are scaled down in proportion, with a warning,
so that the fluid model and the tc configuration agree (DESIGN.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Direction = Literal["down", "up"]
DIRECTIONS: tuple[Direction, Direction] = ("down", "up")
MIN_QUANTUM = 100_000  # bytes: HTB splits spare in proportion to quantum only when it is large


@dataclass(frozen=True, slots=True)
class HtbClass:
    """One HTB class. `site` is set on the leaf that carries a site's traffic."""

    id: str
    parent: str | None
    rate: float
    ceil: float
    prio: int = 0
    quantum: int = MIN_QUANTUM
    site: str | None = None


@dataclass(frozen=True)
class ClassTree:
    """The classes of one direction, root first, parents before children."""

    classes: tuple[HtbClass, ...]

    @property
    def root(self) -> HtbClass:
        return self.classes[0]

    @property
    def leaves(self) -> list[HtbClass]:
        return [c for c in self.classes if c.site is not None]

    def children(self, class_id: str) -> list[HtbClass]:
        return [c for c in self.classes if c.parent == class_id]

    def by_id(self, class_id: str) -> HtbClass:
        for c in self.classes:
            if c.id == class_id:
                return c
        raise KeyError(class_id)


@dataclass(frozen=True)
class ShapingPlan:
    """A policy compiled for one topology and purchase: a class tree per direction."""

    policy: str
    down: ClassTree
    up: ClassTree
    warnings: tuple[str, ...] = ()

    def tree(self, direction: Direction) -> ClassTree:
        return self.down if direction == "down" else self.up

    def to_dict(self) -> dict[str, object]:
        """Plain data for manifests and exports."""
        return {
            "policy": self.policy,
            "warnings": list(self.warnings),
            **{d: [_class_dict(c) for c in self.tree(d).classes] for d in DIRECTIONS},
        }


def _class_dict(c: HtbClass) -> dict[str, object]:
    return {
        "id": c.id,
        "parent": c.parent,
        "rate_bps": c.rate,
        "ceil_bps": c.ceil,
        "prio": c.prio,
        "quantum": c.quantum,
        "site": c.site,
    }


def quanta(weights: dict[str, float]) -> dict[str, int]:
    """Quantum per key in proportion to weight, the smallest MIN_QUANTUM bytes (DESIGN.md §4)."""
    smallest = min(weights.values())
    return {key: int(round(MIN_QUANTUM * w / smallest)) for key, w in weights.items()}


def finalize(
    classes: list[HtbClass], access_bps: dict[str, float], label: str
) -> tuple[ClassTree, list[str]]:
    """Check a tree and scale oversubscribed guarantees; return the tree and its warnings.

    Warns about guarantees that sum past the parent (and scales them, top-down), ceilings
    above the parent's ceiling, and guarantees above a site's access link.
    """
    warnings: list[str] = []
    by_id = {c.id: c for c in classes}
    ordered: list[HtbClass] = []
    for c in classes:
        if c.rate <= 0 or c.ceil < c.rate:
            raise ValueError(f"{label}: class {c.id}: need 0 < rate <= ceil")
        c = by_id[c.id]  # may have been rescaled as a child of an earlier class
        ordered.append(c)
        kids = [k for k in classes if k.parent == c.id]
        total = sum(by_id[k.id].rate for k in kids)
        if kids and total > c.rate * (1 + 1e-9):
            factor = c.rate / total
            warnings.append(
                f"{label}: guarantees under {c.id} sum to {total / 1e6:.1f} Mbit/s, above its "
                f"rate {c.rate / 1e6:.1f}; scaled by {factor:.3f}"
            )
            for k in kids:
                scaled = by_id[k.id]
                by_id[k.id] = replace(scaled, rate=scaled.rate * factor)
        for k in kids:
            if by_id[k.id].ceil > c.ceil * (1 + 1e-9):
                warnings.append(f"{label}: ceil of {k.id} is above its parent {c.id}'s ceil")
    for c in ordered:
        if c.site is not None and c.rate > access_bps[c.site] * (1 + 1e-9):
            warnings.append(
                f"{label}: guarantee of {c.id} ({c.rate / 1e6:.1f} Mbit/s) is above its access "
                f"link ({access_bps[c.site] / 1e6:.1f} Mbit/s)"
            )
    return ClassTree(tuple(ordered)), warnings
