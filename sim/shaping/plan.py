"""ShapingPlan: the HTB class tree per direction, as data shared by both backends and exporters.

Rates are bits/s of L2 traffic (what HTB counts); quantum is bytes, or None for the kernel's
default (rate / r2q, clamped). A leaf may cap each of its users (`per_user_bps`, RouterOS PCQ's
pcq-rate): every flow in it is held to that rate, since a user has one flow at a time. A tree
lists parents before children and its first class is the root. `finalize` checks a tree and
warns about what the kernel would do that a plan's author may not expect: guarantees that
oversubscribe their parent are all delivered, an inner class's prio and quantum are ignored
(docs/architecture.md, "HTB semantics")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sim.model.flow import Direction

DIRECTIONS: tuple[Direction, Direction] = ("down", "up")
MIN_QUANTUM = 100_000  # bytes: HTB splits spare in proportion to quantum only when it is large
R2Q = 10  # tc's default rate-to-quantum divisor
KERNEL_QUANTUM_MIN, KERNEL_QUANTUM_MAX = 1_000, 200_000  # sch_htb.c clamps a derived quantum


@dataclass(frozen=True, slots=True)
class HtbClass:
    """One HTB class. `site` is set on the leaf that carries a site's traffic; `per_user_bps`
    (leaves only; None: no cap) is what each user (address) of the leaf may take."""

    id: str
    parent: str | None
    rate: float
    ceil: float
    prio: int = 0
    quantum: int | None = None
    site: str | None = None
    per_user_bps: float | None = None

    def with_rate(self, rate: float) -> HtbClass:
        """This class with another guarantee: `replace(self, rate=rate)` without its work field
        by field (a controller moves thousands of guarantees a day)."""
        c = self
        return HtbClass(c.id, c.parent, rate, c.ceil, c.prio, c.quantum, c.site, c.per_user_bps)


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
    """A class as plan files hold it; `per_user_bps` only where set, so plans without a cap
    read and write as before."""
    out: dict[str, object] = {
        "id": c.id,
        "parent": c.parent,
        "rate_bps": c.rate,
        "ceil_bps": c.ceil,
        "prio": c.prio,
        "quantum": c.quantum,
        "site": c.site,
    }
    if c.per_user_bps is not None:
        out["per_user_bps"] = c.per_user_bps
    return out


def kernel_quantum(c: HtbClass) -> int:
    """The quantum the kernel uses for class c: the plan's, else rate / r2q in bytes, clamped."""
    if c.quantum is not None:
        return c.quantum
    derived = int(c.rate / 8 / R2Q)
    return min(max(derived, KERNEL_QUANTUM_MIN), KERNEL_QUANTUM_MAX)


def quanta(weights: dict[str, float]) -> dict[str, int]:
    """Quantum per key in proportion to weight, the smallest MIN_QUANTUM bytes."""
    smallest = min(weights.values())
    return {key: int(round(MIN_QUANTUM * w / smallest)) for key, w in weights.items()}


def fresh_places(old: ClassTree, new: ClassTree) -> list[int] | None:
    """Where `new` does not hold the very class `old` holds (None: the trees differ in length):
    a tree made from another by replacing a few classes needs looking at only there."""
    if len(new.classes) != len(old.classes):
        return None
    pairs = enumerate(zip(new.classes, old.classes, strict=True))
    return [i for i, (c, was) in pairs if c is not was]


def check_rates(classes: Iterable[HtbClass], label: str) -> None:
    """Refuse the first class whose guarantee is not positive or is above its ceil."""
    for c in classes:
        if c.rate <= 0 or c.ceil < c.rate:
            raise ValueError(f"{label}: class {c.id}: need 0 < rate <= ceil")


def finalize(
    classes: list[HtbClass], access_bps: dict[str, float], label: str
) -> tuple[ClassTree, list[str]]:
    """Check a tree; return it unchanged with its warnings.

    Warns about guarantees that sum past the parent's rate (the kernel delivers them all the
    same), ceilings above the parent's ceiling, guarantees above a site's access link, prio
    or quantum set on an inner class (the kernel ignores both there), and per-user caps that
    cannot bind (not below the leaf's ceil).
    """
    check_rates(classes, label)
    by_id = {c.id: c for c in classes}
    children: dict[str | None, list[HtbClass]] = {}
    for c in classes:
        children.setdefault(c.parent, []).append(c)
    warnings: list[str] = []
    for c in classes:
        kids = children.get(c.id, [])
        total = sum(k.rate for k in kids)
        if kids and total > c.rate * (1 + 1e-9):
            warnings.append(
                f"{label}: OVERSUBSCRIBED: guarantees under {c.id} sum to {total / 1e6:.1f} "
                f"Mbit/s, above its rate {c.rate / 1e6:.1f}; the kernel delivers them all, so "
                f"{c.id} may carry more than its rate"
            )
        if kids and (c.prio != 0 or c.quantum is not None):
            warnings.append(
                f"{label}: prio/quantum of inner class {c.id} are ignored by the kernel: only "
                "leaves' prio and quantum count"
            )
        parent = by_id.get(c.parent) if c.parent is not None else None
        if parent is not None and c.ceil > parent.ceil * (1 + 1e-9):
            warnings.append(f"{label}: ceil of {c.id} is above its parent {parent.id}'s ceil")
        if c.per_user_bps is not None and c.per_user_bps >= c.ceil:
            warnings.append(
                f"{label}: per-user cap of {c.id} ({c.per_user_bps / 1e6:.1f} Mbit/s) is not "
                f"below its ceil ({c.ceil / 1e6:.1f}): it never binds"
            )
        if c.site is not None and c.rate > access_bps[c.site] * (1 + 1e-9):
            warnings.append(
                f"{label}: guarantee of {c.id} ({c.rate / 1e6:.1f} Mbit/s) is above its access "
                f"link ({access_bps[c.site] / 1e6:.1f} Mbit/s)"
            )
    return ClassTree(tuple(classes)), warnings
