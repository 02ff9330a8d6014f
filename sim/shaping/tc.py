"""The one tc compiler: a ShapingPlan's class tree as tc commands (argument lists), per device.

The emulator runs these commands (one `tc -batch` per device) and `netlab export --format tc`
writes the same commands as a script, so the tree netlab validates is the tree it ships
(docs/architecture.md). A command is the argument list after `tc`, every token a plain word.

Per device: the previous root qdisc is removed (`reset`, which may fail on a fresh device), then
`build` adds the HTB root qdisc (`default 0`: traffic no filter picks is sent unshaped), one
class per plan class (root 1:1, then 1:2, 1:3, ... in plan order), a bfifo under each leaf with
the leaf's minor as handle, the catch-all leaf 1:fffe and the filters:

  prio 1  (downloads only) traffic from a site's own networks bypasses the tree (flowid 1:0):
          what the hub forwards between offices is not internet traffic;
  prio 2  one u32 filter per site network, by destination (downloads) or source (uploads);
  prio 3  every other IP packet goes to the catch-all leaf, so it stays under the root.

A leaf's per-user cap (`per_user_bps`) is not compiled: plain HTB has no per-address rate,
so the compiler warns (`per_user_warning`) and the export and the emulator say so.

Kernel facts this follows: burst and cburst hold at least 50 ms of rate and ceil (15 kB at
least) or ceilings are missed, and cburst holds at least one quantum or a borrower loses
round-robin turns; an unset quantum is left unset (the kernel derives rate / r2q);
the kernel splits spare in proportion to quantum only when quanta are large, so explicit leaf
quanta whose smallest is under MIN_QUANTUM are scaled up together (`deployed_quanta`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sim.shaping.plan import MIN_QUANTUM, ClassTree, HtbClass, kernel_quantum

Argv = list[str]
Match = Literal["dst", "src"]

BURST_S = 0.05  # burst/cburst hold this much time of the rate/ceil ...
MIN_BURST = 15_000  # ... and at least this many bytes
QUEUE_S = 0.2  # a leaf's FIFO holds about this much time of its ceiling ...
QUEUE_PACKETS = (100, 1000)  # ... within these bounds (packets of FRAME bytes; bytes in tc)
FRAME = 1514
QUANTUM_CAP = 2_000_000  # bytes: scaling small quanta up stops here (a turn of 2 MB is long)

# The catch-all leaf for IP traffic no site filter picks: minor 0xfffe, the top of the minor
# space (not 0xffff, the conventional ingress handle), far from the plan's classes. It is
# guaranteed min(1 Mbit/s, 1 % of the root) and borrows up to the root's ceiling at prio 7.
CATCH_ALL_MINOR = 0xFFFE
CATCH_ALL_PRIO = 7
CATCH_ALL_RATE_BPS = 1e6
CATCH_ALL_RATE_SHARE = 0.01
BYPASS = "1:0"  # a filter result equal to the qdisc's handle: sent directly, unshaped


def burst_bytes(rate_bps: float) -> int:
    """HTB burst (or cburst, from the ceiling): 50 ms of the rate, at least 15 kB."""
    return max(MIN_BURST, math.ceil(rate_bps * BURST_S / 8))


def cburst_bytes(ceil_bps: float, quantum: int) -> int:
    """HTB cburst: as burst_bytes, and at least one quantum. A borrowing class whose ceil
    bucket runs dry mid-turn leaves the round robin and gets its turn back only a round later,
    so with cburst below its quantum it borrows less than its quantum share."""
    return max(burst_bytes(ceil_bps), quantum)


def queue_packets(ceil_bps: float) -> int:
    """A leaf FIFO's length: about 200 ms of the ceiling in full frames, 100..1000 packets."""
    low, high = QUEUE_PACKETS
    return max(low, min(high, int(ceil_bps * QUEUE_S / 8 / FRAME)))


def fifo_args(ceil_bps: float) -> Argv:
    """A leaf's FIFO in tc: queue_packets full frames, counted in bytes (bfifo).

    Linux hands queues GSO aggregates of up to 64 kB; a FIFO counted in packets then holds up
    to 40 times its bytes (1.2 s instead of 200 ms on a 10 Mbit/s link), one counted in bytes
    holds the same time whatever the packet sizes, so hosts can keep their offloads."""
    return ["bfifo", "limit", str(queue_packets(ceil_bps) * FRAME)]


