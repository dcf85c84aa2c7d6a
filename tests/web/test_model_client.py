"""The model client: the request it sends, retries within bounds, one sentence per failure."""

from __future__ import annotations

import httpx
import pandas as pd
import pytest

from tests.web import fakes
from tickercast.contract import RESPONSE_KEYS
from tickercast.errors import ServiceBusy, TickercastError, UpstreamError, error_body
from tickercast.web.model_client import UNREACHABLE, ModelClient, ModelRejected, ModelTimeout

DS = [d.strftime("%Y-%m-%d") for d in fakes.sessions(30)]
Y = [100.0 + i for i in range(30)]


def client(model: fakes.FakeModel, sleeps: list[float], retries: int = 2) -> ModelClient:
    return ModelClient(
        fakes.MODEL_URL,
        fakes.KEY,
        timeout=3.0,
        retries=retries,
        transport=model.transport(),
        retry_after_cap=5.0,
        sleep=sleeps.append,
    )


def test_sends_the_contract_request_and_reads_the_answer(fake_model, sleeps) -> None:
    table = client(fake_model, sleeps).forecast(DS, Y, periods=5, freq="XNYS")
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
    client(fake_model, sleeps).forecast(DS, Y, periods=2)
    assert "freq" not in fake_model.requests[0]


def test_connect_errors_are_retried_then_succeed(fake_model, sleeps) -> None:
    fake_model.script = [fakes.refuse, fakes.refuse]
    table = client(fake_model, sleeps, retries=2).forecast(DS, Y, periods=3)
    assert len(table) == 3
    assert len(fake_model.requests) == 3
    assert sleeps == [0.25, 0.5]


@pytest.mark.parametrize("error", [httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError])
def test_a_connection_broken_mid_answer_is_asked_again(fake_model, sleeps, error) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise error("the replica died answering", request=request)

    fake_model.script = [broken]
    table = client(fake_model, sleeps, retries=2).forecast(DS, Y, periods=3)
    assert len(table) == 3 and len(fake_model.requests) == 2


def test_a_load_balancers_502_is_asked_again(fake_model, sleeps) -> None:
    def no_replica(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=b"<html>502 Bad Gateway</html>")

    fake_model.script = [no_replica]
    table = client(fake_model, sleeps, retries=2).forecast(DS, Y, periods=3)
    assert len(table) == 3 and len(fake_model.requests) == 2 and sleeps == [0.25]


def test_connect_errors_give_up_after_the_retries(fake_model, sleeps) -> None:
    fake_model.script = [fakes.refuse] * 5
    with pytest.raises(UpstreamError) as info:
        client(fake_model, sleeps, retries=2).forecast(DS, Y, periods=3)
    assert info.value.message == UNREACHABLE
    assert info.value.status == 502
    assert len(fake_model.requests) == 3


def test_busy_answers_wait_their_retry_after_within_the_cap(fake_model, sleeps) -> None:
    fake_model.script = [fakes.busy("2"), fakes.busy("120"), fakes.busy("")]
    with pytest.raises(ServiceBusy) as info:
        client(fake_model, sleeps, retries=2).forecast(DS, Y, periods=3)
    assert sleeps == [2.0, 5.0]  # 120 s is over the cap
    assert info.value.status == 503
    assert "busy" in info.value.message


def test_a_busy_answer_then_a_forecast(fake_model, sleeps) -> None:
    fake_model.script = [fakes.busy("1")]
    assert len(client(fake_model, sleeps).forecast(DS, Y, periods=4)) == 4
    assert sleeps == [1.0]


def test_no_retries_when_retries_is_zero(fake_model, sleeps) -> None:
    fake_model.script = [fakes.refuse, fakes.refuse]
    with pytest.raises(UpstreamError):
        client(fake_model, sleeps, retries=0).forecast(DS, Y, periods=3)
    assert len(fake_model.requests) == 1


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("too slow", request=request)


def answer(status: int, content: bytes) -> object:
    return lambda request: httpx.Response(status, content=content)


@pytest.mark.parametrize(
    ("script", "kind", "status", "message"),
    [
        (timeout, ModelTimeout, 504, "did not answer within 3 seconds"),
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
        client(fake_model, sleeps).forecast(DS, Y, periods=3)
    assert type(info.value) is kind
    assert info.value.status == status
    assert message in info.value.client_message
    assert len(fake_model.requests) == 1  # none of these is retried


def test_method_is_sent_when_given(fake_model, sleeps) -> None:
    client(fake_model, sleeps).forecast(DS, Y, periods=2, method="prophet")
    client(fake_model, sleeps).forecast(DS, Y, periods=2)
    assert fake_model.requests[0]["method"] == "prophet"
    assert "method" not in fake_model.requests[1]  # the model's default: plain Prophet


@pytest.mark.parametrize("url", ["http://model.test/", "http://model.test"])
def test_backtest_posts_to_backtest_beside_the_forecast(fake_model, sleeps, url) -> None:
    model = ModelClient(url, fakes.KEY, transport=fake_model.transport(), sleep=sleeps.append)
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(100)]
    y = [100.0 + i for i in range(100)]
    result = model.backtest(ds, y, horizon=10, cutoffs=4, freq="XNYS", method="prophet")
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
    result = client(fake_model, sleeps).backtest(ds, list(range(50)), horizon=1, cutoffs=2)
    assert result["horizon"] == 1
    assert sleeps == [0.25, 1.0]
    fake_model.script = [answer(400, error_body("invalid input: 5 cutoffs need 90 rows"))]
    with pytest.raises(ModelRejected) as info:
        client(fake_model, sleeps).backtest(DS, Y, horizon=20, cutoffs=5)
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
        client(fake_model, sleeps).backtest(DS, Y, horizon=1, cutoffs=2)
