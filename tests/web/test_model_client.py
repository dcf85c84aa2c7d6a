"""The model client: the request it sends, retries within bounds, one sentence per failure."""

from __future__ import annotations

import base64
import logging
from typing import Any

import anyio
import httpx
import orjson
import pandas as pd
import pytest

from tests.support import fakes
from tests.support.answers import response_frame
from tests.web.conftest import recorded
from tickercast.contract import RESPONSE_KEYS
from tickercast.errors import ServiceBusy, TickercastError, UpstreamError, error_body
from tickercast.web.model_client import (
    BUSY_WAIT,
    DROPPED_CONNECTIONS,
    KEY_REFUSED,
    UNREACHABLE,
    UNREACHABLE_RETRY,
    ModelClient,
    ModelRejected,
    ModelTimeout,
    model_request,
    without_userinfo,
)

DS = [d.strftime("%Y-%m-%d") for d in fakes.sessions(30)]
Y = [100.0 + i for i in range(30)]


class Clock:
    """A clock that moves only when the client sleeps: waits are recorded, not slept."""

    def __init__(self, sleeps: list[float]) -> None:
        self.now = 1000.0
        self.sleeps = sleeps

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(
    model: fakes.FakeModel,
    sleeps: list[float],
    retries: int = 2,
    timeout: float = 30.0,
    url: str = fakes.MODEL_URL,
) -> ModelClient:
    clock = Clock(sleeps)
    return ModelClient(
        url,
        fakes.KEY,
        timeout=timeout,
        retries=retries,
        transport=model.transport(),
        sleep=clock.sleep,
        clock=clock,
    )


def forecast(model: ModelClient, ds: list[str] = DS, y: list[float] = Y, **fields: Any) -> Any:
    """The model's forecast as a table, asked through `model.answer`."""
    raw = anyio.run(model.answer, "forecast", model_request(ds, y, **fields))
    return response_frame(orjson.loads(raw))


def backtest(model: ModelClient, ds: list[str], y: list[Any], **fields: Any) -> Any:
    return orjson.loads(anyio.run(model.answer, "backtest", model_request(ds, y, **fields)))


def test_sends_the_contract_request_and_reads_the_answer(fake_model, sleeps) -> None:
    table = forecast(client(fake_model, sleeps), periods=5, freq="XNYS")
    (sent,) = fake_model.requests
    assert sent == {
        "key": fakes.KEY,
        "ds": DS,
        "y": Y,
        "periods": 5,
        "interval_width": 0.8,
        "freq": "XNYS",
    }
    assert list(table.columns) == list(RESPONSE_KEYS)
    assert len(table) == 5
    assert table["ds"].iloc[0] > pd.Timestamp(DS[-1])
    assert sleeps == []


def test_freq_is_left_to_the_model_when_not_given(fake_model, sleeps) -> None:
    forecast(client(fake_model, sleeps), periods=2)
    assert "freq" not in fake_model.requests[0]


def test_connect_errors_are_retried_then_succeed(fake_model, sleeps) -> None:
    fake_model.script = [fakes.refuse, fakes.refuse]
    table = forecast(client(fake_model, sleeps, retries=2), periods=3)
    assert len(table) == 3
    assert len(fake_model.requests) == 3
    assert sleeps == [0.25, 0.5]


@pytest.mark.parametrize("error", [httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError])
def test_a_connection_broken_mid_answer_is_asked_again(fake_model, sleeps, error) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise error("the replica died answering", request=request)

    fake_model.script = [broken]
    table = forecast(client(fake_model, sleeps, retries=2), periods=3)
    assert len(table) == 3 and len(fake_model.requests) == 2


def test_a_load_balancers_502_is_asked_again(fake_model, sleeps) -> None:
    def no_replica(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=b"<html>502 Bad Gateway</html>")

    fake_model.script = [no_replica]
    table = forecast(client(fake_model, sleeps, retries=2), periods=3)
    assert len(table) == 3 and len(fake_model.requests) == 2 and sleeps == [0.25]


