"""A retiring worker stops accepting without dropping a connection it has just accepted."""

from __future__ import annotations

import asyncio
import socket

from tests.support.loop import run
from tickercast.runtime.serving import stop_listening


class Answer(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(b"ok")
        transport.close()


def test_a_connection_accepted_as_the_worker_stops_accepting_is_still_answered() -> None:
    """asyncio accepts a connection, then sets it up in a later step; the worker retiring in
    between (here: while its protocol is made) must not leave it closed unanswered."""

    async def scenario() -> tuple[bytes, int]:
        loop = asyncio.get_running_loop()
        made: list[asyncio.Server] = []

        def retire_then_answer() -> Answer:
            stop_listening(made[0])
            return Answer()

        server = await loop.create_server(retire_then_answer, "127.0.0.1", 0)
        made.append(server)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answered = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        # A later connection waits for another worker: this one no longer accepts it.
        later = socket.create_connection(("127.0.0.1", port), timeout=30)
        listening = server.sockets[0].dup()
        listening.settimeout(30)
        taken, _ = await asyncio.to_thread(listening.accept)
        taken.close(), listening.close(), later.close()
        server.close()
        return answered, len(made)

    assert run(scenario()) == (b"ok", 1)
