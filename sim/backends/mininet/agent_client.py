"""The controlling side of the traffic agents: start one agent per host, send commands, read events.

Each agent (host_agent.py) runs inside its Mininet host for the whole run. A reader thread per agent
turns its stdout lines into (host label, event) tuples on one shared queue; the SimPy side drains
that queue (backend.py), so no SimPy state is touched from a thread.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

# run by path, isolated and without site-packages: the agent needs only the standard library,
# and 50 agents start twice as fast this way
AGENT_SCRIPT = str(Path(__file__).with_name("host_agent.py"))
PORT = 5201
READY_TIMEOUT_S = 30.0

Event = tuple[str, dict[str, Any]]


class AgentError(RuntimeError):
    """An agent did not start or died."""


class AgentProcess:
    """One agent process inside one host."""

    def __init__(
        self,
        host: Any,
        label: str,
        tag: str,
        events: queue.Queue[Event],
        listen: bool,
        congestion: str,
    ) -> None:
        argv = [sys.executable, "-I", "-S", AGENT_SCRIPT, "--run", tag, "--cc", congestion]
        if listen:
            argv += ["--listen", str(PORT)]
        self.label = label
        self.process = host.popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.errors: deque[str] = deque(maxlen=20)
        self.ready = False  # said "ready"
        self.settled = threading.Event()  # said "ready", or its output ended
        self._lock = threading.Lock()
        self._events = events
        threading.Thread(target=self._read, daemon=True, name=f"agent-{label}").start()
        threading.Thread(target=self._read_errors, daemon=True, name=f"agent-{label}-err").start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                self.errors.append(line.strip())
                continue
            if event.get("ev") == "ready":
                self.ready = True
                self.settled.set()
            else:
                self._events.put((self.label, event))
        self.settled.set()
        self._events.put((self.label, {"ev": "exit"}))

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.errors.append(line.rstrip())

    def send(self, command: dict[str, Any]) -> None:
        line = json.dumps(command, separators=(",", ":")) + "\n"
        with self._lock:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(line)
                self.process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError) as exc:
                raise AgentError(f"agent {self.label} is gone: {self.last_error()}") from exc

    def last_error(self) -> str:
        return self.errors[-1] if self.errors else "no message"

    def stop(self, timeout: float = 2.0) -> None:
        if self.process.poll() is None:
            try:
                self.send({"op": "quit"})
                self.process.stdin.close()
            except (AgentError, OSError):
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


class Agents:
    """All agents of one network: a server agent on the internet host, one per site host."""

    def __init__(
        self, internet: Any, sites: dict[str, Any], tag: str, server_ip: str, congestion: str
    ) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.server_ip = server_ip
        self.server = AgentProcess(internet, "internet", tag, self.events, True, congestion)
        self.sites = {
            site: AgentProcess(host, site, tag, self.events, False, congestion)
            for site, host in sites.items()
        }
        deadline = time.monotonic() + READY_TIMEOUT_S
        for agent in [self.server, *self.sites.values()]:
            agent.settled.wait(max(0.0, deadline - time.monotonic()))
            if not agent.ready:
                self.stop()
                raise AgentError(f"agent {agent.label} did not start: {agent.last_error()}")

    def start_flow(
        self, site: str, flow_id: int, direction: str, size: float, rate_bps: float
    ) -> None:
        """A download (get) or upload (put) of `size` payload bytes between site and internet."""
        self.sites[site].send(
            {
                "op": "get" if direction == "down" else "put",
                "id": flow_id,
                "peer": self.server_ip,
                "port": PORT,
                "size": max(1, int(size)),
                "rate": rate_bps,
            }
        )

    def cancel(self, site: str, flow_id: int) -> None:
        for agent in (self.sites[site], self.server):
            agent.send({"op": "cancel", "id": flow_id})

    def drain(self) -> list[Event]:
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def stop(self) -> None:
        for agent in [*self.sites.values(), self.server]:
            agent.stop()
