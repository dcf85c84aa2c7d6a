"""The model client against the real model service (mock mode) over HTTP: the contract as the
service speaks it, not as our fakes imagine it."""

from __future__ import annotations

import exchange_calendars as xcals
import pandas as pd
import pytest

from tests.conftest import MODEL_KEYS
from tests.procs import ServiceProcess
from tests.web import fakes
from tickercast.contract import RESPONSE_KEYS
from tickercast.errors import UpstreamError
from tickercast.web.model_client import ModelClient, ModelRejected

pytestmark = pytest.mark.slow

DS = [d.strftime("%Y-%m-%d") for d in fakes.sessions(60)]
Y = [100.0 + (i % 7) for i in range(60)]


def client(svc: ServiceProcess, key: str = MODEL_KEYS[0]) -> ModelClient:
    return ModelClient(f"{svc.url}/", key, timeout=10, retries=0)


def test_forecast_on_nyse_sessions(mock_service: ServiceProcess) -> None:
    with client(mock_service) as model:
        table = model.forecast(DS, Y, periods=15, freq="XNYS")
    assert list(table.columns) == list(RESPONSE_KEYS)
    xnys = xcals.get_calendar("XNYS", start="2019-01-01", end="2021-12-31")
    expected = xnys.sessions[xnys.sessions > pd.Timestamp(DS[-1])][:15]
    assert list(table["ds"]) == list(expected.tz_localize(None))
    assert (table["yhat_lower"] <= table["yhat"]).all()
    assert (table["yhat"] <= table["yhat_upper"]).all()


def test_wrong_key(mock_service: ServiceProcess) -> None:
    with (
        client(mock_service, key="not-a-key") as model,
        pytest.raises(UpstreamError, match="refused this app's key"),
    ):
        model.forecast(DS, Y, periods=3)


def test_the_models_own_reason_reaches_the_user(mock_service: ServiceProcess) -> None:
    with (
        client(mock_service) as model,
        pytest.raises(ModelRejected, match="could not use this series: fewer than 2 usable rows"),
    ):
        model.forecast(DS[:2], [1.0, None], periods=3)
