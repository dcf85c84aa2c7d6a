"""What a hostile or careless caller sends the web app: each bad input a clear 4xx that never
reaches the model, the model's own refusals passed on as the user's 400, security headers on
every answer, compressed and cacheable static files, and messages that read as sentences."""

from __future__ import annotations

import gzip

import httpx
import pytest

from tests.support import fakes
from tests.web.conftest import MakeClient
from tickercast.errors import sentence
from tickercast.web.headers import SECURITY_HEADERS
from tickercast.web.series import WINDOWS, in_window

DS = [d.strftime("%Y-%m-%d") for d in fakes.sessions(40)]


def series(**changes: object) -> dict[str, object]:
    return {"ds": DS, "y": [100.0 + i for i in range(40)], "periods": 5, **changes}


BAD_SERIES = [
    # (body, message): each refused by the web app itself, the model never called
    (series(ds=["2020-01-01"] * 40), "Invalid input: ds[1] repeats the date 2020-01-01 of ds[0]."),
    (series(ds=DS[:39] + [DS[3]]), "Invalid input: ds[39] repeats the date 2020-01-07 of ds[3]."),
    (
        series(ds=["1750-01-01"] + DS[1:]),
        "Invalid input: ds[0] is not a date written YYYY-MM-DD from 1900 to 2099: '1750-01-01'.",
    ),
    (
        series(ds=DS[:39] + ["2020-02-30"]),
        "Invalid input: ds[39] is not a date written YYYY-MM-DD from 1900 to 2099: '2020-02-30'.",
    ),
    (series(ds=DS[:39] + ["03/01/2020"]), "Invalid input: ds[39] is not a date written"),
    (series(ds=DS[:39] + [20200301]), "Invalid input: ds[39] is not a date written"),
    (series(ds="2020-01-01"), "Invalid input: ds must be a list."),
    (series(y=None), "Invalid input: y is missing."),
    (series(y=[None] * 39 + [1.0]), "Invalid input: y[0] is not a number."),
    (series(y=["100.5"] * 40), "Invalid input: y[0] is not a number."),
    (series(y=[True] * 40), "Invalid input: y[0] is not a number."),
    (series(y=[1.0] * 39 + [-2e300]), "Invalid input: y[39] is over 1e+15 in size."),
    (series(periods=0), "Invalid input: periods must be a positive integer."),
    (series(periods=2.5), "Invalid input: periods must be a positive integer."),
    (series(periods=501), "Invalid input: periods must be at most 500."),
    (series(ds=DS[:-1]), "Invalid input: ds has 39 values but y has 40."),
    (series(ds=DS[:1], y=[1.0]), "Invalid input: fewer than 2 usable rows"),
    (series(name=["x"]), "Invalid input: name must be a string."),
]


@pytest.mark.parametrize(("body", "message"), BAD_SERIES)
@pytest.mark.parametrize("path", ["/api/forecast", "/api/backtest"])
def test_a_bad_posted_series_is_refused_before_the_model(
    client, fake_model, path, body, message
) -> None:
    resp = client.post(path, json=body)
    assert resp.status_code == 400
    assert resp.json()["message"].startswith(message)
    assert fake_model.requests == []


def test_the_models_refusal_is_the_users_400_with_its_sentence(client, fake_model) -> None:
    refusal = {"message": "invalid input: y[3] is not a number"}
    fake_model.script = [lambda request: httpx.Response(400, json=refusal)]
    resp = client.post("/api/forecast", json=series())
    assert resp.status_code == 400
    assert resp.json() == {
        "message": "The forecasting service could not use this series: y[3] is not a number."
    }


@pytest.mark.parametrize(
    ("window", "sessions"), [("3m", 63), ("6m", 126), ("1y", 252), ("2y", 504), ("5y", 1260)]
)
def test_each_window_is_its_number_of_sessions(window, sessions) -> None:
    frame = fakes.price_frame(1500)
    assert WINDOWS[window] == sessions
    shown = in_window(frame, window)
    assert len(shown) == sessions
    assert shown.index[0] == frame.index[-sessions]
    assert shown.index[-1] == frame.index[-1]