def test_connect_errors_give_up_after_the_retries(fake_model, sleeps) -> None:
    fake_model.script = [fakes.refuse] * 5
    with pytest.raises(ServiceBusy) as info:
        forecast(client(fake_model, sleeps, retries=2), periods=3)
    assert info.value.message == UNREACHABLE
    assert (info.value.status, info.value.retry_after) == (503, 30)
    assert len(fake_model.requests) == 3


def test_a_busy_model_is_waited_out_honouring_retry_after(fake_model, sleeps) -> None:
    fake_model.script = [fakes.busy("2"), fakes.busy("5"), fakes.busy("")]
    table = forecast(client(fake_model, sleeps, retries=0), periods=3)
    assert len(table) == 3
    assert sleeps == [2.0, 5.0, 0.25]  # busy is waited out whatever `retries` says


def test_a_page_waits_out_a_busy_model_at_most_busy_wait(fake_model, sleeps) -> None:
    fake_model.script = [fakes.busy("5")] * 10
    with pytest.raises(ServiceBusy) as info:
        forecast(client(fake_model, sleeps, timeout=60.0), periods=3)
    assert sleeps == [5.0] * 4  # a fifth wait would end at 25 s: past what a page may wait
    assert sum(sleeps) < BUSY_WAIT
    assert (info.value.status, info.value.retry_after) == (503, 5)
    assert "busy" in info.value.message


def test_a_retry_after_past_the_users_timeout_is_not_waited(fake_model, sleeps) -> None:
    fake_model.script = [fakes.busy("120")]
    with pytest.raises(ServiceBusy) as info:
        forecast(client(fake_model, sleeps), periods=3)
    assert sleeps == [] and len(fake_model.requests) == 1
    assert info.value.retry_after == 120


def test_too_many_wrong_keys_is_a_refusal_not_busy(fake_model, sleeps, caplog) -> None:
    def wrong_keys(request: httpx.Request) -> httpx.Response:
        body = error_body("too many wrong keys; retry later")
        return httpx.Response(429, content=body, headers={"Retry-After": "60"})

    fake_model.script = [wrong_keys]
    with pytest.raises(UpstreamError) as info:
        forecast(client(fake_model, sleeps), periods=3)
    assert type(info.value) is UpstreamError and info.value.status == 502
    assert info.value.client_message == KEY_REFUSED
    assert sleeps == [] and len(fake_model.requests) == 1
    assert "check MODEL_API_KEY" in caplog.text
    assert fakes.KEY not in caplog.text


def test_a_key_over_its_rate_is_busy(fake_model, sleeps) -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        body = error_body("rate limit exceeded")
        return httpx.Response(429, content=body, headers={"Retry-After": "3"})

    fake_model.script = [limited]
    assert len(forecast(client(fake_model, sleeps), periods=3)) == 3
    assert sleeps == [3.0]


def test_a_busy_answer_then_a_forecast(fake_model, sleeps) -> None:
    fake_model.script = [fakes.busy("1")]
    assert len(forecast(client(fake_model, sleeps), periods=4)) == 4
    assert sleeps == [1.0]


def test_no_retries_when_retries_is_zero(fake_model, sleeps) -> None:
    fake_model.script = [fakes.refuse, fakes.refuse]
    with pytest.raises(ServiceBusy):
        forecast(client(fake_model, sleeps, retries=0), periods=3)
    assert len(fake_model.requests) == 1


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("too slow", request=request)


def answer(status: int, content: bytes) -> object:
    return lambda request: httpx.Response(status, content=content)


def test_a_model_that_does_not_answer_in_time_is_504_with_retry_after(fake_model, sleeps) -> None:
    fake_model.script = [timeout]
    with pytest.raises(ModelTimeout) as info:
        forecast(client(fake_model, sleeps), periods=3)
    assert info.value.status == 504 and info.value.retry_after == UNREACHABLE_RETRY


