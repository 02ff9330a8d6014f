"""Names, environment checks and clean-up for emulation runs: everything carries the prefix "nl".

Every run draws a tag, "nl" plus three characters (e.g. "nlk3x"), and names all it creates after
it: hosts nlk3xi (internet), nlk3xh (hub), nlk3xs0.. (sites), the bridge nlk3xb0, interfaces
nlk3xs12-eth0 (at most 15 characters), agent processes started with `--run nlk3x`. A run records
its owner in RUN_DIR/<tag>.json. `cleanup()` removes what belongs to runs whose owner is dead
(or that have no record): the leftovers of a kill -9. It never touches a name without the
prefix, and never a live run's objects unless asked for that tag explicitly.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import string
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "nl"
RUN_DIR = Path("/run/netlab")
TAG_CHARS = string.ascii_lowercase + string.digits
TAG = re.compile(r"^nl[a-z0-9]{3}$")
# interfaces a run may leave in the root namespace: bridge, bridge ports, half-made host veths
IFACE = re.compile(r"^(nl[a-z0-9]{3})(?:i|h|b\d+|s\d+)(?:-eth\d+)?$")
# processes: Mininet's host shells ("mininet:nlk3xs0") and agents ("--run nlk3x")
PROC = re.compile(
    r"(?:mininet:(nl[a-z0-9]{3})(?:i|h|b\d+|s\d+)|--run\x00(nl[a-z0-9]{3}))(?:\x00|$)"
)
MAX_IFNAME = 15


class EmulationUnavailable(Exception):
    """The machine cannot emulate: one line saying what is missing and how to fix it.

    The CLI maps it to exit status 3.
    """


def check_environment() -> dict[str, bool]:
    """Raise EmulationUnavailable unless emulation can run here; return optional features.

    Needs root, mnexec (Debian package `mininet`), the Mininet Python API, tc/ip/brctl and HTB
    in the kernel. Probes netem (delay/loss) in a throw-away namespace: returns {"netem": bool}.
    """
    if os.geteuid() != 0:
        raise EmulationUnavailable(
            "emulation needs root (network namespaces, tc): run it with sudo or as root"
        )
    for tool, package in (
        ("mnexec", "mininet"),
        ("tc", "iproute2"),
        ("ip", "iproute2"),
        ("brctl", "bridge-utils"),
    ):
        if shutil.which(tool) is None:
            raise EmulationUnavailable(
                f"{tool} not found: install it with `apt-get install {package}`"
            )
    try:
        import mininet.net  # noqa: F401
    except ImportError as exc:
        raise EmulationUnavailable(
            "the Mininet Python API is missing: `pip install -e '.[emulation]'`"
        ) from exc
    if not _probe_qdisc(["htb"]):
        raise EmulationUnavailable(
            "the kernel has no HTB qdisc (sch_htb): load it with `modprobe sch_htb`"
        )
    return {"netem": _probe_qdisc(["netem", "delay", "1ms"])}


def _probe_qdisc(args: list[str]) -> bool:
    """Can a qdisc be attached to lo in a fresh network namespace (gone when tc exits)?"""
    result = subprocess.run(
        ["mnexec", "-n", "tc", "qdisc", "add", "dev", "lo", "root", *args],
        capture_output=True,
        text=True,
        timeout=10,
    )
    return result.returncode == 0


@dataclass
class Run:
    """One emulation run's tag and record; `close()` removes everything it created."""

    tag: str
    record: Path
    closed: bool = field(default=False)

    def name(self, suffix: str) -> str:
        name = self.tag + suffix
        if len(name) + len("-eth99") > MAX_IFNAME:
            raise ValueError(f"name {name!r} too long for interface names")
        return name

    def close(self) -> dict[str, list[str]]:
        """Remove every process and interface of this run, and its record."""
        if self.closed:
            return {"processes": [], "interfaces": []}
        removed = _remove({self.tag})
        self.record.unlink(missing_ok=True)
        self.closed = True
        return removed


