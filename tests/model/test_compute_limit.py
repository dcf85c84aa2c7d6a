"""The model's rate limit in CPU (model/compute.py): what a fit is charged, the `auto` default,
a key over it refused with Retry-After, and the site's own 50-origin pages well within it."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.model.test_api import KEY, assert_error, settings
from tests.support.loop import run
from tickercast.contract import parse_request
from tickercast.errors import RateLimited
from tickercast.model import compute
from tickercast.model.api import create_app
from tickercast.runtime.redis_store import Store
from tickercast.settings import ModelSettings

ROWS = 1250
PAGE_LEVELS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98)  # the web app's (web/series.py)
DAYS = [str(d.date()) for d in pd.bdate_range("2019-01-02", periods=ROWS)]


def request(n: int = ROWS, periods: int = 60, **fields: object) -> dict[str, object]:
    y = (100 * np.exp(np.cumsum(np.random.default_rng(n).normal(0, 0.01, n)))).tolist()
    return {"ds": DAYS[:n], "y": y, "periods": periods, "freq": "B", **fields}


def cost(**fields: object) -> float:
    return compute.fit_cost_ms(parse_request(request(**fields)))


def test_a_fit_costs_more_with_more_rows_steps_levels_and_the_slower_engine() -> None:
    assert cost(n=250) < cost() < cost(n=1250, periods=250)
    assert cost(method="calibrated") < cost()  # no uncertainty draws per step
    assert cost(levels=[50, 80]) > cost()
    assert cost(engine="cmdstan") > 5 * cost()  # its optimizer, a process of its own
    assert compute.units(cost(n=3, periods=1)) == 1  # even the smallest fit counts


def test_auto_is_three_quarters_of_the_fit_slots_time() -> None:
    assert compute.compute_rate("auto", 2) == "90000/minute"
    assert compute.compute_rate("AUTO", 1) == "45000/minute"
    assert compute.compute_rate("5000/second", 8) == "5000/second"
    with pytest.raises(ValidationError, match="neither auto nor a rate"):
        ModelSettings(model_api_keys="k", model_rate_limit="lots")


def test_cpu_beyond_the_estimate_is_counted_after_the_fit() -> None:
    limit = compute.ComputeLimit("100/minute", 1, Store(None))  # 10 hundredths of a second
    req = parse_request(request(n=3, periods=1))

    async def scenario() -> None:
        charged = await limit.charge("a", req)
        await limit.settle("a", charged, 0.25)  # a slow fit: more than is left, all of it
        with pytest.raises(RateLimited) as caught:
            await limit.charge("a", req)
        assert 1 <= caught.value.retry_after <= 61
        await limit.charge("b", req)  # another key

    run(scenario())


def test_one_request_larger_than_the_whole_limit_still_passes_on_an_idle_key() -> None:
    limit = compute.ComputeLimit("10/minute", 1, Store(None))  # one hundredth of a second
    big = parse_request(request(periods=500))
    assert compute.units(compute.fit_cost_ms(big)) > 1

    async def scenario() -> None:
        await limit.charge("a", big)
        with pytest.raises(RateLimited):
            await limit.charge("a", big)

    run(scenario())


def test_a_key_over_its_cpu_gets_429_with_retry_after() -> None:
    body = {"key": KEY, **request(n=300, periods=300)}  # about 0.1 s of CPU each
    per_fit = compute.units(compute.fit_cost_ms(parse_request(body))) * compute.UNIT_MS
    app = create_app(settings(model_rate_limit=f"{2 * per_fit}/minute"))
    with TestClient(app) as client:
        for periods in (300, 301):
            resp = client.post("/", content=orjson.dumps({**body, "periods": periods}))
            assert resp.status_code == 200
        resp = client.post("/", content=orjson.dumps({**body, "periods": 302}))
        assert_error(resp, 429, "rate limit exceeded")
        assert 1 <= int(resp.headers["retry-after"]) <= 61


def page_backtest(seed: int) -> dict[str, object]:
    """What a ticker page asks: 50 origins at 60 steps, every page level, 1,250 prices."""
    y = (100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, ROWS)))).tolist()
    return {
        "key": KEY,
        "ds": DAYS,
        "y": y,
        "freq": "B",
        "method": "calibrated",
        "horizon": 60,
        "cutoffs": 50,
        "interval_width": 0.8,
        "levels": list(PAGE_LEVELS),
    }


def test_cold_pages_of_50_origins_on_the_sites_key_stay_within_the_default() -> None:
    # One fit slot, the least `auto` is sized for: 45 s of CPU a minute per key. A cold page's
    # 50 folds cost well under a second, so a minute holds over 60 of them on one key.
    folds = [
        parse_request({**page_backtest(0), "periods": 60, "ds": DAYS[:e], "y": [1.0] * e})
        for e in np.linspace(170, ROWS - 60, 50).astype(int)
    ]
    page_ms = sum(compute.fit_cost_ms(f) for f in folds)
    assert page_ms < 1000 and 60 * page_ms < 45_000
    app = create_app(settings(model_fit_slots=1))
    with TestClient(app) as client:
        for seed in range(4):
            resp = client.post("/backtest", content=orjson.dumps(page_backtest(seed)))
            assert resp.status_code == 200, resp.text
            assert len(resp.json()["folds"]) == 50
