"""The analysis download (GET /api/analysis/{ticker}): one JSON document, or the same as a zip
of CSV files, from which the ticker page can be rebuilt."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from tests.support import fakes
from tests.support.shown import shown
from tickercast.record import db, writes
from tickercast.web.forecasts import MODEL_HISTORY


@pytest.fixture
def client(make_client):
    return make_client()


def test_the_json_holds_what_the_page_is_made_of(client, fake_model) -> None:
    resp = client.get("/api/analysis/ACME?periods=20&window=1y")
    assert resp.status_code == 200, resp.text
    assert 'filename="ACME-analysis-20.json"' in resp.headers["content-disposition"]
    data = resp.json()
    (forecast_sent,) = fake_model.sent("/")
    # The prices the forecast used, exactly as the model got them (the fixed history).
    assert [p["ds"] for p in data["prices"]] == forecast_sent["ds"]
    assert [p["close"] for p in data["prices"]] == forecast_sent["y"]
    assert len(data["forecast"]) == data["horizon"] == 20
    # The odds' numbers and the quantiles they are read from, as the forecast states them.
    shown = client.get("/api/forecast/ACME?periods=20&window=1y").json()
    assert data["odds"] == shown["odds"]
    assert data["odds"]["price"] == pytest.approx(forecast_sent["y"][-1])
    assert data["quantiles"] == shown["quantiles"] and len(data["quantiles"]) == 23
    backtest = data["backtest"]
    assert backtest["cutoffs"] == len(backtest["folds"]) == 50
    assert [b["level"] for b in backtest["coverage"]] == [50, 80, 95]
    assert data["model_version"] == fakes.FAKE_VERSION
    assert data["page_url"] == "http://testserver/t/ACME?window=1y&h=20&method=calibrated"
    assert "record" in data  # the track record's summary (test below)
    assert "history" not in data  # the window's history is the page's; `prices` is bounded


def test_the_zip_holds_the_same_as_csv_files_pandas_reads(client) -> None:
    data = client.get("/api/analysis/ACME?periods=20").json()
    resp = client.get("/api/analysis/ACME?periods=20&format=zip")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/zip"
    assert 'filename="ACME-analysis-20.zip"' in resp.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(resp.content))

    def table(name: str) -> pd.DataFrame:
        return pd.read_csv(archive.open(name))

    prices = table("prices.csv")
    assert list(prices.columns) == ["ds", "close"]
    assert prices["close"].tolist() == pytest.approx([p["close"] for p in data["prices"]])
    forecast = table("forecast.csv")
    assert forecast["yhat_upper"].tolist() == pytest.approx(
        [r["yhat_upper"] for r in data["forecast"]]
    )
    folds = table("backtest_folds.csv")
    assert folds["test_end"].tolist() == [f["test_end"] for f in data["backtest"]["folds"]]
    scores = table("backtest_scores.csv")
    overall = scores[(scores["method"] == "calibrated") & (scores["step"] == "overall")]
    assert overall["relative_mae"].item() == fakes.FAKE_MASE
    assert len(scores[scores["method"] == "calibrated"]) == 1 + 20  # overall and each step
    levels = table("backtest_levels.csv")
    eighty = levels[(levels["step"] == "overall") & (levels["level"] == 80)]
    assert eighty[["coverage", "low", "high"]].iloc[0].tolist() == [0.79, 0.73, 0.84]
    coverage = table("backtest_coverage.csv")
    assert coverage["sentence"].tolist() == [b["sentence"] for b in data["backtest"]["coverage"]]
    about = dict(table("about.csv").itertuples(index=False))
    assert about["model_version"] == fakes.FAKE_VERSION
    assert about["page_url"] == data["page_url"]
    odds = table("odds.csv")
    pairs = dict(odds[odds["field"] != "text"].itertuples(index=False))
    assert float(pairs["above"]) == pytest.approx(data["odds"]["above"])
    assert odds[odds["field"] == "text"]["value"].tolist() == data["odds"]["text"]
    quantiles = table("quantiles.csv")
    assert quantiles["value"].tolist() == pytest.approx([q["value"] for q in data["quantiles"]])


def test_the_record_summary_is_in_it_when_the_record_has_the_ticker(make_client) -> None:
    engine = db.open_engine(fakes.settings().record_url)  # the test's own record (conftest)
    writes.store(engine, [shown("ACME", source="fake", as_of="2022-05-02")])
    engine.dispose()
    data = make_client().get("/api/analysis/ACME?periods=5").json()
    assert data["record"]["ticker"] == "ACME"
    assert data["record"]["first_as_of"] == "2022-05-02"


def test_the_prices_are_bounded_by_the_models_history(make_client) -> None:
    long = {"LONG": fakes.price_frame(MODEL_HISTORY + 300)}
    providers = {"fake": fakes.FakeProvider("fake", long)}
    data = make_client(providers).get("/api/analysis/LONG?periods=5").json()
    assert len(data["prices"]) == MODEL_HISTORY


def test_a_history_too_short_to_backtest_still_downloads_with_the_reason(
    make_client, fake_model
) -> None:
    providers = {"fake": fakes.FakeProvider("fake", {"TINY": fakes.price_frame(7)})}
    resp = make_client(providers).get("/api/analysis/TINY?periods=5&method=prophet")
    assert resp.status_code == 200
    assert "needs at least" in resp.json()["backtest"]["error"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("format=csv", "format must be json or zip"),
        ("periods=0", "the horizon must be between 1 and 500"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client, query: str, message: str) -> None:
    resp = client.get(f"/api/analysis/ACME?{query}")
    assert resp.status_code == 400
    assert message in resp.json()["message"]


def test_the_ticker_page_links_to_both(client) -> None:
    html = client.get("/t/ACME?h=20").text
    assert 'href="/api/analysis/ACME?periods=20&amp;method=calibrated"' in html
    assert 'href="/api/analysis/ACME?periods=20&amp;method=calibrated&amp;format=zip"' in html
