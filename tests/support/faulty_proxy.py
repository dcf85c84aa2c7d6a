"""A TCP proxy on loopback that breaks the way between a service and what it depends on.

    with FaultyProxy(("127.0.0.1", redis_port)) as proxy:   # connect to proxy.port instead
        proxy.set("latency", seconds=0.5)   # every chunk held this long, each way
        proxy.set("reset")                  # open connections and new ones reset (RST)
        proxy.set("blackhole")              # connections accepted, never answered
        proxy.set("partition")              # nothing listens: connections refused
        proxy.set("pass")                   # the way is clear again

It runs its own event loop in a thread; every connection is piped on its own, and looks at the
mode for every chunk, so a change applies to connections already open too ("reset" and
"partition" cut them at once; "blackhole" stops passing what they send).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from typing import Literal

Mode = Literal["pass", "latency", "reset", "blackhole", "partition"]
MODES: tuple[Mode, ...] = ("pass", "latency", "reset", "blackhole", "partition")
CHUNK = 65536


class FaultyProxy:
    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.mode: Mode = "pass"
        self.latency = 0.0
        self.connections = 0  # accepted, in all
        self._loop = asyncio.new_event_loop()
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        with socket.socket() as probe:  # the port stays the same across partitions
            probe.bind(("127.0.0.1", port))
            self.port = probe.getsockname()[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def set(self, mode: Mode, seconds: float = 0.0) -> None:
        """Switch to `mode` (`seconds`: the latency added, for "latency")."""
        if mode not in MODES:
            raise ValueError(f"no mode {mode!r}; one of {', '.join(MODES)}")
        self._call(self._switch(mode, seconds))

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._switch("partition", 0.0))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    # In the proxy's loop -------------------------------------------------------------------
    def _call(self, coroutine: object) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, "127.0.0.1", self.port, reuse_address=True
            )

    async def _switch(self, mode: Mode, seconds: float) -> None:
        self.mode, self.latency = mode, seconds
        if mode in ("reset", "partition"):
            for writer in list(self._open):
                _reset(writer)
        if mode == "partition" and self._server is not None:
            self._server.close()
            self._server = None
        elif mode != "partition":
            await self._listen()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._open.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            if self.mode in ("reset", "partition"):
                _reset(writer)
                return
            if self.mode == "blackhole":
                await _swallow(reader)
                return
            try:
                up_reader, upstream = await asyncio.open_connection(*self.target)
            except OSError:
                _reset(writer)
                return
            self._open.add(upstream)
            await asyncio.gather(
                self._pipe(reader, upstream, writer), self._pipe(up_reader, writer, upstream)
            )
        finally:
            for end in (writer, upstream):
                if end is not None:
                    self._open.discard(end)
                    end.close()

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, back: asyncio.StreamWriter
    ) -> None:
        """Copy `source` to `sink` chunk by chunk, as the mode says; `back` is the other end of
        `source`'s connection (reset together)."""
        try:
            while data := await source.read(CHUNK):
                if self.mode == "latency":
                    await asyncio.sleep(self.latency)
                if self.mode == "blackhole":
                    continue  # taken and dropped: nothing ever comes out
                if self.mode in ("reset", "partition"):
                    _reset(sink)
                    _reset(back)
                    return
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            _reset(back)
            _reset(sink)
            return
        with contextlib.suppress(OSError, RuntimeError):
            if sink.can_write_eof():
                sink.write_eof()


async def _swallow(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while await reader.read(CHUNK):
            pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset, not a clean end: the peer's next read or write fails."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
