"""RouterOS queue types (`/queue type`): what each leaf queue does with its packets.

RouterOS's built-in types are known by name; a file's own types by `kind` (pfifo, bfifo,
sfq, red, pcq, fq-codel, cake). PCQ's per-address sharing (`pcq-rate`, `pcq-classifier`,
`pcq-limit`) is kept: a PCQ leaf gives each address its own sub-queue.
"""

from __future__ import annotations

from sim.configs.inforce import Discipline, Notes, PerAddress
from sim.configs.rates import routeros_rate
from sim.configs.rsc_menus import Item

BUILT_IN: dict[str, Discipline] = {
    "default": Discipline("default", "pfifo"),
    "default-small": Discipline("default-small", "pfifo"),
    "ethernet-default": Discipline("ethernet-default", "pfifo"),
    "wireless-default": Discipline("wireless-default", "sfq"),
    "synchronous-default": Discipline("synchronous-default", "red"),
    "hotspot-default": Discipline("hotspot-default", "sfq"),
    "only-hardware-queue": Discipline("only-hardware-queue", "pfifo"),
    "multi-queue-ethernet-default": Discipline("multi-queue-ethernet-default", "pfifo"),
    "fq-codel-default": Discipline("fq-codel-default", "fq_codel"),
    "cake-default": Discipline("cake-default", "cake"),
    "pcq-upload-default": Discipline(
        "pcq-upload-default", "pcq", PerAddress(None, ("src-address",), None)
    ),
    "pcq-download-default": Discipline(
        "pcq-download-default", "pcq", PerAddress(None, ("dst-address",), None)
    ),
}
KINDS = {"pfifo", "bfifo", "mq-pfifo", "sfq", "red", "pcq", "fq-codel", "cake", "none"}


def queue_types(items: list[Item], notes: Notes) -> dict[str, Discipline]:
    """Every queue type by name: the built-ins, then the file's own."""
    types = dict(BUILT_IN)
    for item in items:
        name = item.text("name")
        kind = item.text("kind", types[name].kind if name in types else "unknown")
        per_address = None
        if kind == "pcq":
            rate = routeros_rate(item.text("pcq-rate", "0"))
            classifier = tuple(c for c in item.text("pcq-classifier", "").split(",") if c)
            limit = item.text("pcq-limit", "") or None
            per_address = PerAddress(rate or None, classifier, limit)
            if any(k.startswith("pcq-burst") for k in item.args):
                notes.add(
                    "PCQ burst (pcq-burst-rate/-threshold/-time) is not modelled: each address "
                    "is held to its pcq-rate",
                    item.origin,
                    topic="pcq-burst",
                )
        types[name] = Discipline(
            name, kind.replace("-", "_") if kind != "pcq" else kind, per_address
        )
    return types
