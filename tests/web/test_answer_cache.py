"""The web app asks the model once for a forecast it already has: the answer is kept under a
digest of the request (the prices and every parameter), shared with every route that needs it."""

from __future__ import annotations

import orjson
import pandas as pd
import pytest

from tests.support import fakes
from tests.support.frames import forecast_rows
from tests.web.conftest import MakeClient
from tickercast.contract import response_frame
from tickercast.web.app import forecaster_from
from tickercast.web.forecasts import MODEL_HISTORY, answer_key
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import ModelClient, model_request
from tickercast.web.series import WINDOWS, answer_rows


def test_a_repeated_forecast_is_asked_of_the_model_once(
    make_client: MakeClient, fake_model: fakes.FakeModel
) -> None:
    client = make_client()
    url = "/api/forecast/ACME?periods=5&window=1y"
    first = client.get(url)
    assert [client.get(url).content for _ in range(3)] == [first.content] * 3
    assert len(fake_model.requests) == 1
    metrics = client.get("/metrics").text
    assert 'tickercast_web_model_answers_total{result="hit"} 3.0' in metrics
    assert 'tickercast_web_model_answers_total{result="miss"} 1.0' in metrics


@pytest.mark.parametrize(
    "other",
    [
        "/api/forecast/ACME?periods=6&window=1y",  # another horizon
        "/api/forecast/ACME?periods=5&window=1y&method=prophet",  # another method
        "/api/forecast/BOLT?periods=5&window=1y",  # another ticker
    ],
)
def test_any_other_parameter_is_another_answer(
    make_client: MakeClient, fake_model: fakes.FakeModel, other: str
) -> None:
    client = make_client()
    assert client.get("/api/forecast/ACME?periods=5&window=1y").status_code == 200
    assert client.get(other).status_code == 200
    assert len(fake_model.requests) == 2


def test_the_window_is_only_what_the_chart_shows(
    make_client: MakeClient, fake_model: fakes.FakeModel
) -> None:
    """One forecast and one backtest per ticker, day and method, whatever the window: the
    model gets the same history, the answer the window's."""
    client = make_client()
    answers = {w: client.get(f"/api/forecast/ACME?periods=5&window={w}").json() for w in WINDOWS}
    assert len(fake_model.requests) == 1
    asked = fake_model.requests[0]
    frame = fakes.providers()["fake"].frames["ACME"]
    assert len(asked["ds"]) == min(len(frame), MODEL_HISTORY)
    assert asked["ds"][-1] == str(frame.index[-1].date())
    assert len({orjson.dumps(a["forecast"]) for a in answers.values()}) == 1
    assert len(answers["3m"]["history"]) == WINDOWS["3m"] < len(answers["max"]["history"])
    backtests = {w: client.get(f"/api/backtest/ACME?periods=5&window={w}") for w in WINDOWS}
    assert len({b.json()["scores"].__repr__() for b in backtests.values()}) == 1
    assert len(fake_model.requests) == 2


def test_new_prices_are_a_new_key(make_client: MakeClient, fake_model: fakes.FakeModel) -> None:
    providers = fakes.providers()
    client = make_client(providers=providers)
    url = "/api/forecast/ACME?periods=5&window=1y"
    before = client.get(url).json()
    frame = providers["fake"].frames["ACME"]
    providers["fake"].frames["ACME"] = pd.concat(  # the next session's price arrives
        [frame, frame.iloc[-1:].set_axis(fakes.sessions(1, after=str(frame.index[-1].date())))]
    )
    after = client.get(url).json()
    assert len(fake_model.requests) == 2
    assert after["history"][-1]["ds"] > before["history"][-1]["ds"]
    assert after["forecast"][0]["ds"] > before["forecast"][0]["ds"]