def catch_all(root: HtbClass) -> HtbClass:
    """The catch-all leaf under the root (see CATCH_ALL_MINOR)."""
    rate = min(CATCH_ALL_RATE_BPS, root.rate * CATCH_ALL_RATE_SHARE)
    return HtbClass("unclassified", root.id, rate, root.ceil, CATCH_ALL_PRIO, None)


def class_minors(tree: ClassTree) -> dict[str, int]:
    """tc minor number per class id: root 1, then 2, 3, ... in plan order (parents first)."""
    if len(tree.classes) >= CATCH_ALL_MINOR - 1:
        raise ValueError(f"too many classes for one HTB tree ({len(tree.classes)})")
    return {c.id: i + 1 for i, c in enumerate(tree.classes)}


def bits(rate_bps: float) -> str:
    return f"{max(1, round(rate_bps))}bit"


def deployed_quanta(tree: ClassTree, label: str) -> tuple[dict[str, int | None], list[str]]:
    """The quantum each class is given (None: left to the kernel), with warnings.

    When every leaf has an explicit quantum and the smallest is under MIN_QUANTUM, all leaf
    quanta are multiplied by one factor (ratios kept) so the smallest reaches MIN_QUANTUM, the
    largest at most QUANTUM_CAP: the kernel then splits spare in the ratios the model uses.
    """
    out: dict[str, int | None] = {c.id: c.quantum for c in tree.classes}
    leaves = tree.leaves
    explicit = [c.quantum for c in leaves if c.quantum is not None]
    if not explicit or min(explicit) >= MIN_QUANTUM:
        return out, []
    if len(explicit) < len(leaves):
        return out, [
            f"{label}: leaf quanta under {MIN_QUANTUM} bytes split spare less evenly than "
            "modelled; they are not scaled because other leaves leave quantum to the kernel"
        ]
    factor = max(1.0, min(MIN_QUANTUM / min(explicit), QUANTUM_CAP / max(explicit)))
    for c in leaves:
        assert c.quantum is not None
        out[c.id] = round(c.quantum * factor)
    warning = (
        f"{label}: leaf quanta scaled by {factor:.3g} (smallest {min(explicit)} bytes): "
        f"the kernel splits spare by quantum ratio only when quanta are >= {MIN_QUANTUM} bytes"
    )
    if min(explicit) * factor < MIN_QUANTUM:
        warning += f"; capped at {QUANTUM_CAP} bytes, so the smallest stays under that"
    return out, [warning]


@dataclass(frozen=True)
class DeviceProgram:
    """tc commands putting one direction's tree on one device (see the module docstring)."""

    dev: str
    reset: Argv
    build: list[Argv]
    warnings: tuple[str, ...]


def class_args(
    verb: str, dev: str, c: HtbClass, minor: int, minors: dict[str, int], quantum: int | None
) -> Argv:
    """`class add|change` of class c as 1:minor; minors (class_minors) give its parent's."""
    parent = "1:" if c.parent is None else f"1:{minors[c.parent]:x}"
    argv = ["class", verb, "dev", dev, "parent", parent, "classid", f"1:{minor:x}", "htb"]
    argv += ["rate", bits(c.rate), "ceil", bits(c.ceil)]
    cburst = cburst_bytes(c.ceil, kernel_quantum(c) if quantum is None else quantum)
    argv += ["burst", str(burst_bytes(c.rate)), "cburst", str(cburst)]
    argv += ["prio", str(c.prio)]
    return argv + ([] if quantum is None else ["quantum", str(quantum)])


