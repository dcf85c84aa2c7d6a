"""The JSON API's quantiles and odds: every page forecast asks the model for PAGE_LEVELS, its
rows carry each level's edges, and the answer gives the quantiles at the last date and the
odds they state, for a ticker and for a posted series alike."""

from __future__ import annotations

import math

import httpx
import orjson
import pandas as pd

from tests.support import fakes
from tickercast.web.series import LEVEL_COLUMNS, PAGE_LEVELS


def below(price: float, quantiles: list[dict[str, float]]) -> float:
    """The chance of ending below `price`, read from the API's quantiles (inside their range):
    linear in log price between the two around it."""
    pairs = [(q["probability"], q["value"]) for q in quantiles]
    for (p0, v0), (p1, v1) in zip(pairs, pairs[1:], strict=False):
        if v0 <= price <= v1:
            return p0 + (p1 - p0) * math.log(price / v0) / math.log(v1 / v0)
    raise AssertionError(f"{price} is outside the quantiles")


def test_a_ticker_forecast_carries_the_quantiles_and_the_odds(client, fake_model) -> None:
    data = client.get("/api/forecast/ACME?periods=5").json()
    (sent,) = fake_model.requests
    assert sent["levels"] == list(PAGE_LEVELS) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98]
    last = data["forecast"][-1]
    assert set(LEVEL_COLUMNS) <= set(last)
    assert (
        last["yhat_lower_80"] == last["yhat_lower"] and last["yhat_upper_80"] == last["yhat_upper"]
    )
    quantiles = data["quantiles"]
    assert len(quantiles) == 23
    assert [q["probability"] for q in quantiles[:4]] == [0.01, 0.025, 0.05, 0.1]
    assert quantiles[0]["value"] == last["yhat_lower_98"]
    assert quantiles[11] == {"probability": 0.5, "value": last["yhat"]}
    assert quantiles[-1] == {"probability": 0.99, "value": last["yhat_upper_98"]}
    odds = data["odds"]
    today = data["history"][-1]["close"]
    assert odds["price"] == today and odds["date"] == last["ds"]
    assert odds["above"] == round(1 - below(today, quantiles), 4)
    assert odds["fall_10"] == round(below(0.9 * today, quantiles), 4)
    above = math.floor(odds["above"] * 100 + 0.5)
    fall = math.floor(odds["fall_10"] * 100 + 0.5)
    assert odds["text"][0].startswith(
        f"Chance it ends above today's ${today:,.2f} on {last['ds']}: {above}%"
    )
    assert odds["text"][1] == f"Chance of a fall of 10% or more: {fall}%."


def test_a_posted_series_has_its_odds_without_a_currency(client, fake_model) -> None:
    ds = pd.bdate_range("2020-01-01", periods=150).strftime("%Y-%m-%d").tolist()
    y = [20.0 + 0.01 * i for i in range(150)]
    data = client.post("/api/forecast", json={"ds": ds, "y": y, "periods": 3}).json()
    (sent,) = fake_model.requests
    assert sent["levels"] == list(PAGE_LEVELS)
    assert len(data["quantiles"]) == 23 and data["odds"]["price"] == y[-1]
    assert data["odds"]["text"][0].startswith(
        f"Chance it ends above the last value ({y[-1]:.2f}) on {data['forecast'][-1]['ds']}:"
    )
    # The fake's band (±5 at 80%) is wide against 21.49: a fall of 10% is a real chance.
    assert 0.01 < data["odds"]["fall_10"] < 0.5
    assert data["odds"]["fall_10"] == round(below(0.9 * y[-1], data["quantiles"]), 4)


def test_a_model_that_answers_no_levels_gives_a_forecast_without_odds(client, fake_model) -> None:
    def without_levels(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        body.pop("levels")
        return fakes.forecast_answer(orjson.dumps(body))

    fake_model.script.append(without_levels)
    data = client.get("/api/forecast/ACME?periods=5").json()
    assert len(data["forecast"]) == 5 and "yhat_lower_10" not in data["forecast"][0]
    assert data["quantiles"] == [] and data["odds"] is None
