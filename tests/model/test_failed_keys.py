"""Guessing keys: a client that sent too many wrong keys lately gets 429 with Retry-After, in
every worker and replica (Redis), for every request without a right key; a right key is served
whatever its address sent, so a web app sharing an address with a flooder is not locked out."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.model.test_api import GOOD, KEY, settings
from tests.support.loop import run
from tickercast.model.api import create_app
from tickercast.model.callers import SHORTEST_KEY, client_address, warn_short_keys
from tickercast.runtime.networks import parse_networks

WRONG = {**GOOD, "key": "guess"}
PROXY = "10.0.0.2"


async def posts(
    app: object, peer: str, body: object, headers: dict[str, str] | None = None
) -> list[tuple[int, str | None]]:
    """Post each body in turn from `peer`; the answers' (status, Retry-After)."""
    bodies = body if isinstance(body, list) else [body]
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://model") as client:
        answers = [
            await client.post(
                "/", content=b if isinstance(b, bytes) else orjson.dumps(b), headers=headers
            )
            for b in bodies
        ]
    return [(r.status_code, r.headers.get("retry-after")) for r in answers]


def ask(app: object, peer: str, body: object, headers: dict[str, str] | None = None) -> list:
    """`posts` on an event loop of its own (an app without Redis: nothing tied to a loop)."""
    return run(posts(app, peer, body, headers))


def test_wrong_keys_from_one_client_get_429_and_other_clients_are_unaffected() -> None:
    app = create_app(settings(model_key_failure_limit="3/minute"))
    answers = ask(app, "203.0.113.7", [WRONG] * 5)
    assert [status for status, _ in answers] == [403, 403, 403, 429, 429]
    assert 1 <= int(answers[3][1]) <= 61
    # The same address with the right key is served (the key comes before the count) ...
    assert ask(app, "203.0.113.7", GOOD)[0][0] == 200
    # ... without a key it is refused, and a body that is not JSON is told so first.
    assert ask(app, "203.0.113.7", {**GOOD, "key": None})[0][0] == 429
    assert ask(app, "203.0.113.7", b"{nope")[0][0] == 400
    # Another client with the right key, and with a wrong one, is unaffected.
    assert ask(app, "203.0.113.8", GOOD)[0][0] == 200
    assert ask(app, "203.0.113.8", WRONG)[0][0] == 403


def test_missing_keys_and_right_keys_are_not_counted() -> None:
    app = create_app(settings(model_key_failure_limit="2/minute"))
    no_key = {k: v for k, v in GOOD.items() if k != "key"}
    statuses = [s for s, _ in ask(app, "203.0.113.9", [GOOD, no_key] * 3 + [WRONG] * 3)]
    assert statuses == [200, 401] * 3 + [403, 403, 429]
    assert [s for s, _ in ask(app, "203.0.113.9", [no_key, GOOD, WRONG])] == [429, 200, 429]


def test_a_right_key_is_served_all_through_a_flood_of_wrong_keys_from_its_address() -> None:
    app = create_app(settings(model_key_failure_limit="10/minute"))
    bodies = [GOOD if i % 10 == 9 else {**WRONG, "key": f"guess-{i}"} for i in range(1_100)]
    statuses = [s for s, _ in ask(app, "127.0.0.1", bodies)]
    keyed, wrong = statuses[9::10], [s for i, s in enumerate(statuses) if i % 10 != 9]
    assert keyed == [200] * 110
    assert wrong == [403] * 10 + [429] * 980


def test_short_keys_are_warned_about_at_start_without_naming_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    long_key = "k" * SHORTEST_KEY
    assert warn_short_keys([long_key.encode()]) == 0
    assert not caplog.records
    assert warn_short_keys([b"secret", long_key.encode(), b"short-key"]) == 2
    (record,) = caplog.records
    assert record.levelname == "WARNING"
    assert "2 of 3 MODEL_API_KEYS is shorter than 16 characters" in record.getMessage()
    assert "can be guessed" in record.getMessage()
    assert "secret" not in record.getMessage() and "short-key" not in record.getMessage()


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited_not_the_proxy() -> None:
    app = create_app(settings(model_key_failure_limit="2/minute", model_trusted_proxies=PROXY))
    attacker = {"x-forwarded-for": "198.51.100.1, 10.9.9.9"}
    assert [s for s, _ in ask(app, PROXY, [WRONG] * 3, attacker)] == [403, 403, 429]
    # The web app behind the same proxy, and the proxy itself, still get their forecasts.
    assert ask(app, PROXY, GOOD, {"x-forwarded-for": "198.51.100.2"})[0][0] == 200
    assert ask(app, PROXY, GOOD)[0][0] == 200


def test_an_untrusted_peer_cannot_choose_its_address_with_x_forwarded_for() -> None:
    app = create_app(settings(model_key_failure_limit="2/minute"))
    statuses = [
        ask(app, "203.0.113.10", WRONG, {"x-forwarded-for": f"198.51.100.{i}"})[0][0]
        for i in range(3)
    ]
    assert statuses == [403, 403, 429]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("10.0.0.2", "198.51.100.1", "10.0.0.0/8", "198.51.100.1"),
        ("10.0.0.2", " 198.51.100.1 , 10.0.0.3", "10.0.0.2", "198.51.100.1"),
        ("10.0.0.2", "not-an-address", "10.0.0.2", "10.0.0.2"),
        ("10.0.0.2", None, "10.0.0.2", "10.0.0.2"),
        ("192.0.2.1", "198.51.100.1", "10.0.0.0/8", "192.0.2.1"),
        ("::1", "2001:db8::1", "::1", "2001:db8::1"),
        (None, "198.51.100.1", "10.0.0.0/8", "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: str | None, trusted: str, client: str) -> None:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    assert client_address(peer, headers, parse_networks(trusted)) == client


def test_a_trusted_proxy_setting_that_is_not_an_address_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="'10.0.0.300' is not an IP address or network"):
        settings(model_trusted_proxies="10.0.0.1, 10.0.0.300")


def test_wrong_keys_are_counted_across_workers_through_redis(redis_url: str) -> None:
    limited = settings(model_key_failure_limit="3/minute", redis_url=redis_url)
    first, second = create_app(limited), create_app(limited)

    async def scenario() -> list[list[int]]:  # one loop, as in a worker: Redis clients keep it
        statuses = [
            [s for s, _ in await posts(app, peer, body)]
            for app, peer, body in [
                (first, "203.0.113.20", [WRONG] * 2),
                (second, "203.0.113.20", [WRONG] * 2),
                (first, "203.0.113.20", WRONG),
                (second, "203.0.113.21", GOOD),
            ]
        ]
        for app in (first, second):  # as their lifespans would, on the loop that opened them
            await app.state.service.store.close()
        return statuses

    assert run(scenario()) == [[403, 403], [403, 429], [429], [200]]


def test_without_redis_at_hand_wrong_keys_are_counted_in_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis down: a wrong key is still a 403, and the count goes on in this process."""
    app = create_app(
        settings(model_key_failure_limit="2/minute", redis_url="redis://127.0.0.1:1/0")
    )
    statuses = [s for s, _ in ask(app, "203.0.113.30", [WRONG] * 3)]
    assert statuses == [403, 403, 429]
    assert "Redis is unavailable" in caplog.text
    assert KEY not in caplog.text and "guess" not in caplog.text
