"""ShapingPlan to Linux tc: HTB classes with explicit quantum and sized bursts, u32 filters.

One `Shaper` owns the HTB tree on one interface inside one namespace (the hub's LAN side for
downloads, classified by destination address; its WAN side for uploads, by source). A plan is
applied in one `tc -batch` (argument lists, never a shell), read back and checked; a later plan
with the same classes is put in force with `tc class change`, one with different classes by
rebuilding the tree (byte counters carry over). Counters are parsed from `tc -s class show`:
iproute2 6.1 prints HTB class statistics as text even with -j.

Kernel facts this follows (DESIGN.md §4): burst and cburst must hold >= 50 ms of the rate
(at least 15 kB) or ceilings are not reached; quantum comes from the plan (already >= 100 kB);
HTB counts L2 bytes.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from sim.shaping.export import burst_bytes, queue_packets
from sim.shaping.plan import ClassTree, HtbClass, kernel_quantum

TC_TIMEOUT = 30


class TcError(RuntimeError):
    """tc refused a command, or the kernel's classes differ from the plan."""


def _bits(rate_bps: float) -> str:
    return f"{max(1, round(rate_bps))}bit"


def in_namespace(pid: int | None, argv: list[str]) -> list[str]:
    """argv run in the network namespace of process pid (None: this namespace)."""
    return argv if pid is None else ["mnexec", "-a", str(pid), *argv]


def run_tc(
    pid: int | None, args: list[str], input_text: str | None = None, check: bool = True
) -> str:
    result = subprocess.run(
        in_namespace(pid, ["tc", *args]),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=TC_TIMEOUT,
    )
    if check and result.returncode != 0:
        raise TcError(f"tc {' '.join(args[:4])}...: {result.stderr.strip()}")
    return result.stdout


def _batch_text(lines: list[list[str]]) -> str:
    for line in lines:
        for token in line:
            if not re.fullmatch(r"[A-Za-z0-9_.:/-]+", token):
                raise TcError(f"refusing tc token {token!r}")
    return "\n".join(" ".join(line) for line in lines) + "\n"


def run_batch(pid: int | None, lines: list[list[str]]) -> None:
    """Run tc commands (each an argument list of plain tokens) in one `tc -batch -`."""
    run_tc(pid, ["-batch", "-"], _batch_text(lines))


def run_batches(jobs: list[tuple[int | None, list[list[str]]]]) -> None:
    """Several batches, one per namespace, run concurrently; raise if any failed."""
    procs = []
    for pid, lines in jobs:
        proc = subprocess.Popen(
            in_namespace(pid, ["tc", "-batch", "-"]),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append((proc, _batch_text(lines)))
    errors = []
    for proc, text in procs:
        _out, err = proc.communicate(text, timeout=TC_TIMEOUT)
        if proc.returncode != 0:
            errors.append(err.strip())
    if errors:
        raise TcError(f"tc -batch failed: {errors[0]}")


def link_lines(dev: str, rate_bps: float, delay_ms: float = 0.0) -> list[list[str]]:
    """Commands capping everything leaving dev at rate_bps (an access or upstream link).

    One HTB class; delay_ms > 0 puts a netem delay under it (only where the kernel has netem).
    """
    burst = str(burst_bytes(rate_bps))
    limit = str(queue_packets(rate_bps))
    leaf = (
        ["netem", "delay", f"{delay_ms:.3f}ms", "limit", limit]
        if delay_ms > 0
        else ["pfifo", "limit", limit]
    )
    return [
        ["qdisc", "replace", "dev", dev, "root", "handle", "1:", "htb", "default", "1"],
        [
            "class",
            "add",
            "dev",
            dev,
            "parent",
            "1:",
            "classid",
            "1:1",
            "htb",
            "rate",
            _bits(rate_bps),
            "ceil",
            _bits(rate_bps),
            "burst",
            burst,
            "cburst",
            burst,
        ],
        ["qdisc", "add", "dev", dev, "parent", "1:1", "handle", "2:", *leaf],
    ]


def shape_link(pid: int | None, dev: str, rate_bps: float, delay_ms: float = 0.0) -> None:
    """Cap everything leaving dev at rate_bps (see link_lines)."""
    run_batch(pid, link_lines(dev, rate_bps, delay_ms))


@dataclass(frozen=True)
class Counters:
    bytes: int
    packets: int
    drops: int


_CLASS = re.compile(r"^class htb (\d+:[0-9a-f]+) (?:parent (\d+:[0-9a-f]+)|root)(.*)$")
_SENT = re.compile(r"Sent (\d+) bytes (\d+) pkt \(dropped (\d+),")
_RATE = re.compile(r"\b(rate|ceil) ([\d.]+)([KMG]?)bit\b")
_NUM = re.compile(r"\b(prio|quantum) (\d+)\b")
_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}


