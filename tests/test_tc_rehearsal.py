"""A failed apply leaves the previous shaping in force (issue 9, item 8), in a network namespace.

The exported script rehearses every command on a throw-away veth pair before touching the real
devices: with a command tc refuses, or cut short, it changes nothing. The emulator's Shaper puts
the previous tree back when tc refuses a command half-way, whether it was rebuilding the tree
or changing its numbers. Needs root (namespaces) and mnexec (the Shaper enters the namespace).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import sim.backends.mininet.shaper as shaper_module
from sim.backends.mininet.shaper import Shaper, TcError
from sim.shaping.deployment import Deployment
from sim.shaping.plan import ClassTree, HtbClass, ShapingPlan
from sim.shaping.tc import DeviceProgram
from sim.shaping.tc_script import to_tc_script
from tests.netns import veth_namespace

SITES = {"a": "10.9.0.1", "b": "10.9.0.2"}
WHERE = Deployment({s: (f"{ip}/32",) for s, ip in SITES.items()}, "lan0", "wan0", False, ())
BAD = "tc class change dev lan0 parent 1:1 classid 1:55 htb rate 1mbit"  # no class 1:55


def _tree(mbps: float, split: bool = False) -> ClassTree:
    """Two sites under a root of mbps; split: site b under a tier (another shape)."""
    root = HtbClass("root", None, mbps * 1e6, mbps * 1e6)
    if not split:
        return ClassTree(
            (
                root,
                HtbClass("a", "root", mbps * 4e5, mbps * 1e6, 0, None, "a"),
                HtbClass("b", "root", mbps * 6e5, mbps * 1e6, 0, None, "b"),
            )
        )
    return ClassTree(
        (
            root,
            HtbClass("a", "root", mbps * 4e5, mbps * 1e6, 0, None, "a"),
            HtbClass("tier", "root", mbps * 6e5, mbps * 1e6),
            HtbClass("b", "tier", mbps * 6e5, mbps * 1e6, 0, None, "b"),
        )
    )


def _run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert not check or done.returncode == 0, f"{' '.join(argv)}: {done.stderr.strip()}"
    return done


@pytest.fixture
def namespace() -> Iterator[tuple[str, int]]:
    """A fresh namespace with veth devices lan0 and wan0 (up) and a process inside it."""
    with veth_namespace("lan0", "wan0") as where:
        yield where


def _state(ns: str) -> list[str]:
    """Every qdisc, class and filter on both devices, and the namespace's links."""
    out = []
    for dev in ("lan0", "wan0"):
        for what in ("qdisc", "class", "filter"):
            out.append(
                _run(["ip", "netns", "exec", ns, "tc", "-d", what, "show", "dev", dev]).stdout
            )
    links = _run(["ip", "-n", ns, "-o", "link", "show"]).stdout
    return [*out, " ".join(sorted(line.split(":")[1].strip() for line in links.splitlines()))]


def _script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    assert _run(["sh", "-n", str(path)], check=False).returncode == 0
    return path


def _sh(ns: str, script: Path) -> subprocess.CompletedProcess[str]:
    return _run(["ip", "netns", "exec", ns, "sh", str(script)], check=False)


def test_a_script_tc_refuses_leaves_the_old_tree(namespace, tmp_path) -> None:
    ns, _ = namespace
    old = to_tc_script(ShapingPlan("old", _tree(10), _tree(10)), WHERE)
    assert _sh(ns, _script(tmp_path, "old.sh", old)).returncode == 0
    before = _state(ns)
    assert "rate 4Mbit" in before[1]  # site a's leaf on lan0
    new = to_tc_script(ShapingPlan("new", _tree(20, split=True), _tree(20)), WHERE)
    lines = new.splitlines()
    last_filter = max(i for i, line in enumerate(lines) if line.startswith("tc filter"))
    broken = [*lines[:last_filter], BAD, *lines[last_filter:]]  # late in the upload tree
    done = _sh(ns, _script(tmp_path, "broken.sh", "\n".join(broken) + "\n"))
    assert done.returncode != 0
    assert "the shaping in force is unchanged" in done.stderr
    assert _state(ns) == before  # no class changed, no stand-in device left
    assert _sh(ns, _script(tmp_path, "new.sh", new)).returncode == 0
    after = _state(ns)
    assert after != before and "rate 8Mbit" in after[1] and after[-1] == before[-1]


def test_a_truncated_script_changes_nothing(namespace, tmp_path) -> None:
    ns, _ = namespace
    old = to_tc_script(ShapingPlan("old", _tree(10), _tree(10)), WHERE)
    assert _sh(ns, _script(tmp_path, "old.sh", old)).returncode == 0
    before = _state(ns)
    new = to_tc_script(ShapingPlan("new", _tree(20, split=True), _tree(20)), WHERE)
    for cut in (0.3, 0.6, 0.9):
        path = tmp_path / f"cut-{cut}.sh"
        path.write_text(new[: int(len(new) * cut)])
        _sh(ns, path)
        assert _state(ns) == before, f"cut at {cut:.0%}"


NEW_ROOT_BPS = 20e6  # the trees the tests fail to put in force have this root


def _failing_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rebuilding a new tree runs a command tc refuses, after the classes."""
    compile_device = shaper_module.compile_device

    def broken(tree: ClassTree, *args: object) -> DeviceProgram:
        program = compile_device(tree, *args)  # type: ignore[arg-type]
        if tree.root.rate != NEW_ROOT_BPS:
            return program
        build = [*program.build, BAD.split()[1:]]
        return DeviceProgram(program.dev, program.reset, build, program.warnings)

    monkeypatch.setattr(shaper_module, "compile_device", broken)


def _failing_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing to a new tree changes two classes, then runs a command tc refuses."""
    change_args = shaper_module.change_args

    def broken(tree: ClassTree, dev: str, label: str) -> list[list[str]]:
        argv = change_args(tree, dev, label)
        return [*argv[:2], BAD.split()[1:]] if tree.root.rate == NEW_ROOT_BPS else argv

    monkeypatch.setattr(shaper_module, "change_args", broken)


def test_the_emulator_puts_the_old_tree_back_when_a_rebuild_fails(namespace, monkeypatch) -> None:
    ns, pid = namespace
    shaper = Shaper(pid, "lan0", "dst", SITES)
    shaper.apply(_tree(10))
    before = _state(ns)
    _failing_build(monkeypatch)
    with pytest.raises(TcError):
        shaper.apply(_tree(20, split=True))
    assert _state(ns) == before
    assert shaper.tree == _tree(10)
    shaper.verify()


def test_the_emulator_changes_numbers_back_when_a_change_fails(namespace, monkeypatch) -> None:
    ns, pid = namespace
    shaper = Shaper(pid, "lan0", "dst", SITES)
    shaper.apply(_tree(10))
    before = _state(ns)
    _failing_change(monkeypatch)
    with pytest.raises(TcError):
        shaper.apply(_tree(20))  # same shape: root and a changed, then tc refuses
    assert _state(ns) == before
    assert shaper.tree == _tree(10)
