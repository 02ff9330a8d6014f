"""Traffic agent: one long-lived process per Mininet host, driven by JSON lines on stdin.

Run inside a host as `python -I -S host_agent.py --run TAG [--listen PORT] [--cc NAME]`
(standard library only, so it starts fast). `--cc` sets every connection's TCP congestion
control with a socket option: a network namespace cannot make an algorithm outside the
machine's `tcp_allowed_congestion_control` its default (sysctl there fails with EPERM), but a
root process may pick any available one per socket. Commands, one JSON object a line:

  {"op": "get", "id": 7, "peer": "10.255.0.1", "port": 5201, "size": 1e6, "rate": 0}
      fetch `size` bytes from the peer's agent (a download); rate > 0 paces the sender
      at that many bits/s (payload), 0 sends greedily.
  {"op": "put", ...}   the same, but this agent sends (an upload); the peer reports.
  {"op": "cancel", "id": 7}   close flow 7 if this agent holds it.
  {"op": "quit"}

Events on stdout, one JSON object a line, always from the receiving side of a flow:
  {"ev": "ready"}                                      listening and reading commands
  {"ev": "done", "id": 7, "bytes": 1000000, "t": T}    all bytes arrived (T: time.monotonic())
  {"ev": "end", "id": 7, "bytes": 123, "t": T, "why": "cancel"|"eof"|"error"}
  {"ev": "progress", "t": T, "flows": {"7": 123, ...}} every PROGRESS_S, receiving flows
  {"ev": "error", "id": 7, "msg": "..."}               a flow could not start

Wire format: the connecting side sends a 32-byte header (op 'G' or 'P', flow id, size, rate);
then payload flows one way. Many hundreds of flows run concurrently on one asyncio loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import struct
import sys
import time
from typing import Any

HEADER = struct.Struct("!cxxxxxxxQQd")  # op, pad, id, size (bytes), rate (bits/s)
CHUNK = 64 * 1024
PAYLOAD = memoryview(b"\x00" * CHUNK)
TICK_S = 0.02  # pacing tick
MAX_TOKENS_S = 0.5  # a paced sender catches up at most this much time of its rate
PROGRESS_S = 1.0
# An elastic flow's receiver wakes when this many bytes wait (or at the flow's end) instead of
# for every packet: half the downloads' CPU on the regency at full rate. Paced flows keep 1,
# since their progress reports judge whether they got their rate.
LOWAT = 64 * 1024
congestion: bytes | None = None  # --cc, set once at start


def tune(transport: asyncio.BaseTransport) -> None:
    """Give a new connection the run's congestion control (before it sends payload)."""
    sock = transport.get_extra_info("socket")
    if congestion is not None and sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, congestion)


def stream(transport: asyncio.BaseTransport) -> asyncio.Transport:
    """The transport asyncio gives a stream protocol: a Transport, typed as its base class."""
    assert isinstance(transport, asyncio.Transport)
    return transport


