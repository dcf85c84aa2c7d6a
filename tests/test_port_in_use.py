"""`make run` (tickercast up) and `tickercast web` on a port that is taken: one line saying
so and how to pick another, before anything is started."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tickercast.cli import web_server as server
from tickercast.cli.up import up


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_up_says_the_port_is_in_use_and_how_to_pick_another(taken_port, capsys) -> None:
    assert up("127.0.0.1", taken_port, mock=True, ready_timeout=5) == 1
    err = capsys.readouterr().err
    assert f"port {taken_port} on 127.0.0.1 is in use" in err
    assert "make run PORT=8001" in err
    assert "exited" not in err


def test_web_says_the_port_is_in_use(taken_port, capsys, monkeypatch) -> None:
    monkeypatch.setenv("MODEL_API_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("MODEL_API_KEY", "k")
    assert server.serve("127.0.0.1", taken_port, 1) == 1
    assert f"port {taken_port} on 127.0.0.1 is in use" in capsys.readouterr().err