def new_run() -> Run:
    """Draw a fresh tag (clearing leftovers of dead runs first) and record this process."""
    cleanup()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    in_use = _tags_in_use()
    while True:
        tag = PREFIX + "".join(secrets.choice(TAG_CHARS) for _ in range(3))
        if tag not in in_use:
            break
    record = RUN_DIR / f"{tag}.json"
    record.write_text(
        json.dumps(
            {"pid": os.getpid(), "started": time.time(), "start_ticks": _start_ticks(os.getpid())}
        )
    )
    return Run(tag, record)


def cleanup(tags: set[str] | None = None) -> dict[str, list[str]]:
    """Remove leftovers of dead runs (or of the given tags); return what was removed.

    A run is dead when its record is missing or names a process that no longer exists.
    Objects of live runs and anything without the "nl" prefix are left alone.
    """
    if tags is None:
        live = _live_tags()
        tags = {t for t in _tags_in_use() if t not in live}
    removed = _remove(tags)
    for tag in tags:
        (RUN_DIR / f"{tag}.json").unlink(missing_ok=True)
    return removed


def describe(removed: dict[str, list[str]]) -> str:
    """One line saying what `cleanup()` removed, by name, or that nothing was left."""
    parts = [f"{kind} {', '.join(names)}" for kind, names in removed.items() if names]
    if not parts:
        return "no leftovers of earlier runs"
    return "removed leftovers of earlier runs: " + "; ".join(parts)


def _tags_in_use() -> set[str]:
    """Tags seen anywhere: records, root-namespace interfaces, processes."""
    tags = {p.stem for p in RUN_DIR.glob("nl*.json") if TAG.match(p.stem)}
    tags |= {m.group(1) for name in _interfaces() if (m := IFACE.match(name))}
    tags |= {tag for _, tag in _processes()}
    return tags


def _live_tags() -> set[str]:
    live = set()
    for path in RUN_DIR.glob("nl*.json"):
        try:
            info = json.loads(path.read_text())
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _start_ticks(pid) is not None and _start_ticks(pid) == info.get("start_ticks"):
            live.add(path.stem)
    return live


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks (guards against pid reuse); None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def _interfaces() -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        parts = line.split(":", 2)
        if len(parts) >= 2:
            names.append(parts[1].strip().split("@", 1)[0])
    return names


def _processes() -> list[tuple[int, str]]:
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        match = PROC.search(cmdline)
        if match:
            found.append((int(entry.name), match.group(1) or match.group(2)))
    return found


def _processes_of(tag: str) -> int:
    """How many processes carry the tag (host shells and agents)."""
    return sum(1 for _, t in _processes() if t == tag)


def _remove(tags: set[str]) -> dict[str, list[str]]:
    """Kill the tags' processes (agents first, then host shells), delete their interfaces."""
    removed: dict[str, list[str]] = {"processes": [], "interfaces": []}
    if not tags:
        return removed
    for _ in range(3):
        procs = [(pid, tag) for pid, tag in _processes() if tag in tags]
        if not procs:
            break
        for pid, tag in procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                removed["processes"].append(f"{pid} ({tag})")
        time.sleep(0.1)
    for name in _interfaces():
        match = IFACE.match(name)
        if match and match.group(1) in tags:
            result = subprocess.run(["ip", "link", "del", name], capture_output=True)
            if result.returncode == 0:
                removed["interfaces"].append(name)
    return removed


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM/SIGHUP so that clean-up code runs."""


_signalled: list[int] = []  # the signals received inside signals_raise(), first first


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise Terminated and Ctrl-C KeyboardInterrupt.

    Python drops an exception raised while a finalizer runs ("Exception ignored in ..."), so
    a signal landing there would be lost and the run would go on: the signal is also recorded,
    for `raise_if_signalled` to raise again between events.
    """

    def handler(signum: int, _frame: object) -> None:
        _signalled.append(signum)
        raise _exception(signum)

    previous = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread: leave signals alone
        previous = {}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _signalled.clear()


def raise_if_signalled() -> None:
    """Raise for a signal received inside signals_raise() whose exception was lost."""
    if _signalled:
        raise _exception(_signalled[0])


def _exception(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(f"signal {signum}")
