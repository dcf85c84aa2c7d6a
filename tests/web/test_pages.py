"""The HTML pages: history without waiting for the model, every choice in the URL, uploads
that are never stored, compare, and a clear sentence on every failure."""

from __future__ import annotations

import html
import re
from typing import Any

import orjson
import pytest

from tests.support import fakes
from tests.web.conftest import MakeClient


def page_data(text: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', text, re.S)
    assert match, "the page embeds its data"
    return orjson.loads(match.group(1))


def test_home_lists_every_provider_ticker_and_the_upload_form(client) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    # No source in the links: the most recent source answers.
    for ticker in ["ACME", "BOLT", "CORE"]:
        assert f'href="/t/{ticker}"' in resp.text
    assert 'action="/upload"' in resp.text
    assert 'enctype="multipart/form-data"' in resp.text


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("ticker=acme", "/t/ACME"),
        ("ticker=CORE&source=other", "/t/CORE?source=other"),
        ("ticker=+bolt+", "/t/BOLT"),
    ],
)
def test_picker_goes_to_the_ticker_page(client, query, target) -> None:
    resp = client.get(f"/go?{query}", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == target


def test_picker_rejects_what_is_not_a_ticker(client) -> None:
    resp = client.get("/go?ticker=../etc", follow_redirects=False)
    assert resp.status_code == 400
    assert "is not a ticker symbol" in resp.text


def test_ticker_page_shows_history_without_calling_the_model(client, fake_model) -> None:
    resp = client.get("/t/ACME")
    assert resp.status_code == 200
    data = page_data(resp.text)
    assert data["name"] == "ACME"
    # All the history: the window is only how much of it the chart opens on.
    assert len(data["history"]["ds"]) == 600
    assert data["history"]["has_ohlc"] is True
    assert data["choices"]["window"] == "6m"
    assert data["windows"]["6m"] == 126 and data["step"] == "trading day"
    # The forecast is the API's, the same at every window.
    assert data["forecast_url"] == "/api/forecast/ACME?periods=60&method=calibrated"
    assert data["backtest_url"] == "/api/backtest/ACME?periods=60&method=calibrated"
    assert page_data(client.get("/t/ACME?window=1m").text)["forecast_url"] == data["forecast_url"]
    assert fake_model.requests == []  # the browser asks for the forecast afterwards
    assert "/static/vendor/plotly.min.js" in resp.text
    assert "cdn" not in resp.text.lower()


def test_ticker_page_renders_while_the_model_is_down(client, fake_model) -> None:
    fake_model.script = [fakes.refuse] * 10
    page = client.get("/t/ACME?h=10")
    assert page.status_code == 200
    assert len(page_data(page.text)["history"]["close"]) == 600
    api = client.get(page_data(page.text)["forecast_url"])
    assert (api.status_code, api.headers["retry-after"]) == (503, "30")
    assert api.json() == {"message": "The forecasting service could not be reached."}


def test_ticker_page_says_so_when_the_model_is_busy(client, fake_model, sleeps) -> None:
    fake_model.script = [fakes.busy("1")] * 3 + [fakes.busy("30")]  # 30 s: past the timeout
    api = client.get("/api/forecast/ACME?periods=5")
    assert sleeps == [1.0] * 3  # waited out while the wait fits
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert api.json()["message"] == "The forecasting service is busy; please try again in a minute."


DEFAULTS = {"chart": "line", "method": "calibrated"}
URL_CASES = [
    ({}, {"window": "6m", "h": "60", **DEFAULTS}),
    (
        {"window": "6m", "h": "20", "chart": "candles", "method": "prophet"},
        {"window": "6m", "h": "20", "chart": "candles", "method": "prophet"},
    ),
    ({"window": "max", "h": "500"}, {"window": "max", "h": "500", **DEFAULTS}),
    ({"window": "1m", "h": "5"}, {"window": "1m", "h": "5", **DEFAULTS}),
    ({"window": "6m", "h": "1", "source": "fake"}, {"window": "6m", "h": "1", **DEFAULTS}),
]


@pytest.mark.parametrize(("query", "expected"), URL_CASES)
def test_every_choice_round_trips_through_the_url(client, query, expected) -> None:
    resp = client.get("/t/ACME", params=query)
    assert resp.status_code == 200
    data = page_data(resp.text)
    assert data["choices"] == expected
    source = f"&source={query['source']}" if "source" in query else ""
    assert data["forecast_url"] == (
        f"/api/forecast/ACME?periods={expected['h']}{source}&method={expected['method']}"
    )
    text = resp.text
    assert re.search(rf'data-window="{expected["window"]}"[^>]*aria-pressed="true"', text)
    assert len(re.findall(r'aria-pressed="true"', text)) == 1
    assert f'<input type="hidden" name="window" id="window" value="{expected["window"]}">' in text
    assert f'value="{expected["h"]}"' in text
    assert re.search(rf'value="{expected["chart"]}"\s+checked', text)
    assert re.search(rf'name="method" value="{expected["method"]}"\s+checked', text)
    if source:
        assert '<input type="hidden" name="source" value="fake">' in text
    # The download links carry the same choices.
    assert html.escape(f"{data['forecast_url']}&format=csv") in text
    # And the API answers for exactly those choices.
    api = client.get(data["forecast_url"]).json()
    assert str(api["periods"]) == expected["h"]
    assert api["method"] == expected["method"]


def test_the_method_switch_and_the_mase_definition_are_on_the_page(client) -> None:
    text = client.get("/t/ACME").text
    assert "How good is this forecast?" in text
    assert "MASE = our mean absolute error ÷ the random walk&#39;s; below 1 beats it." in text
    assert re.search(r'name="method" value="calibrated"\s+checked', text)
    assert "calibrated (recommended)" in text
    assert "plain Prophet" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("window=7y", "window must be one of"),
        ("h=0", "between 1 and 500"),
        ("chart=pie", "chart must be one of"),
        ("method=magic", "method must be one of calibrated, prophet"),
    ],
)
def test_bad_choices_are_a_clear_html_page(client, query, message) -> None:
    resp = client.get(f"/t/ACME?{query}")
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("text/html")
    assert message in resp.text


