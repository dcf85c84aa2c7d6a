"""The watchlist against the model service's own app in this process (mock mode): one batch
for the forecasts and one for the backtests whatever the number of tickers, none when warm,
answers a ticker page then finds, bad symbols as rows that say why, the CSV as the table."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.support import fakes
from tests.support.shown import shown
from tests.web.test_batched import Counting
from tickercast.data.base import PriceHistory
from tickercast.record import db, scorer, writes
from tickercast.web import watch
from tickercast.web.app import create_app
from tickercast.web.model_client import ModelClient

KNOWN = ["ACME", "BOLT", "CORE"]


def many_providers(count: int) -> dict[str, fakes.FakeProvider]:
    """`count` tickers of 600 sessions each, T00, T01, ..."""
    frames = {f"T{i:02d}": fakes.price_frame(600, 20.0 + i, i) for i in range(count)}
    return {"fake": fakes.FakeProvider("fake", frames)}


@pytest.fixture
def model() -> Counting:
    return Counting()


def app_client(model: Counting, providers: dict[str, fakes.FakeProvider]) -> TestClient:
    settings = fakes.settings(watchlist_default="ACME,BOLT")
    client = ModelClient(fakes.MODEL_URL, fakes.KEY, timeout=30, retries=0, transport=model)
    app = create_app(settings, providers=providers, model_client=client)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(model: Counting) -> Iterator[TestClient]:
    with app_client(model, fakes.providers()) as test_client:
        yield test_client


def table(client: TestClient, tickers: str, **params: str) -> list[dict]:
    response = client.get("/api/watch", params={"tickers": tickers, **params})
    assert response.status_code == 200, response.text
    rows: list[dict] = response.json()["rows"]
    return rows


def test_one_batch_for_the_forecasts_and_one_for_the_backtests(model: Counting) -> None:
    with app_client(model, many_providers(20)) as client:
        rows = table(client, ",".join(f"T{i:02d}" for i in range(20)))
        sent = sorted(model.paths)
        page = client.get("/api/forecast/T00?periods=60").json()  # the ticker page's odds
    assert sent == ["/backtest", "/batch"]
    assert rows[0]["chance_higher"] == pytest.approx(page["odds"]["above"], abs=1e-4)
    assert len(rows) == 20
    for row in rows:
        assert row["error"] is None and row["forecast_error"] is None
        assert row["lower"] < row["forecast"] < row["upper"]
        assert 0.01 <= row["chance_higher"] <= 0.99  # the outermost quantiles: 1% and 99%
        assert row["backtest_mase"] > 0 and 0 <= row["backtest_coverage"] <= 1
        assert row["backtest_horizon"] == 60


def test_a_warm_repeat_asks_the_model_nothing(client: TestClient, model: Counting) -> None:
    first = table(client, "ACME,BOLT,CORE", periods="20")
    sent = len(model.paths)
    again = table(client, "ACME,BOLT,CORE", periods="20")
    assert len(model.paths) == sent == 2
    assert again == first


def test_the_ticker_page_finds_the_watchlists_forecast(client: TestClient, model: Counting) -> None:
    rows = table(client, "ACME,BOLT", periods="20")
    sent = len(model.paths)
    single = client.get("/api/forecast/BOLT", params={"periods": "20", "method": "calibrated"})
    assert single.status_code == 200
    assert len(model.paths) == sent  # the same request, so the same cached answer
    end = single.json()["forecast"][-1]
    assert (rows[1]["forecast"], rows[1]["forecast_date"]) == (end["yhat"], end["ds"])


def test_bad_symbols_are_rows_that_say_why(client: TestClient, model: Counting) -> None:
    rows = table(client, "acme, NOPE ,b@d,BOLT")
    assert [r["ticker"] for r in rows] == ["ACME", "NOPE", "B@D", "BOLT"]
    assert "NOPE" in rows[1]["error"] and rows[1]["forecast"] is None
    assert "not a ticker symbol" in rows[2]["error"]
    for row in (rows[0], rows[3]):
        assert row["error"] is None and row["forecast"] is not None
        assert row["backtest_mase"] is not None
    assert sorted(model.paths) == ["/backtest", "/batch"]


class Stuck(fakes.FakeProvider):
    """An online source (it lists no tickers, so it is asked in a worker thread, within the
    price budget) whose answer for STUCK comes only when `freed` is set."""

    def __init__(self, freed: threading.Event) -> None:
        super().__init__(
            "fake", {**fakes.providers()["fake"].frames, "STUCK": fakes.price_frame(600)}
        )
        self.freed = freed

    def tickers(self) -> list[str]:
        return []

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        if ticker.strip().upper() == "STUCK":
            self.freed.wait(timeout=60)
        return super().history(ticker, start, end)


def test_a_slow_ticker_holds_no_other(model: Counting) -> None:
    freed = threading.Event()
    settings = fakes.settings(price_time_budget=0.5)
    client = ModelClient(fakes.MODEL_URL, fakes.KEY, timeout=30, retries=0, transport=model)
    app = create_app(settings, providers={"fake": Stuck(freed)}, model_client=client)
    try:
        with TestClient(app, raise_server_exceptions=False) as test_client:
            rows = table(test_client, "ACME,STUCK,BOLT")
    finally:
        freed.set()
    assert "did not answer" in rows[1]["error"] and rows[1]["last"] is None
    assert rows[0]["forecast"] is not None and rows[2]["backtest_mase"] is not None


def test_a_refused_batch_leaves_the_prices_and_says_why(client: TestClient) -> None:
    model = Counting(model_request_rate_limit="1/minute")  # the second batch is refused
    with app_client(model, fakes.providers()) as busy:
        rows = table(busy, "ACME,BOLT")
    for row in rows:
        assert row["last"] is not None
        refused = [row["forecast_error"], row["backtest_error"]]
        assert len([why for why in refused if why]) == 1


@pytest.mark.parametrize("path", ["/api/watch", "/api/watch.csv", "/api/watch/prices"])
def test_more_than_fifty_tickers_is_a_400(client: TestClient, path: str) -> None:
    tickers = ",".join(f"X{i}" for i in range(watch.MAX_TICKERS + 1))
    response = client.get(path, params={"tickers": tickers})
    assert response.status_code == 400
    assert "at most 50 tickers" in response.json()["message"]
    assert client.get(path, params={"tickers": " , "}).status_code == 400


def test_the_page_says_so_too(client: TestClient, model: Counting) -> None:
    tickers = ",".join(f"X{i}" for i in range(watch.MAX_TICKERS + 1))
    page = client.get("/watch", params={"tickers": tickers})
    assert page.status_code == 400
    assert "at most 50 tickers; this one has 51" in page.text
    assert model.paths == []


def test_a_bad_horizon_is_a_400_page(client: TestClient) -> None:
    page = client.get("/watch", params={"tickers": "ACME", "h": "soon"})
    assert page.status_code == 400
    assert "whole number of trading days" in page.text
    assert client.get("/api/watch", params={"tickers": "ACME", "periods": ""}).status_code == 400


def test_the_csv_is_the_table(client: TestClient) -> None:
    rows = table(client, "ACME,NOPE,CORE")
    response = client.get("/api/watch.csv", params={"tickers": "ACME,NOPE,CORE"})
    assert response.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(response.text))
    assert list(frame.columns) == list(watch.COLUMNS)
    assert frame["ticker"].tolist() == ["ACME", "NOPE", "CORE"]
    for column in watch.COLUMNS:
        expected = [None if r[column] in (None, "") else r[column] for r in rows]
        got = [None if pd.isna(v) else v for v in frame[column].tolist()]
        assert got == pytest.approx(expected), column


def test_the_page_shows_the_prices_before_any_model_call(
    client: TestClient, model: Counting
) -> None:
    page = client.get("/watch", params={"tickers": "ACME,NOPE", "h": "20"})
    assert page.status_code == 200
    assert model.paths == []  # the forecasts come from the page's script
    prices = table(client, "ACME")
    assert f"{prices[0]['last']:,.2f}" in page.text
    assert "No prices for NOPE" in page.text
    assert 'href="/api/watch.csv?tickers=ACME%2CNOPE&amp;periods=20"' in page.text


def test_the_prices_step_asks_no_model(client: TestClient, model: Counting) -> None:
    response = client.get("/api/watch/prices", params={"tickers": "ACME,BOLT"})
    rows = response.json()["rows"]
    assert [r["ticker"] for r in rows] == ["ACME", "BOLT"]
    assert all(r["last"] > 0 and len(r["spark"]["close"]) == watch.SPARK_SESSIONS for r in rows)
    assert model.paths == []


def test_without_a_list_the_page_shows_the_default(client: TestClient) -> None:
    page = client.get("/watch")
    assert page.status_code == 200
    assert 'data-ticker="ACME"' in page.text and 'data-ticker="BOLT"' in page.text


def test_watchlist_and_compare_link_to_each_other(client: TestClient) -> None:
    tickers = ",".join(["ACME", "BOLT", "CORE", "NOPE", "X1", "X2"])
    page = client.get("/watch", params={"tickers": tickers})
    assert "/compare?tickers=ACME%2CBOLT%2CCORE%2CNOPE%2CX1" in page.text
    compare = client.get("/compare", params={"tickers": "ACME,BOLT"})
    assert "/watch?tickers=ACME%2CBOLT" in compare.text


def test_the_home_page_shows_the_default_watchlist(client: TestClient) -> None:
    home = client.get("/")
    assert "/watch?tickers=ACME%2CBOLT" in home.text
    assert 'id="home-watchlist"' in home.text


def test_a_row_carries_its_track_record(client: TestClient) -> None:
    engine = db.open_engine(fakes.settings().record_url)
    writes.store(engine, [shown("ACME", method="calibrated", source="fake", as_of="2020-01-02")])
    days = pd.bdate_range("2020-01-02", periods=10)
    scorer.score(engine, lambda t, s: pd.Series(100.0 + np.arange(10.0), index=days))
    engine.dispose()
    rows = table(client, "ACME,BOLT")
    assert rows[0]["record_scored"] > 0 and rows[0]["record_mase"] is not None
    assert rows[1]["record_scored"] is None and rows[1]["record_error"] is None