def compile_device(
    tree: ClassTree, dev: str, match: Match, networks: dict[str, tuple[str, ...]], label: str
) -> DeviceProgram:
    """The tree on dev: classes, leaf FIFOs, catch-all and filters by `match` address.

    networks maps each site to the networks ("a.b.c.d/n") its traffic carries as seen here.
    """
    minors = class_minors(tree)
    quanta, warnings = deployed_quanta(tree, label)
    has_kids = {c.parent for c in tree.classes}
    build: list[Argv] = [
        ["qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "0"]
    ]
    numbered = [(c, minors[c.id], quanta[c.id]) for c in tree.classes]
    for c, minor, quantum in [*numbered, (catch_all(tree.root), CATCH_ALL_MINOR, None)]:
        build.append(class_args("add", dev, c, minor, minors, quantum))
        if minor == CATCH_ALL_MINOR or c.id not in has_kids:
            build.append(
                ["qdisc", "add", "dev", dev, "parent", f"1:{minor:x}", "handle", f"{minor:x}:"]
                + fifo_args(c.ceil)
            )
    build += filter_args(tree, dev, match, networks, minors)
    reset = ["qdisc", "del", "dev", dev, "root"]
    return DeviceProgram(dev, reset, build, tuple([*warnings, *per_user_warning(tree, label)]))


def per_user_warning(tree: ClassTree, label: str) -> list[str]:
    """Per-user caps are not in the tc tree: plain HTB has no per-address rate (it would take a
    class per user address), so each capped leaf shapes its site as one class."""
    capped = [(c.id, c.per_user_bps) for c in tree.leaves if c.per_user_bps is not None]
    if not capped:
        return []
    shown = ", ".join(f"{cid} {cap / 1e6:g} Mbit/s" for cid, cap in capped[:5])
    return [
        f"{label}: per-user caps NOT APPLIED by tc ({shown}{', ...' if len(capped) > 5 else ''}):"
        " HTB has no per-address rate; each such leaf shapes its site as one class, its users"
        " unlimited within it (RouterOS: a PCQ queue type; netlab simulates the caps)"
    ]


def _u32(dev: str, prio: int, match: str, network: str, flowid: str) -> Argv:
    head = ["filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", str(prio)]
    return [*head, "u32", "match", "ip", match, network, "flowid", flowid]


def filter_args(
    tree: ClassTree,
    dev: str,
    match: Match,
    networks: dict[str, tuple[str, ...]],
    minors: dict[str, int],
) -> list[Argv]:
    """Bypass between sites (downloads), one filter per site network, the catch-all."""
    out: list[Argv] = []
    if match == "dst":
        for c in tree.leaves:
            assert c.site is not None
            out += [_u32(dev, 1, "src", net, BYPASS) for net in networks[c.site]]
    for c in tree.leaves:
        assert c.site is not None
        out += [_u32(dev, 2, match, net, f"1:{minors[c.id]:x}") for net in networks[c.site]]
    return [*out, _u32(dev, 3, match, "0.0.0.0/0", f"1:{CATCH_ALL_MINOR:x}")]


def change_args(tree: ClassTree, dev: str, label: str) -> list[Argv]:
    """`class change` for every class: a tree of the same shape with other numbers."""
    minors = class_minors(tree)
    quanta, _ = deployed_quanta(tree, label)
    return [class_args("change", dev, c, minors[c.id], minors, quanta[c.id]) for c in tree.classes]


def upload_redirect(lan: str, ifb: str, networks: dict[str, tuple[str, ...]]) -> list[Argv]:
    """Feed uploads to an IFB device from the LAN side's ingress, before source NAT.

    Traffic to a site's own networks stays on the LAN (offices talking to each other); every
    other IP packet arriving from the sites is redirected to `ifb`, where the uploads tree
    classifies it by its (untranslated) source address.
    """
    head = ["filter", "add", "dev", lan, "parent", "ffff:", "protocol", "ip"]
    out: list[Argv] = [["qdisc", "add", "dev", lan, "handle", "ffff:", "ingress"]]
    for nets in networks.values():  # a match without action ends the search: the packet stays
        out += [
            [*head, "prio", "1", "u32", "match", "ip", "dst", n, "flowid", "ffff:1"] for n in nets
        ]
    redirect = ["action", "mirred", "egress", "redirect", "dev", ifb]
    return [*out, [*head, "prio", "2", "u32", "match", "ip", "dst", "0.0.0.0/0", *redirect]]


def link_args(dev: str, rate_bps: float, delay_ms: float = 0.0) -> list[Argv]:
    """Commands capping everything leaving dev at rate_bps (an access or upstream link).

    One HTB class; delay_ms > 0 puts a netem delay under it (only where the kernel has netem).
    """
    burst = str(burst_bytes(rate_bps))
    leaf = (
        ["netem", "delay", f"{delay_ms:.3f}ms", "limit", str(queue_packets(rate_bps))]
        if delay_ms > 0
        else fifo_args(rate_bps)
    )
    rate = bits(rate_bps)
    return [
        ["qdisc", "replace", "dev", dev, "root", "handle", "1:", "htb", "default", "1"],
        ["class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb"]
        + ["rate", rate, "ceil", rate, "burst", burst, "cburst", burst],
        ["qdisc", "add", "dev", dev, "parent", "1:1", "handle", "2:", *leaf],
    ]