def test_one_year_of_history_is_252_sessions_in_the_api(client, fake_model) -> None:
    data = client.get("/api/forecast/ACME?window=1y&periods=2").json()
    frame = fakes.providers()["fake"].frames["ACME"]
    assert len(data["history"]) == 252
    assert data["history"][0]["ds"] == f"{frame.index[-252]:%Y-%m-%d}"
    assert len(fake_model.requests[0]["ds"]) == 600  # the model's fixed history: all 600


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/t/ACME",
        "/compare",
        "/api/tickers",
        "/api/forecast/NOPE",
        "/no/such/page",
        "/static/app.css",
        "/static/vendor/plotly.min.js",
        "/openapi.json",
        "/healthz",
    ],
)
def test_security_headers_on_every_answer(client, path) -> None:
    resp = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers[name] == value, name
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp  # no inline or eval'd script
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_security_headers_on_unexpected_errors_too(client, fake_model) -> None:
    fake_model.script = [lambda r: (_ for _ in ()).throw(RuntimeError("boom"))]
    resp = client.get("/api/forecast/ACME")
    assert resp.status_code == 500
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_a_wrong_method_says_which_are_allowed(client) -> None:
    resp = client.delete("/api/forecast/ACME")
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "GET"


def test_plotly_is_compressed_cached_and_answers_head(client) -> None:
    path = "/static/vendor/plotly.min.js"
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert len(plain.content) > 3_000_000
    with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as zipped:
        assert zipped.headers["Content-Encoding"] == "gzip"
        wire = b"".join(zipped.iter_raw())
    assert len(wire) < len(plain.content) / 2
    assert gzip.decompress(wire) == plain.content
    head = client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Cache-Control"] == "public, max-age=86400"
    etag, modified = plain.headers["ETag"], plain.headers["Last-Modified"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    # Only plotly.min.js is served from the plotly package.
    assert client.get("/static/vendor/package.json").status_code == 404


def test_own_static_files_are_cached_and_revalidated(client) -> None:
    resp = client.get("/static/app.css")
    assert resp.headers["Cache-Control"] == "public, max-age=3600"
    assert (
        client.get("/static/app.css", headers={"If-None-Match": resp.headers["ETag"]}).status_code
        == 304
    )
    assert client.head("/static/ticker.js").status_code == 200


def test_pages_and_json_are_compressed_when_large(client) -> None:
    page = client.get("/t/ACME", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # under the minimum size


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("invalid input: window must be one of 3m", "Invalid input: window must be one of 3m."),
        ("No price source has the ticker 'ZZZZ'.", "No price source has the ticker 'ZZZZ'."),
        ("ds[3] is not a date", "ds[3] is not a date."),
        ("Is it busy?", "Is it busy?"),
        ("", ""),
    ],
)
def test_sentence(raw, shown) -> None:
    assert sentence(raw) == shown


def test_api_messages_are_sentences(client) -> None:
    for path in ("/api/forecast/ACME?window=9y", "/api/forecast/ZZZZ", "/api/nowhere"):
        message = client.get(path).json()["message"]
        assert message[0].isupper(), message
        assert message.endswith(".") and not message.endswith(".."), message


def test_an_unknown_ticker_to_compare_ends_with_one_period(client) -> None:
    resp = client.get("/compare?tickers=ACME,ZZZZ")
    assert resp.status_code == 404
    assert "No prices for ZZZZ.<" in resp.text
    assert "&#39;.." not in resp.text


def test_a_bad_window_to_compare_keeps_the_form(client) -> None:
    resp = client.get("/compare?tickers=ACME,BOLT&window=9y")
    assert resp.status_code == 400
    assert 'id="compare-form"' in resp.text
    assert 'value="ACME,BOLT"' in resp.text
    assert "Pick a window among 3m, 6m, 1y, 2y, 5y, max." in resp.text


def test_the_compare_menu_link_opens_a_form_that_is_really_filled_in(client) -> None:
    resp = client.get("/compare")
    assert resp.status_code == 200
    assert 'value="ACME,BOLT,CORE"' in resp.text
    assert 'placeholder="e.g.' in resp.text  # a hint that does not look like a value


def test_a_bad_upload_message_is_one_sentence(client) -> None:
    content = b"date,close\n2024-01-02,1\n2024-01-02,2\n"
    resp = client.post("/upload", files={"file": ("p.csv", content, "text/csv")})
    assert resp.status_code == 400
    assert "That file could not be used: invalid input: row 3" in resp.text
    assert "row 2.<" in resp.text


def test_upload_max_is_respected(make_client: MakeClient) -> None:
    client = make_client(upload_max_bytes=2_000)
    resp = client.post("/api/forecast", content=b"x" * 9_000)
    assert resp.status_code == 413
    assert resp.json()["message"].startswith("Request too large")
