"""Executing the tc compiler's commands in a namespace, and reading the kernel's classes back.

One `Shaper` owns the HTB tree of one direction on one hub interface inside one namespace (the
hub's LAN side for downloads, classified by destination address; its WAN side for uploads, by
source). The commands come from sim.shaping.tc, the compiler `netlab export` writes as a script
too; here they run as one `tc -batch` per device (argument lists, never a shell), and the tree is
read back and checked. A later plan with the same classes is put in force with `tc class
change`, one with different classes by rebuilding the tree (byte counters carry over); if tc
refuses a command half-way, the previous tree is put back before the error is raised. Counters
are parsed from `tc -s class show`: iproute2 6.1 prints HTB class statistics as text even with -j.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from sim.shaping.plan import ClassTree, kernel_quantum
from sim.shaping.tc import (
    Match,
    change_args,
    class_minors,
    compile_device,
    deployed_quanta,
)

TC_TIMEOUT = 30


class TcError(RuntimeError):
    """tc refused a command, or the kernel's classes differ from the plan."""


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


@dataclass(frozen=True)
class Counters:
    bytes: int
    packets: int
    drops: int


@dataclass
class ShownClass:
    """One class as `tc -s -d class show` lists it (a figure it leaves out is None)."""

    parent: str | None  # None: the root
    rate: float | None = None  # bit/s
    ceil: float | None = None
    prio: int | None = None
    quantum: int | None = None
    counters: Counters = Counters(0, 0, 0)
    backlog: float | None = None  # bytes queued in the class when it was shown


_CLASS = re.compile(r"^class htb (\d+:[0-9a-f]+) (?:parent (\d+:[0-9a-f]+)|root)(.*)$")
_SENT = re.compile(r"Sent (\d+) bytes (\d+) pkt \(dropped (\d+),")
_BACKLOG = re.compile(r"\bbacklog (\d+(?:\.\d+)?)([KM]?)b ")
_SIZE = {"": 1.0, "K": 1024.0, "M": 1024.0 * 1024.0}  # iproute2's sprint_size
_RATE = re.compile(r"\b(rate|ceil) ([\d.]+)([KMG]?)bit\b")
_NUM = re.compile(r"\b(prio|quantum) (\d+)\b")
_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}


def parse_classes(text: str) -> dict[str, ShownClass]:
    """`tc -s -d class show` text as its classes by classid."""
    classes: dict[str, ShownClass] = {}
    current: ShownClass | None = None
    for line in text.splitlines():
        match = _CLASS.match(line.strip())
        if match:
            rates = {k: float(v) * _SCALE[unit] for k, v, unit in _RATE.findall(match.group(3))}
            numbers = {k: int(v) for k, v in _NUM.findall(match.group(3))}
            current = ShownClass(
                match.group(2),
                rates.get("rate"),
                rates.get("ceil"),
                numbers.get("prio"),
                numbers.get("quantum"),
            )
            classes[match.group(1)] = current
            continue
        sent = _SENT.search(line)
        if sent and current is not None:
            current.counters = Counters(*(int(g) for g in sent.groups()))
        backlog = _BACKLOG.search(line)
        if backlog and current is not None:
            current.backlog = float(backlog.group(1)) * _SIZE[backlog.group(2)]
    return classes


