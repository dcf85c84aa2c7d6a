"""The track record in the web app: what the API shows is kept (once, with its views and the
model's version), uploads are not; the record's API and page; with the database down, forecasts
are served as before and the record says it is unavailable."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import anyio
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support import fakes
from tests.web.conftest import MakeClient
from tickercast.cli.processes import free_port
from tickercast.record import db, scorer, writes
from tickercast.record.buffer import Recorder
from tickercast.record.tables import LEVELS, forecast_steps, forecast_views, forecasts
from tickercast.web.model_client import ModelAnswer
from tickercast.web.recording import shown_forecast
from tickercast.web.series import PAGE_LEVELS
from tickercast.web.track_record import RecordUnavailable, read


def record_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'record.sqlite3'}"


def stored(url: str) -> list[dict]:
    engine = db.open_engine(url)
    query = select(forecasts, forecast_views.c.views).select_from(
        forecasts.outerjoin(forecast_views)
    )
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(query)]
        steps = connection.execute(select(forecast_steps).order_by("step")).all()
    engine.dispose()
    for row in rows:
        row["steps"] = [s for s in steps if s.forecast_id == row["id"]]
    return rows


def show_and_close(client: TestClient, *paths: str) -> list[dict]:
    answers = []
    for path in paths:
        resp = client.get(path)
        assert resp.status_code == 200, resp.text
        answers.append(resp.json())
    client.__exit__(None, None, None)  # the app stops: what is pending is written
    return answers


def test_a_forecast_shown_is_kept_once_with_its_views_and_model_version(
    make_client: MakeClient, tmp_path: Path
) -> None:
    url = record_url(tmp_path)
    client = make_client(database_url=url)
    first, again, other = show_and_close(
        client, "/api/forecast/ACME", "/api/forecast/ACME", "/api/forecast/ACME?method=prophet"
    )
    rows = stored(url)
    assert [(r["ticker"], r["method"], r["views"]) for r in rows] == [
        ("ACME", "calibrated", 2),
        ("ACME", "prophet", 1),
    ]
    row = rows[0]
    assert (row["source"], row["kind"], row["model_version"]) == (
        "fake",
        "live",
        fakes.FAKE_VERSION,
    )
    assert row["as_of"].isoformat() == first["history"][-1]["ds"]
    assert row["last_price"] == pytest.approx(first["history"][-1]["close"])
    assert row["horizon"] == len(first["forecast"]) == first["periods"]
    assert [(s.ds.isoformat(), s.yhat, s.yhat_lower) for s in row["steps"]] == [
        (f["ds"], f["yhat"], f["yhat_lower"]) for f in first["forecast"]
    ]


def test_uploaded_series_are_not_kept(make_client: MakeClient, tmp_path: Path) -> None:
    url = record_url(tmp_path)
    client = make_client(database_url=url)
    days = [str(d.date()) for d in fakes.sessions(130)]
    body = {"name": "mine", "ds": days, "y": list(np.linspace(10, 20, 130)), "periods": 5}
    assert client.post("/api/forecast", json=body).status_code == 200
    client.__exit__(None, None, None)
    assert stored(url) == []


def scored_record(url: str, client: TestClient) -> None:
    """Scores for what `client` showed, as if the prices had gone on along the forecast (after
    a month of moves of 1% up and down to its as_of)."""
    engine = db.open_engine(url)
    (row,) = stored(url)
    before = pd.bdate_range(end=row["as_of"], periods=22)[:-1]
    days = pd.DatetimeIndex([*before, row["as_of"]] + [s.ds for s in row["steps"]])
    month = [row["last_price"] * (1.01 if k % 2 else 0.99) for k in range(len(before))]
    closes = [*month, row["last_price"]] + [s.yhat + 1.0 for s in row["steps"]]
    prices = pd.Series(closes, index=days)
    scorer.score(engine, lambda t, s: prices, dt.date(2100, 1, 1))
    engine.dispose()


def test_the_record_api_says_what_was_shown_and_how_it_did(
    make_client: MakeClient, tmp_path: Path
) -> None:
    url = record_url(tmp_path)
    show_and_close(make_client(database_url=url), "/api/forecast/ACME?periods=5")
    client = make_client(database_url=url)
    scored_record(url, client)
    resp = client.get("/api/track-record/acme?method=calibrated")
    assert resp.status_code == 200, resp.text
    record = resp.json()
    assert {k: record[k] for k in ("ticker", "source", "kind", "method", "forecasts")} == {
        "ticker": "ACME",
        "source": "fake",
        "kind": "live",
        "method": "calibrated",
        "forecasts": 1,
    }
    assert record["scored"] == 5 and record["coverage"] == 1.0  # 1 off, inside a band of ±5
    assert [s["step"] for s in record["by_step"]] == [1, 2, 3, 4, 5]
    ratios = [s["interval_score_ratio"] for s in record["by_step"]]
    assert all(r > 0 for r in ratios)  # against the random walk's band from the same month
    assert min(ratios) <= record["interval_score_ratio"] <= max(ratios)
    # One origin is its own stormy third.
    assert record["regime_coverage"] == {"calm": None, "middle": None, "stormy": 1.0}
    assert record["sentence"].startswith(
        f"Forecasts shown here for ACME since {record['first_as_of']}: 5 prices scored, errors "
    )
    assert record["sentence"].endswith("the 80% band held 100%.")
    listed = client.get("/api/track-record/ACME/forecasts?limit=1").json()
    (one,) = listed["forecasts"]
    assert one["window"] == "2y" and one["shown_first"] is not None
    assert [s["actual"] is not None for s in one["steps"]] == [True] * 5
    # The page asks for the quantiles at PAGE_LEVELS: the record keeps and scores each level.
    # Every price is 1 above the centre: outside the fake's 10% and 20% bands (half-widths
    # 0.49 and 0.99), inside the 30% one (1.50) and every wider one.
    calibration = {c["level"]: (c["coverage"], c["n"]) for c in record["calibration"]}
    assert list(calibration) == [float(level) for level in PAGE_LEVELS]
    assert calibration[10.0] == calibration[20.0] == (0.0, 5)
    assert {calibration[level] for level in PAGE_LEVELS if level >= 30} == {(1.0, 5)}
    level = record["calibration"][PAGE_LEVELS.index(80)]
    assert level["low"] == level["high"] == 1.0  # every resample of one forecast held
    assert record["wis_ratio"] is not None and record["wis_ratio"] > 0
    none_replayed = client.get("/api/track-record/ACME?kind=replayed")
    assert none_replayed.status_code == 200 and none_replayed.json()["forecasts"] == 0
    page = client.get("/track-record")
    assert (
        page.status_code == 200 and 'href="/t/ACME?source=fake&amp;method=calibrated"' in page.text
    )


def test_a_forecast_is_in_the_record_as_soon_as_it_is_stored(
    make_client: MakeClient, tmp_path: Path
) -> None:
    url = record_url(tmp_path)
    show_and_close(make_client(database_url=url), "/api/forecast/ACME?periods=5")
    client = make_client(database_url=url)  # the scorer has not run
    resp = client.get("/api/track-record/ACME")
    assert resp.status_code == 200, resp.text
    record = resp.json()
    assert (record["forecasts"], record["scored"], record["calibration"]) == (1, 0, [])
    assert record["sentence"].endswith("1 forecast kept, none of their prices known yet.")
    listed = client.get("/api/track-record/ACME/forecasts").json()
    (one,) = listed["forecasts"]
    assert [s["actual"] for s in one["steps"]] == [None] * 5
    page = client.get("/track-record")
    assert 'href="/t/ACME?source=fake&amp;method=calibrated"' in page.text


def test_a_ticker_with_nothing_stored_is_an_empty_record(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(database_url=record_url(tmp_path))
    resp = client.get("/api/track-record/nothing.yet")
    assert resp.status_code == 200, resp.text
    record = resp.json()
    assert (record["ticker"], record["forecasts"], record["scored"]) == ("NOTHING.YET", 0, 0)
    assert (record["calibration"], record["by_step"], record["wis_ratio"]) == ([], [], None)
    assert record["sentence"].startswith("Nothing kept for NOTHING.YET yet")
    listed = client.get("/api/track-record/NOTHING.YET/forecasts")
    assert listed.status_code == 200 and listed.json()["forecasts"] == []
    bad = client.get("/api/track-record/%3Cscript%3E")
    assert bad.status_code == 400 and "is not a ticker symbol" in bad.json()["message"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?kind=guessed", "kind must be one of live, replayed"),
        ("?method=oracle", "method must be one of"),
        ("/forecasts?limit=0", "limit must be between 1 and 500"),
        ("/forecasts?limit=many", "limit must be a whole number"),
    ],
)
def test_the_record_api_refuses_what_it_cannot_answer(
    client: TestClient, query: str, message: str
) -> None:
    resp = client.get(f"/api/track-record/ACME{query}")
    assert resp.status_code == 400
    assert message in resp.json()["message"]


def test_with_the_database_down_forecasts_are_served_and_the_record_is_unavailable(
    make_client: MakeClient,
) -> None:
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/record"
    client = make_client(database_url=down)
    assert client.get("/api/forecast/ACME").status_code == 200
    resp = client.get("/api/track-record/ACME")
    assert resp.status_code == 503
    assert resp.json()["message"].startswith("The track record is unavailable")
    assert resp.headers["Retry-After"]
    page = client.get("/track-record")
    assert page.status_code == 200 and "record-unavailable" in page.text
    ticker_page = client.get("/t/ACME")
    assert ticker_page.status_code == 200 and 'id="track-record"' in ticker_page.text


def test_a_record_read_that_never_answers_is_given_up_with_a_503(tmp_path: Path) -> None:
    """A database whose packets vanish gives no error: the read is given up at its deadline."""
    released = threading.Event()
    recorder = Recorder(record_url(tmp_path))

    def stuck(engine: object) -> int:
        released.wait(60)  # a query whose answer never comes (until the test lets it go)
        return 1

    async def ask() -> RecordUnavailable | int:
        try:
            return await read(recorder, stuck, deadline=0.2)
        except RecordUnavailable as exc:
            return exc

    try:
        got = anyio.run(ask)
    finally:
        released.set()
    assert isinstance(got, RecordUnavailable) and got.status == 503 and got.retry_after
    assert anyio.run(read, recorder, lambda engine: 7) == 7  # an answering read is read


def test_metrics_count_what_the_record_stored(make_client: MakeClient, tmp_path: Path) -> None:
    client = make_client(database_url=record_url(tmp_path))
    for _ in range(3):
        client.get("/api/forecast/ACME")
    client.get("/api/forecast/BOLT")
    stored_line = "tickercast_web_record_forecasts_stored_total 2.0"
    deadline = time.monotonic() + 10
    while stored_line not in (text := client.get("/metrics").text):  # the writer's next round
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    assert "tickercast_web_record_views_stored_total 4.0" in text
    assert "tickercast_web_record_buffered 0.0" in text
    assert "tickercast_web_record_dropped_total 0.0" in text
    assert "tickercast_web_record_steps_scored 0.0" in text
    assert "tickercast_web_record_up 1.0" in text


def test_a_forecast_answered_with_levels_is_kept_with_them_and_one_without_keeps_its_band(
    tmp_path: Path,
) -> None:
    def row(ds: str, levels: bool) -> dict:
        out = {"ds": ds, "yhat": 10.0, "yhat_lower": 9.0, "yhat_upper": 11.0}
        for level in LEVELS if levels else ():
            out[f"yhat_lower_{level}"], out[f"yhat_upper_{level}"] = 10 - level / 100, 10 + level
        return out

    def data(ticker: str, levels: bool) -> dict:
        days = ["2013-01-03", "2013-01-04"]
        forecast = [row(d, levels) for d in days]
        return {"ticker": ticker, "source": "fake", "method": "calibrated", "window": "1y",
                "interval_width": 0.8, "forecast": forecast}  # fmt: skip

    answer = ModelAnswer(b"{}", "fast/0.1.0")
    day = pd.Timestamp("2013-01-02")
    full = shown_forecast(data("ACME", True), day, 10.0, answer)
    older = shown_forecast(data("OLD", False), day, 10.0, answer)
    assert [k for k, _, _ in full.steps[0].levels] == list(LEVELS)
    assert full.steps[0].levels[-1] == (98, 10 - 0.98, 108.0)
    assert older.steps[0].levels == ()
    # Through the buffer's JSON and into the tables.
    again = [writes.ShownForecast.from_json(s.to_json()) for s in (full, older)]
    assert [s.steps for s in again] == [full.steps, older.steps]
    url = record_url(tmp_path)
    engine = Recorder(url).engine()
    assert writes.store(engine, again) == 2
    with engine.connect() as connection:
        rows = connection.execute(
            select(forecasts.c.ticker, forecast_steps).join(forecasts).order_by("ticker", "step")
        ).all()
    engine.dispose()
    assert [(r.ticker, r.lower_98, r.upper_10) for r in rows] == [
        ("ACME", pytest.approx(9.02), 20.0),
        ("ACME", pytest.approx(9.02), 20.0),
        ("OLD", None, None),
        ("OLD", None, None),
    ]
