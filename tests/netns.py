"""A throw-away network namespace with veth devices, for tests that apply tc as root."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr.strip()}"


@contextmanager
def veth_namespace(*devices: str) -> Iterator[tuple[str, int]]:
    """A fresh namespace `nlt-<pid>-<random>` holding `devices` (each a veth whose peer is
    `<device>p`, all up) and a process inside it; yields (name, that process's pid) and
    removes everything afterwards. Skips the test without root or mnexec."""
    if os.geteuid() != 0 or shutil.which("mnexec") is None:
        pytest.skip("needs root and mnexec (make system-deps)")
    ns = f"nlt-{os.getpid()}-{secrets.token_hex(3)}"
    _ip("netns", "add", ns)
    holder = None
    try:
        for dev in devices:
            _ip("-n", ns, "link", "add", dev, "type", "veth", "peer", "name", f"{dev}p")
            _ip("-n", ns, "link", "set", dev, "up")
        holder = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "600"])
        yield ns, holder.pid
    finally:
        if holder is not None:
            holder.kill()
            holder.wait(timeout=30)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=60)
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=60)
    assert ns not in listed.stdout
