"""The tests' own fault-making TCP proxy does what each mode says, to new connections and to
those already open (against an echo server on loopback)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from tests.support.faulty_proxy import FaultyProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def proxy() -> Iterator[FaultyProxy]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with FaultyProxy(("127.0.0.1", server.server_address[1])) as faulty:
        yield faulty
    server.shutdown()
    server.server_close()


def connect(proxy: FaultyProxy, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout)


def echoes(sock: socket.socket) -> bool:
    sock.sendall(b"ping")
    return sock.recv(4) == b"ping"


def test_each_mode(proxy: FaultyProxy) -> None:
    with connect(proxy) as open_before:
        assert echoes(open_before)
        proxy.set("latency", seconds=0.05)
        assert echoes(open_before)
        proxy.set("reset")
        with pytest.raises(ConnectionError):  # the open one is cut with a reset
            echoes(open_before)
    # A new one is reset, at once or on its first read.
    with pytest.raises(ConnectionError), connect(proxy) as new:
        echoes(new)
    proxy.set("blackhole")
    with connect(proxy, timeout=0.5) as held, pytest.raises(TimeoutError):
        echoes(held)  # accepted, never answered
    proxy.set("partition")
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)
    proxy.set("pass")
    with connect(proxy) as again:
        assert echoes(again)
    with pytest.raises(ValueError, match="no mode"):
        proxy.set("sideways")  # type: ignore[arg-type]