def test_unknown_ticker_page_is_404_html(client) -> None:
    resp = client.get("/t/ZZZZ")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    assert "No prices for ZZZZ." in resp.text


def test_unknown_page_is_404_html(client) -> None:
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    assert "Page not found." in resp.text


def test_compare_normalises_to_100(client) -> None:
    resp = client.get("/compare?tickers=ACME,bolt,CORE&window=2y")
    assert resp.status_code == 200
    data = page_data(resp.text)
    assert list(data["series"]) == ["ACME", "BOLT", "CORE"]
    assert len(data["ds"]) == 504
    assert data["series"]["ACME"][0] == 100.0
    assert data["series"]["BOLT"][0] == 100.0
    assert data["series"]["CORE"][0] is None  # CORE's history is shorter than the others'
    first_core = next(v for v in data["series"]["CORE"] if v is not None)
    assert first_core == 100.0
    # Each line's first price, to put its forecast (from the JSON API) on the same scale.
    acme = client.get("/api/forecast/ACME?window=2y").json()["history"]
    assert data["first"]["ACME"] == pytest.approx(acme[0]["close"])
    assert data["forecast_urls"]["BOLT"] == "/api/forecast/BOLT?periods=60&method=calibrated"
    assert data["backtest_urls"]["CORE"] == "/api/backtest/CORE?periods=60&method=calibrated"
    assert 'value="ACME,BOLT,CORE"' in resp.text
    assert '<option value="2y" selected>' in resp.text


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("tickers=ACME", 400, "Pick between 2 and 5 tickers to compare."),
        ("tickers=A,B,C,D,E,F", 400, "Pick between 2 and 5 tickers to compare."),
        ("tickers=ACME,NOPE", 404, "No prices for NOPE."),
    ],
)
def test_compare_explains_what_is_wrong(client, query, status, message) -> None:
    resp = client.get(f"/compare?{query}")
    assert resp.status_code == status
    assert message in resp.text
    assert 'id="compare-form"' in resp.text


def test_compare_without_tickers_shows_the_form(client) -> None:
    resp = client.get("/compare")
    assert resp.status_code == 200
    assert 'id="compare-form"' in resp.text
    assert "page-data" not in resp.text


def csv_bytes(rows: int = 150) -> bytes:
    lines = ["date,close"] + [
        f"{d:%Y-%m-%d},{100 + i * 0.5}" for i, d in enumerate(fakes.sessions(rows))
    ]
    return ("\n".join(lines) + "\n").encode()


def test_upload_renders_the_series_in_the_page(client, fake_model) -> None:
    files = {"file": ("my-prices.csv", csv_bytes(), "text/csv")}
    resp = client.post("/upload", files=files, data={"name": ""})
    assert resp.status_code == 200
    data = page_data(resp.text)
    assert data["mode"] == "upload"
    assert data["name"] == "my-prices"
    assert len(data["history"]["ds"]) == 150
    assert data["history"]["close"][:2] == [100.0, 100.5]
    assert data["history"]["has_ohlc"] is False
    assert fake_model.requests == []
    # The page sends the series back for its forecast: nothing was kept on the server.
    assert data["choices"]["method"] == "calibrated"
    body = {"name": data["name"], "ds": data["history"]["ds"], "y": data["history"]["close"]}
    forecast = client.post("/api/forecast", json={**body, "periods": 5}).json()
    assert len(forecast["forecast"]) == 5
    assert fake_model.requests[0]["method"] == "calibrated"


def test_upload_takes_the_given_name(client) -> None:
    files = {"file": ("x.csv", csv_bytes(), "text/csv")}
    resp = client.post("/upload", files=files, data={"name": "Rainfall"})
    assert page_data(resp.text)["name"] == "Rainfall"


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"date,close\n2024-01-02,1\n", 400, "at least 2 are needed"),
        (b"when,close\n2024-01-02,1\n2024-01-03,2\n", 400, "no date column"),
        (b"date,close\n2024-01-02,1\nnope,2\n", 400, "is not a date"),
        (b"date,close\n" + b"2024-01-02,1\n" * 300, 413, "request too large"),
    ],
)
def test_bad_uploads_are_explained_on_the_home_page(
    make_client: MakeClient, content, status, message
) -> None:
    client = make_client(upload_max_bytes=3_000)
    resp = client.post("/upload", files={"file": ("f.csv", content, "text/csv")})
    assert resp.status_code == status
    assert "That file could not be used:" in resp.text
    assert message in resp.text
    assert 'id="upload-form"' in resp.text


def test_upload_without_a_file_asks_for_one(client) -> None:
    resp = client.post("/upload", data={"name": "x"})
    assert resp.status_code == 400
    assert "Choose a CSV file to upload." in resp.text


def test_upload_far_over_the_limit_is_refused_before_reading(make_client: MakeClient) -> None:
    client = make_client(upload_max_bytes=1_000)
    big = b"date,close\n" + b"2024-01-02,1\n" * 10_000
    resp = client.post("/upload", files={"file": ("f.csv", big, "text/csv")})
    assert resp.status_code == 413
    assert "request too large" in resp.text


def test_get_upload_goes_home(client) -> None:
    resp = client.get("/upload", follow_redirects=False)
    assert (resp.status_code, resp.headers["location"]) == (303, "/#upload")
