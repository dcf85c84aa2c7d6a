"""The model client against the real model service (mock mode) over HTTP: the contract as the
service speaks it, not as our fakes imagine it."""

from __future__ import annotations

from typing import Any

import anyio
import exchange_calendars as xcals
import orjson
import pandas as pd
import pytest

from tests.conftest import MODEL_KEYS
from tests.support import fakes
from tests.support.answers import response_frame
from tests.support.procs import ServiceProcess
from tickercast.contract import RESPONSE_KEYS
from tickercast.errors import UpstreamError
from tickercast.web.model_client import ModelClient, ModelRejected, model_request

pytestmark = pytest.mark.slow

DS = [d.strftime("%Y-%m-%d") for d in fakes.sessions(60)]
Y = [100.0 + (i % 7) for i in range(60)]


def forecast(
    svc: ServiceProcess,
    ds: list[str],
    y: list[float | None],
    key: str = MODEL_KEYS[0],
    **fields: Any,
) -> pd.DataFrame:
    """The service's forecast through a model client of its own, as a table."""

    async def ask() -> bytes:
        async with ModelClient(f"{svc.url}/", key, timeout=10, retries=0) as model:
            return await model.answer("forecast", model_request(ds, y, **fields))

    return response_frame(orjson.loads(anyio.run(ask)))


def test_forecast_on_nyse_sessions(mock_service: ServiceProcess) -> None:
    table = forecast(mock_service, DS, Y, periods=15, freq="XNYS")
    assert list(table.columns) == list(RESPONSE_KEYS)
    xnys = xcals.get_calendar("XNYS", start="2019-01-01", end="2021-12-31")
    expected = xnys.sessions[xnys.sessions > pd.Timestamp(DS[-1])][:15]
    assert list(table["ds"]) == list(expected.tz_localize(None))
    assert (table["yhat_lower"] <= table["yhat"]).all()
    assert (table["yhat"] <= table["yhat_upper"]).all()


def test_wrong_key(mock_service: ServiceProcess) -> None:
    with pytest.raises(UpstreamError, match="refused this app's key"):
        forecast(mock_service, DS, Y, key="not-a-key", periods=3)


def test_the_models_own_reason_reaches_the_user(mock_service: ServiceProcess) -> None:
    with pytest.raises(ModelRejected, match="could not use this series: fewer than 2 usable rows"):
        forecast(mock_service, DS[:2], [1.0, None], periods=3)
