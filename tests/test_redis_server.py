"""The tests' own Redis servers: started on a free port, answering, keeping nothing, gone after;
so no test ever reads, writes or empties a Redis it did not start (a developer's own included)."""

from __future__ import annotations

import redis

from tests.support.redis_server import PATIENT_SECONDS, answers, redis_for_the_run, redis_server
from tickercast.cli.processes import free_port
from tickercast.runtime.redis_store import TIMEOUT, Store


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


def test_the_runs_redis_is_its_own_and_each_database_starts_empty() -> None:
    with redis_for_the_run() as own:
        port = own.server.port
        assert answers(port)
        with own.database() as url:
            assert url.startswith(f"redis://127.0.0.1:{port}/")
            client = redis.Redis.from_url(url)
            assert client.dbsize() == 0
            client.set("left", "behind")
        with own.database() as url:
            assert client.dbsize() == 0, "the next test finds nothing of the last one"
        client.close()
    assert not answers(port)


def test_the_redis_url_fixture_points_at_the_runs_own_server(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    assert client.connection_pool.connection_kwargs["port"] != 6379
    client.close()


def test_the_tests_redis_calls_are_patient(redis_url: str) -> None:
    """A store on the tests' Redis waits for a slow call as long as a busy machine may need,
    where the services' own store gives up after a quarter second and fails open."""
    store = Store(redis_url)
    assert store.client is not None
    options = store.client.connection_pool.connection_kwargs
    assert options["socket_timeout"] == options["socket_connect_timeout"] == PATIENT_SECONDS
    assert PATIENT_SECONDS > 10 * TIMEOUT