class Shaper:
    """The HTB tree of one direction on one hub interface (see the module docstring).

    site_ips maps each site to its host's address; the site's network is that one address.
    """

    def __init__(self, pid: int | None, dev: str, match: str, site_ips: dict[str, str]) -> None:
        if match not in ("src", "dst"):
            raise ValueError("match is 'src' or 'dst'")
        self.pid = pid
        self.dev = dev
        self.match: Match = "src" if match == "src" else "dst"
        self.networks: dict[str, tuple[str, ...]] = {
            site: (f"{ip}/32",) for site, ip in site_ips.items()
        }
        self.label = f"{dev} ({'downloads' if self.match == 'dst' else 'uploads'})"
        self.tree: ClassTree | None = None
        self.minor: dict[str, str] = {}  # plan class id -> "1:<hex>"
        self.offset: dict[str, Counters] = {}  # per site: counters of trees replaced before
        self.warnings: list[str] = []  # what the compiler said about the trees applied
        self.rebuilds = 0
        self.changes = 0

    @staticmethod
    def _shape(tree: ClassTree) -> list[tuple[str, str | None, str | None]]:
        return [(c.id, c.parent, c.site) for c in tree.classes]

    def apply(self, tree: ClassTree) -> None:
        """Put the tree in force: change in place if only numbers differ, else rebuild.

        If tc refuses a command half-way, or the kernel's classes differ from the tree, the
        previous tree is put back before TcError is raised: a failed apply leaves the previous
        shaping in force."""
        previous = self.tree
        same_shape = previous is not None and self._shape(previous) == self._shape(tree)
        try:
            self._put(tree, same_shape, carry=True)
            self.verify()
        except TcError:
            if previous is not None:
                self._put(previous, same_shape, carry=False)
            raise

    def _put(self, tree: ClassTree, same_shape: bool, carry: bool) -> None:
        if same_shape:
            self._change(tree)
        else:
            self._rebuild(tree, carry)

    def _change(self, tree: ClassTree) -> None:
        self.tree = tree
        run_batch(self.pid, change_args(tree, self.dev, self.label))
        self.changes += 1

    def _rebuild(self, tree: ClassTree, carry: bool) -> None:
        """A fresh tree; carry: add the counters of the tree it replaces to the offsets."""
        if self.tree is not None and carry:
            self._carry_counters()
        program = compile_device(tree, self.dev, self.match, self.networks, self.label)
        self.tree = tree
        self.minor = {cid: f"1:{m:x}" for cid, m in class_minors(tree).items()}
        run_tc(self.pid, program.reset, check=False)
        run_batch(self.pid, program.build)
        self.warnings += [w for w in program.warnings if w not in self.warnings]
        self.rebuilds += 1

    def _carry_counters(self) -> None:
        for site, now in self._leaf_counters_raw().items():
            old = self.offset.get(site, Counters(0, 0, 0))
            self.offset[site] = Counters(
                old.bytes + now.bytes, old.packets + now.packets, old.drops + now.drops
            )

    def show(self) -> dict[str, ShownClass]:
        return parse_classes(run_tc(self.pid, ["-s", "-d", "class", "show", "dev", self.dev]))

    def verify(self) -> None:
        """Read the classes back; raise TcError where the kernel differs from the plan."""
        assert self.tree is not None
        shown = self.show()
        problems = []
        quanta, _ = deployed_quanta(self.tree, self.label)
        leaves = {c.id for c in self.tree.leaves}
        for c in self.tree.classes:
            got = shown.get(self.minor[c.id])
            if got is None:
                problems.append(f"class {c.id} missing")
                continue
            want_parent = self.minor[c.parent] if c.parent is not None else None
            if got.parent != want_parent:
                problems.append(f"class {c.id}: parent {got.parent}")
            for key, want, shown_bps in (("rate", c.rate, got.rate), ("ceil", c.ceil, got.ceil)):
                value = 0.0 if shown_bps is None else shown_bps
                if abs(value - want) > 0.01 * want + 1000:
                    problems.append(f"class {c.id}: {key} {value:.0f} != {want:.0f}")
            given = quanta[c.id]
            quantum = kernel_quantum(c) if given is None else given
            if c.id in leaves and got.quantum not in (None, quantum):
                problems.append(f"class {c.id}: quantum {got.quantum} != {quantum}")
        if problems:
            raise TcError(
                f"{self.dev}: kernel classes differ from the plan: " + "; ".join(problems[:5])
            )

    def leaf_readings(self) -> tuple[dict[str, Counters], dict[str, float | None]]:
        """Cumulative counters per site leaf (as leaf_counters) and each leaf's backlog in
        bytes, from one `tc -s class show`: what a live controller observes."""
        shown = self.show()
        raw = self._leaf_counters_raw(shown)
        assert self.tree is not None
        backlog = {
            c.site: got.backlog if (got := shown.get(self.minor[c.id])) is not None else None
            for c in self.tree.leaves
            if c.site is not None
        }
        return self._with_offsets(raw), backlog

    def _leaf_counters_raw(self, shown: dict[str, ShownClass] | None = None) -> dict[str, Counters]:
        assert self.tree is not None
        shown = self.show() if shown is None else shown
        out: dict[str, Counters] = {}
        for c in self.tree.classes:
            if c.site is not None:  # a leaf (ClassTree.leaves, with its site known not None)
                got = shown.get(self.minor[c.id])
                out[c.site] = Counters(0, 0, 0) if got is None else got.counters
        return out

    def leaf_counters(self) -> dict[str, Counters]:
        """Cumulative counters per site leaf since the first plan (across rebuilds)."""
        return self._with_offsets(self._leaf_counters_raw())

    def _with_offsets(self, raw: dict[str, Counters]) -> dict[str, Counters]:
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
            cid: Counters(0, 0, 0) if (got := shown.get(minor)) is None else got.counters
            for cid, minor in self.minor.items()
        }