def low_water(transport: asyncio.BaseTransport, nbytes: int) -> None:
    """Wake the receiving protocol only when nbytes wait in the socket (SO_RCVLOWAT)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, nbytes)


def emit(event: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Agent:
    def __init__(self) -> None:
        self.receivers: dict[int, Receiver] = {}
        self.senders: dict[int, Sender] = {}
        self.paced: set[Sender] = set()
        self.pacing: asyncio.Task[None] | None = None  # the pacer, while anything is paced
        self.changed: set[int] = set()

    # -- receiving ----------------------------------------------------------------------

    def received(self, receiver: Receiver) -> None:
        self.changed.add(receiver.flow_id)

    def finished(self, receiver: Receiver, why: str) -> None:
        if self.receivers.pop(receiver.flow_id, None) is None:
            return
        self.changed.discard(receiver.flow_id)
        event = "done" if why == "done" else "end"
        emit(
            {
                "ev": event,
                "id": receiver.flow_id,
                "bytes": receiver.got,
                "t": time.monotonic(),
                **({} if event == "done" else {"why": why}),
            }
        )

    async def progress(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_S)
            if self.changed:
                flows = {str(i): self.receivers[i].got for i in self.changed if i in self.receivers}
                self.changed.clear()
                emit({"ev": "progress", "t": time.monotonic(), "flows": flows})

    # -- sending ------------------------------------------------------------------------

    def pace(self, sender: Sender) -> None:
        """Tick sender from now on, starting the pacer if it is not running."""
        self.paced.add(sender)
        if self.pacing is None:
            self.pacing = asyncio.get_running_loop().create_task(self.pacer())

    async def pacer(self) -> None:
        """Tick the paced senders every TICK_S while there are any: an idle agent does not
        wake 50 times a second (48 idle agents ticking cost 0.7 of a core)."""
        last = time.monotonic()
        while self.paced:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            elapsed, last = now - last, now
            for sender in list(self.paced):
                sender.tick(elapsed)
        self.pacing = None

    # -- commands -----------------------------------------------------------------------

    async def start(self, command: dict[str, Any]) -> None:
        flow_id = int(command["id"])
        op = "G" if command["op"] == "get" else "P"
        size, rate = int(command["size"]), float(command["rate"])
        loop = asyncio.get_running_loop()
        header = HEADER.pack(op.encode(), flow_id, size, rate)
        try:
            if op == "G":
                receiver = Receiver(self, flow_id, size, rate)
                self.receivers[flow_id] = receiver
                transport, _ = await loop.create_connection(
                    lambda: receiver, str(command["peer"]), int(command["port"])
                )
                transport.write(header)
            else:
                sender = Sender(self, flow_id, size, rate)
                self.senders[flow_id] = sender
                await loop.create_connection(
                    lambda: sender, str(command["peer"]), int(command["port"])
                )
                sender.begin(header)
        except OSError as exc:
            self.receivers.pop(flow_id, None)
            self.senders.pop(flow_id, None)
            emit({"ev": "error", "id": flow_id, "msg": str(exc)})

    def cancel(self, flow_id: int) -> None:
        receiver = self.receivers.get(flow_id)
        if receiver is not None:
            receiver.close("cancel")
        sender = self.senders.get(flow_id)
        if sender is not None:
            sender.close()

    async def commands(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        tasks: set[asyncio.Task[None]] = set()
        while True:
            line = await reader.readline()
            if not line:
                return
            command = json.loads(line)
            op = command.get("op")
            if op in ("get", "put"):
                task = asyncio.create_task(self.start(command))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            elif op == "cancel":
                self.cancel(int(command["id"]))
            elif op == "quit":
                return


class Receiver(asyncio.BufferedProtocol):
    """Counts a flow's payload; on the accepting side it first reads the header."""

    def __init__(self, agent: Agent, flow_id: int | None, size: int, rate: float = 0.0) -> None:
        self.agent = agent
        self.flow_id = flow_id if flow_id is not None else -1
        self.size = size
        self.rate = rate
        self.got = 0
        self.buffer = bytearray(CHUNK)
        self.header = bytearray() if flow_id is None else None
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tune(transport)
        self.transport = stream(transport)
        if self.rate <= 0:
            low_water(transport, LOWAT)

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self.buffer)

    def buffer_updated(self, nbytes: int) -> None:
        data = memoryview(self.buffer)[:nbytes]
        if self.header is not None:  # accepting side: header first, then payload
            need = HEADER.size - len(self.header)
            self.header += data[:need]
            data = data[need:]
            if len(self.header) < HEADER.size:
                return
            _op, flow_id, size, _rate = HEADER.unpack(bytes(self.header))
            self.header = None
            self.flow_id, self.size = flow_id, size
            self.agent.receivers[flow_id] = self
        self.got += len(data)
        self.agent.received(self)
        if self.got >= self.size:
            self.close("done")

    def eof_received(self) -> bool:
        self.close("eof")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.close("error" if exc else "eof")

    def close(self, why: str) -> None:
        """End the flow. A cancelled one first reads what waits below the low-water mark (it
        has arrived, so it counts): the mark drops to 1 and the close follows a tick later."""
        if self.closed:
            return
        transport = self.transport
        if why == "cancel" and transport is not None and not transport.is_closing():
            low_water(transport, 1)
            self.transport = None  # closed once, below
            asyncio.get_running_loop().call_later(TICK_S, self._close, why, transport)
            return
        self._close(why, transport)

    def _close(self, why: str, transport: asyncio.Transport | None) -> None:
        if not self.closed:
            self.closed = True
            if self.header is None:
                self.agent.finished(self, why)
        if transport is not None:
            transport.close()


