"""The model cache's key holds the fit engine's version tag: an answer cached before the fast
fit's version changed is not served after it (the default engine's included), and CmdStan's
answers are not disturbed by it.
The Prophet engine's own tags, with a fake fit (no Prophet here)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from tickercast.contract import ForecastRequest
from tickercast.model import engine as engine_module
from tickercast.model.api import create_app
from tickercast.model.engine import Method, MockEngine, ProphetEngine, requested_engine
from tickercast.runtime.cache import bytes_lru
from tickercast.settings import ModelSettings

KEY = "k-versions"
BODY = {"key": KEY, "ds": [f"2024-01-{d:02d}" for d in range(1, 11)], "y": list(range(10))}


class FakeFitProphetEngine(ProphetEngine):
    """The Prophet engine's cache tags, the mock's answers; counts the fits per engine."""

    def __init__(self) -> None:
        super().__init__()
        self.name = "prophet-test-1"
        self.fitted_by: list[str] = []

    def warm_up(self) -> None:
        return None

    def method(self, req: ForecastRequest, fit_engine: str | None = None) -> Method:
        def forecast(r: ForecastRequest) -> dict[str, np.ndarray]:
            self.fitted_by.append(fit_engine or requested_engine(r))
            return MockEngine().forecast(r)

        return replace(super().method(req, fit_engine), forecast=forecast)


def test_a_fast_answer_cached_before_a_fit_version_bump_is_not_served_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeFitProphetEngine()
    app = create_app(ModelSettings(model_api_keys=KEY), engine=fake, cache=bytes_lru())
    fast, cmdstan = {**BODY, "engine": "fast"}, {**BODY, "engine": "cmdstan"}
    with TestClient(app) as client:

        def post(body: dict[str, object]) -> None:
            assert client.post("/", content=orjson.dumps(body)).status_code == 200

        for body in (fast, cmdstan, BODY, fast, cmdstan, BODY):
            post(body)
        # the repeats were cached; the default is the fast fit, and its answer is the same
        assert fake.fitted_by == ["fast", "cmdstan"]
        monkeypatch.setattr(engine_module, "FAST_FIT_VERSION", engine_module.FAST_FIT_VERSION + 1)
        for body in (fast, cmdstan, BODY, fast, BODY):
            post(body)
    # the fast answer recomputed once, for both bodies; CmdStan's still cached
    assert fake.fitted_by == ["fast", "cmdstan", "fast"]