@pytest.mark.parametrize(
    ("script", "kind", "status", "message"),
    [
        (timeout, ModelTimeout, 504, "did not answer within 30 seconds"),
        (
            answer(400, error_body("invalid input: y[3] is not a number")),
            ModelRejected,
            400,
            "could not use this series: y[3] is not a number.",
        ),
        (answer(403, error_body("invalid key")), UpstreamError, 502, "refused this app's key"),
        (answer(401, error_body("no key submitted")), UpstreamError, 502, "refused this app's key"),
        (answer(500, error_body("internal error")), UpstreamError, 502, "failed (HTTP 500)"),
        (answer(200, b"not json"), UpstreamError, 502, "cannot read"),
        (answer(200, b'{"ds": {}}'), UpstreamError, 502, "cannot read"),
    ],
)
def test_each_failure_is_one_clear_sentence(
    fake_model, sleeps, script, kind, status, message
) -> None:
    fake_model.script = [script]
    with pytest.raises(TickercastError) as info:
        forecast(client(fake_model, sleeps), periods=3)
    assert type(info.value) is kind
    assert info.value.status == status
    assert message in info.value.client_message
    assert len(fake_model.requests) == 1  # none of these is retried


def dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


def reset(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)


@pytest.mark.parametrize("failure", [dropped, reset, fakes.busy("1")], ids=lambda f: f.__name__)
def test_a_killed_worker_is_retried_as_the_answer_is_the_same(fake_model, sleeps, failure) -> None:
    """A worker killed mid-request drops the connection (or a replacement is busy): the same
    POST again gives the same forecast, so the user sees it rather than an error."""
    fake_model.script = [failure, failure]
    table = forecast(client(fake_model, sleeps, retries=2), periods=3)
    assert len(table) == 3
    assert len(fake_model.requests) == 3
    assert fake_model.requests[0] == fake_model.requests[2]


def test_a_dead_workers_pooled_connections_each_get_a_try(fake_model, sleeps) -> None:
    """Every kept-alive connection to a killed worker fails at once: each is one more try,
    beyond `retries` (a refused connection is not: the service is down)."""
    fake_model.script = [dropped] * (2 + DROPPED_CONNECTIONS)
    table = forecast(client(fake_model, sleeps, retries=2), periods=3)
    assert len(table) == 3 and len(fake_model.requests) == 3 + DROPPED_CONNECTIONS
    assert max(sleeps) == 0.25 * 2**2  # the backoff stops growing after `retries`
    fake_model.script = [dropped] * (3 + DROPPED_CONNECTIONS)
    with pytest.raises(ServiceBusy):
        forecast(client(fake_model, [], retries=2), periods=3)


@pytest.mark.parametrize("failure", [dropped, fakes.busy("4")], ids=["dropped", "busy"])
def test_retries_stop_at_the_users_timeout(fake_model, sleeps, failure) -> None:
    # 4 s of timeout: a first wait fits, a second (0.5 s backoff or 4 s Retry-After) does not.
    fake_model.script = [failure] * 5
    with pytest.raises(TickercastError) as info:
        forecast(client(fake_model, sleeps, retries=5, timeout=4.0), periods=3)
    assert sum(sleeps) < 4.0
    assert len(fake_model.requests) == len(sleeps) + 1
    assert info.value.status in (502, 503)