class Sender(asyncio.Protocol):
    """Sends a flow's payload greedily (rate 0) or paced at `rate` bits/s."""

    def __init__(self, agent: Agent, flow_id: int, size: int, rate: float) -> None:
        self.agent = agent
        self.flow_id = flow_id
        self.left = size
        self.rate = rate
        self.tokens = 0.0
        self.paused = False
        self.transport: asyncio.Transport | None = None
        self.header: bytearray | None = None  # accepting side reads the request first

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        tune(transport)
        self.transport = stream(transport)

    def begin(self, header: bytes | None = None) -> None:
        assert self.transport is not None
        if header is not None:
            self.transport.write(header)
        if self.rate > 0:
            self.agent.pace(self)
        else:
            self.fill()

    def fill(self) -> None:
        """Greedy: write until the transport's buffer is full, all is sent or the connection
        broke (a write that finds the peer gone closes the transport at once but reports it
        only on the next loop turn: without the check this loop spun through the rest of a
        1 TB flow, and the agent stopped serving every other flow)."""
        transport = self.transport
        while (
            transport is not None
            and not transport.is_closing()
            and not self.paused
            and self.left > 0
        ):
            n = min(CHUNK, self.left)
            transport.write(PAYLOAD[:n])
            self.left -= n
        if self.left <= 0:
            self.finish()

    def tick(self, elapsed: float) -> None:
        cap = self.rate / 8 * MAX_TOKENS_S
        self.tokens = min(cap, self.tokens + self.rate / 8 * elapsed)
        if self.paused or self.transport is None:
            return
        while (
            self.tokens >= 1
            and self.left > 0
            and not self.paused
            and not self.transport.is_closing()
        ):
            n = int(min(CHUNK, self.left, self.tokens))
            self.transport.write(PAYLOAD[:n])
            self.left -= n
            self.tokens -= n
        if self.left <= 0:
            self.finish()

    def finish(self) -> None:
        self.agent.paced.discard(self)
        self.agent.senders.pop(self.flow_id, None)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write_eof()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self.rate <= 0:
            self.fill()

    def data_received(self, data: bytes) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    def close(self) -> None:
        self.agent.paced.discard(self)
        self.agent.senders.pop(self.flow_id, None)
        self.left = 0
        if self.transport is not None:
            self.transport.close()
            self.transport = None


class Acceptor(asyncio.BufferedProtocol):
    """An incoming connection: reads the header, then becomes a receiver or a sender."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.header = bytearray()
        self.small = bytearray(HEADER.size)
        self.inner: Receiver | Sender | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = stream(transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        if isinstance(self.inner, Receiver):
            return self.inner.get_buffer(sizehint)
        if self.inner is not None:
            return memoryview(self.small)
        return memoryview(self.small)[: HEADER.size - len(self.header)]

    def buffer_updated(self, nbytes: int) -> None:
        if isinstance(self.inner, Receiver):
            self.inner.buffer_updated(nbytes)
            return
        if self.inner is not None:
            return
        self.header += self.small[:nbytes]
        if len(self.header) < HEADER.size:
            return
        op, flow_id, size, rate = HEADER.unpack(bytes(self.header))
        assert self.transport is not None  # connection_made came first
        if op == b"G":  # the peer fetches: we send
            sender = Sender(self.agent, flow_id, size, rate)
            self.agent.senders[flow_id] = sender
            sender.connection_made(self.transport)
            self.inner = sender
            sender.begin()
        else:  # the peer pushes: we receive and report
            receiver = Receiver(self.agent, flow_id, size, rate)
            receiver.connection_made(self.transport)
            self.agent.receivers[flow_id] = receiver
            self.inner = receiver

    def pause_writing(self) -> None:
        if isinstance(self.inner, Sender):
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if isinstance(self.inner, Sender):
            self.inner.resume_writing()

    def eof_received(self) -> bool:
        if isinstance(self.inner, Receiver):
            self.inner.close("eof")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.inner is not None:
            self.inner.connection_lost(exc)


async def main(listen: int | None) -> None:
    agent = Agent()
    loop = asyncio.get_running_loop()
    server = None
    if listen is not None:
        server = await loop.create_server(
            lambda: Acceptor(agent), "0.0.0.0", listen, backlog=4096, reuse_address=True
        )
    progress = asyncio.create_task(agent.progress())
    emit({"ev": "ready"})
    await agent.commands()
    for task in (progress, agent.pacing):
        if task is not None:
            task.cancel()
    if server is not None:
        server.close()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="the emulation run's tag (for clean-up)")
    parser.add_argument("--listen", type=int, default=None, help="accept flows on this port")
    parser.add_argument("--cc", default=None, help="TCP congestion control of every connection")
    args = parser.parse_args()
    global congestion
    if args.cc is not None:
        congestion = args.cc.encode()
        with socket.socket() as probe:
            try:
                probe.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, congestion)
            except OSError as exc:
                sys.exit(f"TCP congestion control {args.cc!r} unavailable: {exc}")
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        asyncio.run(main(args.listen))


if __name__ == "__main__":
    cli()
