"""The throwaway Redis that `make test` relies on when the machine runs none: it starts on the
port asked, answers, keeps nothing, and is gone after; a Redis already answering is used as is.
Tried on free ports, so the machine's own Redis on 6379 is never touched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import redis

from tests.deploy_files import ROOT
from tests.redis_server import answers, redis_for_tests, redis_server
from tickercast.processes import free_port

pytestmark = pytest.mark.slow


def test_starts_answers_and_stops_on_the_port_asked() -> None:
    port = free_port()
    assert not answers(port)
    with redis_server(port) as process:
        client = redis.Redis(host="127.0.0.1", port=port)
        client.set("tickercast:test", "kept")
        assert client.get("tickercast:test") == b"kept"
        assert client.config_get("save") == {"save": ""}
        client.close()
    assert process.returncode is not None
    assert not answers(port)


def test_a_redis_already_answering_is_used_not_replaced() -> None:
    port = free_port()
    with redis_server(port) as running:
        with redis_for_tests(port) as started:
            assert started is None
        assert running.poll() is None and answers(port)


def test_none_answering_one_is_started_for_the_block_only() -> None:
    port = free_port()
    with redis_for_tests(port) as started:
        assert started is not None and answers(port)
    assert not answers(port)


@pytest.mark.skipif(
    os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("ip")),
    reason="needs root to give a test run its own network namespace",
)
def test_tests_that_need_redis_pass_where_none_answers() -> None:
    """A machine with no Redis, made for real: a run of pytest in a network namespace of its
    own, where nothing listens on 127.0.0.1:6379, passes the Redis cache tests."""
    none_answers = "from tests.redis_server import answers; assert not answers(6379)"
    no_redis_then_tests = (
        f"ip link set lo up && {sys.executable} -c '{none_answers}' && "
        f"exec {sys.executable} -m pytest -q -p no:cacheprovider tests/test_cache.py"
    )
    result = subprocess.run(
        ["unshare", "--net", "sh", "-c", no_redis_then_tests],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\d+ passed", result.stdout)