def parse_classes(text: str) -> dict[str, dict[str, object]]:
    """`tc -s -d class show` text as {classid: {parent, rate, ceil, prio, quantum, counters}}."""
    classes: dict[str, dict[str, object]] = {}
    current: dict[str, object] | None = None
    for line in text.splitlines():
        match = _CLASS.match(line.strip())
        if match:
            current = {"parent": match.group(2)}
            for key, value, unit in _RATE.findall(match.group(3)):
                current[key] = float(value) * _SCALE[unit]
            for key, value in _NUM.findall(match.group(3)):
                current[key] = int(value)
            classes[match.group(1)] = current
            continue
        sent = _SENT.search(line)
        if sent and current is not None:
            current["counters"] = Counters(*(int(g) for g in sent.groups()))
    return classes


class Shaper:
    """The HTB tree of one direction on one hub interface (see the module docstring)."""

    def __init__(self, pid: int | None, dev: str, match: str, site_ips: dict[str, str]) -> None:
        if match not in ("src", "dst"):
            raise ValueError("match is 'src' or 'dst'")
        self.pid = pid
        self.dev = dev
        self.match = match
        self.site_ips = site_ips
        self.tree: ClassTree | None = None
        self.minor: dict[str, str] = {}  # plan class id -> "1:<hex>"
        self.offset: dict[str, Counters] = {}  # per site: counters of trees replaced before
        self.rebuilds = 0
        self.changes = 0

    @staticmethod
    def _shape(tree: ClassTree) -> list[tuple[str, str | None, str | None]]:
        return [(c.id, c.parent, c.site) for c in tree.classes]

    def apply(self, tree: ClassTree) -> None:
        """Put the tree in force: change in place if only numbers differ, else rebuild."""
        if self.tree is not None and self._shape(self.tree) == self._shape(tree):
            run_batch(self.pid, [self._class_line("change", c) for c in tree.classes])
            self.changes += 1
        else:
            if self.tree is not None:
                self._carry_counters()
                run_tc(self.pid, ["qdisc", "del", "dev", self.dev, "root"], check=False)
            self.minor = {c.id: f"1:{i + 1:x}" for i, c in enumerate(tree.classes)}
            run_batch(self.pid, self._build_lines(tree))
            self.rebuilds += 1
        self.tree = tree
        self.verify()

    def _class_line(self, verb: str, c: HtbClass) -> list[str]:
        parent = self.minor[c.parent] if c.parent is not None else "1:"
        return [
            "class",
            verb,
            "dev",
            self.dev,
            "parent",
            parent,
            "classid",
            self.minor[c.id],
            "htb",
            "rate",
            _bits(c.rate),
            "ceil",
            _bits(c.ceil),
            "burst",
            str(burst_bytes(c.rate)),
            "cburst",
            str(burst_bytes(c.ceil)),
            "prio",
            str(c.prio),
            "quantum",
            str(kernel_quantum(c)),
        ]

    def _build_lines(self, tree: ClassTree) -> list[list[str]]:
        dev = self.dev
        lines = [["qdisc", "replace", "dev", dev, "root", "handle", "1:", "htb", "default", "0"]]
        has_kids = {c.parent for c in tree.classes}
        for c in tree.classes:
            lines.append(self._class_line("add", c))
            if c.id not in has_kids:
                handle = f"{int(self.minor[c.id].split(':')[1], 16) + 1:x}:"
                lines.append(
                    [
                        "qdisc",
                        "add",
                        "dev",
                        dev,
                        "parent",
                        self.minor[c.id],
                        "handle",
                        handle,
                        "pfifo",
                        "limit",
                        str(queue_packets(c.ceil)),
                    ]
                )
        for c in tree.leaves:
            assert c.site is not None
            lines.append(
                [
                    "filter",
                    "add",
                    "dev",
                    dev,
                    "parent",
                    "1:",
                    "protocol",
                    "ip",
                    "prio",
                    "1",
                    "u32",
                    "match",
                    "ip",
                    self.match,
                    f"{self.site_ips[c.site]}/32",
                    "flowid",
                    self.minor[c.id],
                ]
            )
        return lines

    def _carry_counters(self) -> None:
        for site, now in self._leaf_counters_raw().items():
            old = self.offset.get(site, Counters(0, 0, 0))
            self.offset[site] = Counters(
                old.bytes + now.bytes, old.packets + now.packets, old.drops + now.drops
            )

    def show(self) -> dict[str, dict[str, object]]:
        return parse_classes(run_tc(self.pid, ["-s", "-d", "class", "show", "dev", self.dev]))

    def verify(self) -> None:
        """Read the classes back; raise TcError where the kernel differs from the plan."""
        assert self.tree is not None
        shown = self.show()
        problems = []
        for c in self.tree.classes:
            got = shown.get(self.minor[c.id])
            if got is None:
                problems.append(f"class {c.id} missing")
                continue
            want_parent = self.minor[c.parent] if c.parent is not None else None
            if got.get("parent") != want_parent:
                problems.append(f"class {c.id}: parent {got.get('parent')}")
            for key, want in (("rate", c.rate), ("ceil", c.ceil)):
                value = float(got.get(key, 0.0))  # type: ignore[arg-type]
                if abs(value - want) > 0.01 * want + 1000:
                    problems.append(f"class {c.id}: {key} {value:.0f} != {want:.0f}")
            quantum = kernel_quantum(c)
            if got.get("quantum", quantum) != quantum:
                problems.append(f"class {c.id}: quantum {got.get('quantum')} != {quantum}")
        if problems:
            raise TcError(
                f"{self.dev}: kernel classes differ from the plan: " + "; ".join(problems[:5])
            )

    def _leaf_counters_raw(self) -> dict[str, Counters]:
        assert self.tree is not None
        shown = self.show()
        out = {}
        for c in self.tree.leaves:
            got = shown.get(self.minor[c.id], {})
            out[c.site] = got.get("counters", Counters(0, 0, 0))  # type: ignore[index]
        return out  # type: ignore[return-value]

    def leaf_counters(self) -> dict[str, Counters]:
        """Cumulative counters per site leaf since the first plan (across rebuilds)."""
        raw = self._leaf_counters_raw()
        out = {}
        for site in set(raw) | set(self.offset):
            a = raw.get(site, Counters(0, 0, 0))
            b = self.offset.get(site, Counters(0, 0, 0))
            out[site] = Counters(a.bytes + b.bytes, a.packets + b.packets, a.drops + b.drops)
        return out

    def class_counters(self) -> dict[str, Counters]:
        """Counters of every class of the current tree, by plan class id (this tree only)."""
        shown = self.show()
        return {
            cid: shown.get(minor, {}).get("counters", Counters(0, 0, 0))  # type: ignore[misc]
            for cid, minor in self.minor.items()
        }