def test_each_try_waits_only_for_what_is_left_of_the_timeout(fake_model, sleeps) -> None:
    timeouts: list[float] = []

    def seen(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        raise httpx.ReadError("reset", request=request)

    fake_model.script = [seen, seen]
    forecast(client(fake_model, sleeps, retries=2, timeout=10.0), periods=3)
    assert timeouts == [10.0, 9.75]


SECRET_URL = "http://tickercast:s3cr%40t-pw@model.test/"


def test_a_password_in_the_url_is_sent_as_basic_auth_and_never_shown(
    fake_model, sleeps, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    auths: list[str] = []

    def check(request: httpx.Request) -> httpx.Response:
        auths.append(request.headers["Authorization"])
        assert str(request.url) == fakes.MODEL_URL
        return fakes.forecast_answer(request.content)

    fake_model.script = [check, fakes.refuse, fakes.refuse, fakes.refuse]
    model = client(fake_model, sleeps, url=SECRET_URL)
    assert model.url == fakes.MODEL_URL
    forecast(model, periods=2)
    assert auths == ["Basic " + base64.b64encode(b"tickercast:s3cr@t-pw").decode()]
    with pytest.raises(ServiceBusy) as info:
        forecast(model, periods=2)  # unreachable: the warning names the URL
    assert "model service unreachable at http://model.test/" in caplog.text
    assert "HTTP Request: POST http://model.test/" in caplog.text  # httpx's own line
    for text in (caplog.text, str(info.value), info.value.client_message, model.url):
        assert "s3cr" not in text
    assert fakes.KEY not in caplog.text


@pytest.mark.parametrize(
    ("url", "clean", "auth"),
    [
        ("http://host:9000/", "http://host:9000/", None),
        ("http://u:p@host:9000/x", "http://host:9000/x", ("u", "p")),
        ("https://u@host/", "https://host/", ("u", "")),
        ("http://u:p%3Aq@h/", "http://h/", ("u", "p:q")),
    ],
)
def test_without_userinfo(url, clean, auth) -> None:
    assert without_userinfo(url) == (clean, auth)


def test_the_settings_never_show_the_url(caplog) -> None:
    settings = fakes.settings(model_api_url=SECRET_URL)
    assert "s3cr" not in repr(settings)
    assert "s3cr" not in str(settings.model_dump())


def test_method_is_sent_when_given(fake_model, sleeps) -> None:
    forecast(client(fake_model, sleeps), periods=2, method="prophet")
    forecast(client(fake_model, sleeps), periods=2)
    assert fake_model.requests[0]["method"] == "prophet"
    assert "method" not in fake_model.requests[1]  # the model's default: plain Prophet


@pytest.mark.parametrize("url", ["http://model.test/", "http://model.test"])
def test_backtest_posts_to_backtest_beside_the_forecast(fake_model, sleeps, url) -> None:
    model = ModelClient(url, fakes.KEY, transport=fake_model.transport(), sleep=recorded(sleeps))
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(100)]
    y = [100.0 + i for i in range(100)]
    result = backtest(model, ds, y, horizon=10, cutoffs=4, freq="XNYS", method="prophet")
    assert fake_model.paths == ["/backtest"]
    (sent,) = fake_model.requests
    assert sent == {
        "key": fakes.KEY,
        "ds": ds,
        "y": y,
        "horizon": 10,
        "cutoffs": 4,
        "interval_width": 0.8,
        "freq": "XNYS",
        "method": "prophet",
    }
    assert (result["method"], result["horizon"], len(result["folds"])) == ("prophet", 10, 4)


def test_backtest_shares_the_retries_and_the_errors(fake_model, sleeps) -> None:
    fake_model.script = [fakes.refuse, fakes.busy("1")]
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(50)]
    result = backtest(client(fake_model, sleeps), ds, list(range(50)), horizon=1, cutoffs=2)
    assert result["horizon"] == 1
    assert sleeps == [0.25, 1.0]
    fake_model.script = [answer(400, error_body("invalid input: 5 cutoffs need 90 rows"))]
    with pytest.raises(ModelRejected) as info:
        backtest(client(fake_model, sleeps), DS, Y, horizon=20, cutoffs=5)
    assert info.value.detail == "5 cutoffs need 90 rows"
    assert info.value.client_message == (
        "The forecasting service could not use this series: 5 cutoffs need 90 rows."
    )


@pytest.mark.parametrize(
    "content",
    [
        b"[]",
        b"nope",
        b'{"method": "prophet"}',
        b'{"method": "p", "horizon": 1, '
        b'"interval_width": 0.8, "folds": [], "scores": {}, "verdict": ""}',
    ],
)
def test_an_unreadable_backtest_is_one_sentence(fake_model, sleeps, content) -> None:
    fake_model.script = [answer(200, content)]
    with pytest.raises(UpstreamError, match="sent an answer we cannot read"):
        backtest(client(fake_model, sleeps), DS, Y, horizon=1, cutoffs=2)
