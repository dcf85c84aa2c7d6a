"""`tickercast refresh`: the forecasts and backtests the ticker pages ask for, asked ahead."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import MODEL_KEYS
from tests.support import fakes
from tests.support.procs import ServiceProcess
from tests.support.redis_server import own_redis
from tickercast.errors import InvalidInput
from tickercast.settings import WebSettings
from tickercast.web.app import create_app, forecaster_from
from tickercast.web.forecasts import Forecaster
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import ModelClient
from tickercast.web.refresh import Job, Outcome, Progress, plan, refresh, summary


@pytest.fixture
def forecaster(fake_model: fakes.FakeModel) -> Forecaster:
    model = ModelClient("http://model.test/", fakes.KEY, transport=fake_model.transport())
    return forecaster_from(fakes.settings(), fakes.providers(), model, WebMetrics())


def test_the_plan_covers_every_listed_ticker_window_and_horizon(forecaster: Forecaster) -> None:
    jobs = plan(forecaster, [], ["1y", "2y"], [5])
    listed = {(t["ticker"], t["source"]) for t in forecaster.tickers()}
    assert {(j.ticker, j.source) for j in jobs} == listed
    assert len(jobs) == 2 * len(listed)
    assert plan(forecaster, ["ACME", "ACME"], ["1y"], [5, 60], ["calibrated", "prophet"]) == [
        Job("ACME", None, "1y", 5, "calibrated"),
        Job("ACME", None, "1y", 5, "prophet"),
        Job("ACME", None, "1y", 60, "calibrated"),
        Job("ACME", None, "1y", 60, "prophet"),
    ]
    with pytest.raises(InvalidInput):
        plan(forecaster, ["ACME"], ["1y"], [5], ["magic"])
    with pytest.raises(InvalidInput):
        plan(forecaster, ["ACME"], ["7y"], [5])
    with pytest.raises(InvalidInput):
        plan(forecaster, ["ACME"], ["1y"], [0])


def test_refresh_asks_what_a_page_asks_and_reports_failures(
    forecaster: Forecaster, fake_model: fakes.FakeModel
) -> None:
    jobs = [Job("ACME", None, "1y", 5), Job("NOPE", None, "1y", 5)]
    lines = io.StringIO()
    outcomes = anyio.run(refresh, forecaster, jobs, 2, Progress(len(jobs), lines).update)
    failed = [o for o in outcomes if o.error]
    assert [o.job.ticker for o in failed] == ["NOPE"]
    assert "NOPE" in failed[0].error
    # A forecast, then the backtest's folds: the very requests the page makes.
    settings = fakes.settings()
    page_model = fakes.FakeModel()
    model = ModelClient("http://model.test/", fakes.KEY, transport=page_model.transport())
    app = create_app(settings, providers=fakes.providers(), model_client=model)
    with TestClient(app) as client:
        assert client.get("/api/forecast/ACME?periods=5&window=1y").status_code == 200
        assert client.get("/api/backtest/ACME?periods=5&window=1y").status_code == 200
    assert fake_model.requests == page_model.requests
    text = lines.getvalue()  # not a terminal: one plain line a job
    assert len(text.splitlines()) == 2 and "\r" not in text
    assert re.search(r"refresh \d/2 NOPE window=1y h=5 method=calibrated: FAILED: ", text)
    assert summary(outcomes, 1.0).startswith("refreshed 1 of 2 ")


@pytest.mark.slow
def test_refresh_fills_the_cache_of_model_answers_the_pages_read() -> None:
    """With REDIS_URL, what refresh asked is in the web app's own cache: the pages of another
    process ask the model nothing."""
    with own_redis() as redis:
        settings = fakes.settings(redis_url=redis.url)
        refresh_model = fakes.FakeModel()
        model = ModelClient("http://model.test/", fakes.KEY, transport=refresh_model.transport())
        forecaster = forecaster_from(settings, fakes.providers(), model, WebMetrics())
        jobs = [Job("ACME", None, "1y", 5)]
        outcomes = anyio.run(refresh, forecaster, jobs, 1, lambda outcome: None)
        assert [o.error for o in outcomes] == [None] and refresh_model.requests
        page_model = fakes.FakeModel()
        model = ModelClient("http://model.test/", fakes.KEY, transport=page_model.transport())
        app = create_app(settings, providers=fakes.providers(), model_client=model)
        with TestClient(app) as client:
            assert client.get("/api/forecast/ACME?periods=5&window=1y").status_code == 200
            assert client.get("/api/backtest/ACME?periods=5&window=1y").status_code == 200
        assert page_model.requests == []


def test_on_a_terminal_the_bar_is_redrawn_in_place() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    bar = Progress(2, out)
    bar.update(Outcome(Job("A", None, "1y", 5), None, 0.1))
    bar.update(Outcome(Job("B", None, "1y", 5), "broken", 0.1))
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "2/2, 1 failed" in text


def _cache_lookups(model: ServiceProcess) -> dict[str, float]:
    text = httpx.get(f"{model.url}/metrics").text
    found = re.findall(r'tickercast_model_cache_total\{result="(\w+)"\} ([\d.]+)', text)
    return {result: float(n) for result, n in found}


@pytest.mark.slow
def test_the_command_fills_the_cache_the_pages_then_hit(mock_service: ServiceProcess) -> None:
    env = {"MODEL_API_URL": mock_service.url + "/", "MODEL_API_KEY": MODEL_KEYS[0]}
    command = [sys.executable, "-m", "tickercast", "refresh"]
    done = subprocess.run(
        [*command, "--periods", "7", "13", "--windows", "6m", "--concurrency", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    tickers = ("AAPL", "FB", "GOOG", "IBM", "MSFT")  # every embedded ticker
    assert f"refreshed {2 * len(tickers)} of {2 * len(tickers)} " in done.stdout
    assert len(re.findall(r"^refresh \d+/10 ", done.stderr, re.M)) == 10
    # The page's own requests are now answered from the cache.
    before = _cache_lookups(mock_service)
    settings = WebSettings(**{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    with TestClient(create_app(settings)) as client:
        for ticker in tickers:
            assert client.get(f"/api/forecast/{ticker}?periods=7&window=6m").status_code == 200
    after = _cache_lookups(mock_service)
    assert after.get("miss", 0) == before.get("miss", 0)
    assert after["hit"] - before.get("hit", 0) == len(tickers)

    failing = subprocess.run(
        [*command, "AAPL", "ZZZZ", "--periods", "7", "13"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failing.returncode == 1
    assert (
        "refreshed 2 of 4 " in failing.stdout
        and "ZZZZ window=2y h=7 method=calibrated:" in failing.stdout
    )