def test_a_posted_series_is_cached_too(
    make_client: MakeClient, fake_model: fakes.FakeModel
) -> None:
    """The upload route reaches the same cache as the ticker route."""
    client = make_client()
    dates = [str(d.date()) for d in fakes.sessions(150)]  # calibrated needs 120
    body = orjson.dumps({"ds": dates, "y": [100 + i % 7 for i in range(150)], "periods": 5})
    answers = [client.post("/api/forecast", content=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert answers[0].content == answers[2].content
    assert len(fake_model.requests) == 1


def test_cache_off_asks_every_time(make_client: MakeClient, fake_model: fakes.FakeModel) -> None:
    client = make_client(model_answer_cache_ttl=0)
    for _ in range(2):
        assert client.get("/api/forecast/ACME?periods=5&window=1y").status_code == 200
    assert len(fake_model.requests) == 2


def test_the_key_is_every_field_but_never_the_secret() -> None:
    request = model_request(["2024-01-02", "2024-01-03"], [1.0, 2.0], "XNYS", periods=5)
    key = answer_key("forecast", request)
    assert key == answer_key("forecast", dict(reversed(request.items())))
    changes = (
        {"periods": 6},
        {"freq": "D"},
        {"interval_width": 0.9},
        {"y": [1.0, 2.5]},
        {"method": "calibrated"},
    )
    for change in changes:
        assert answer_key("forecast", {**request, **change}) != key
    assert answer_key("backtest", request) != key  # the same body on the other endpoint
    backtest = model_request(request["ds"], request["y"], "XNYS", horizon=5, cutoffs=2)
    for change in ({"horizon": 4}, {"cutoffs": 3}, {"method": "prophet"}):
        assert answer_key("backtest", {**backtest, **change}) != answer_key("backtest", backtest)
    assert "key" not in request


def test_a_repeated_backtest_is_asked_of_the_model_once(
    make_client: MakeClient, fake_model: fakes.FakeModel
) -> None:
    """Backtests share the cache with forecasts; the method is part of what is asked."""
    client = make_client()
    url = "/api/backtest/ACME?periods=5&window=1y"
    first = client.get(url)
    assert first.status_code == 200
    assert client.get(url).content == first.content
    asked = len(fake_model.requests)
    assert client.get(url + "&method=prophet").status_code == 200
    assert len(fake_model.requests) == asked + 1
    assert client.get(url + "&method=prophet").status_code == 200
    assert len(fake_model.requests) == asked + 1


def test_rows_from_the_answer_match_rows_from_its_table() -> None:
    answer = fakes.forecast_answer(
        orjson.dumps(
            {
                "key": fakes.KEY,
                **model_request(
                    [str(d.date()) for d in fakes.sessions(40)],
                    [float(i) for i in range(40)],
                    "XNYS",
                    periods=7,
                ),
            }
        )
    ).content
    data = orjson.loads(answer)
    assert answer_rows(data) == forecast_rows(response_frame(data))


@pytest.mark.parametrize("with_redis", [False, True])
def test_prices_and_answers_share_the_one_fail_open_store(
    fake_model: fakes.FakeModel, request: pytest.FixtureRequest, with_redis: bool
) -> None:
    url = request.getfixturevalue("redis_url") if with_redis else None
    model = ModelClient(fakes.MODEL_URL, fakes.KEY, transport=fake_model.transport())
    forecaster = forecaster_from(
        fakes.settings(redis_url=url), fakes.providers(), model, WebMetrics()
    )
    store = forecaster.answers.store
    assert forecaster.prices.cache.store is store and store.shared is with_redis
    assert forecaster.prices.cache.namespace == "tickercast:prices"
    assert forecaster.answers.namespace == "tickercast:model-answers"


def test_the_model_gets_the_last_sessions_of_a_long_history() -> None:
    from tickercast.data.embedded import EmbeddedProvider
    from tickercast.web.forecasts import model_series

    frame = EmbeddedProvider().history("AAPL").frame
    series = model_series(frame)
    assert len(frame) > MODEL_HISTORY and len(series) == MODEL_HISTORY
    assert series.index[-1] == frame.index[-1]
    assert series.iloc[-1] == frame["adj_close"].iloc[-1]  # adjusted: splits and dividends
