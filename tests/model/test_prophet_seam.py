"""The Prophet seam, without a fit: our predict equals Prophet's own on fixed parameters to the
bit, our Prophet subclass builds Prophet's own features, and the supported Prophet releases are
pinned, installed and checked at start."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tickercast.model.prophet_seam import forecasting, versions
from tickercast.model.prophet_seam.predict import laplace_where, predict
from tickercast.model.prophet_seam.versions import SUPPORTED_PROPHET, UnsupportedProphet

ROOT = Path(__file__).resolve().parents[2]

# History dates, each shaping a different model: weekly and yearly seasonality on calendar
# days, weekly only on weekdays, nothing seasonal (Prophet's placeholder column) on a few days.
HISTORIES = {
    "daily, three years": pd.date_range("2019-01-01", periods=3 * 365, freq="D"),
    "weekdays, one year": pd.bdate_range("2021-03-01", periods=260),
    "twelve days": pd.date_range("2022-05-02", periods=12, freq="D"),
}


def prepared(ds: pd.DatetimeIndex, seed: int) -> object:
    """Plain Prophet set up on `ds` as its fit sets itself up, its parameters drawn from `seed`
    instead of fitted: every attribute its predict reads, and no optimizer run."""
    from prophet import Prophet

    forecasting.load_prophet()
    rng = np.random.default_rng(seed)
    y = 50 + np.cumsum(rng.normal(0, 1, len(ds)))
    model = Prophet()
    inputs = model.preprocess(pd.DataFrame({"ds": ds, "y": y}))
    delta = rng.laplace(0, 0.05, inputs.S)
    delta[rng.random(inputs.S) < 0.3] = 0.0  # a fit leaves many changepoints unused
    model.params = {
        "k": np.array([[rng.normal(0, 0.5)]]),
        "m": np.array([[rng.uniform(0, 1)]]),
        "delta": delta.reshape(1, -1),
        "sigma_obs": np.array([[rng.uniform(0.01, 0.1)]]),
        "beta": rng.normal(0, 0.05, (1, inputs.K)),
    }
    return model


@pytest.mark.parametrize("history", list(HISTORIES))
@pytest.mark.parametrize(("with_history", "width", "seed"), [(False, 0.8, 1), (True, 0.95, 2)])
def test_our_predict_is_prophets_to_the_bit_on_fixed_parameters(
    history: str, with_history: bool, width: float, seed: int
) -> None:
    ds = HISTORIES[history]
    model = prepared(ds, seed)
    future = pd.date_range(ds[-1] + pd.Timedelta(days=1), periods=30, freq="D")
    dates = ds.append(future) if with_history else future
    ours = predict(model, dates, width, seed)

    model.interval_width = width  # type: ignore[attr-defined]
    np.random.seed(seed)
    theirs = model.predict(pd.DataFrame({"ds": dates}))  # type: ignore[attr-defined]
    expected = {c for c in theirs.columns if not c.startswith("multiplicative_terms")} - {"ds"}
    assert set(ours) == expected
    for column, values in ours.items():
        assert np.array_equal(values, theirs[column].to_numpy()), column


@pytest.mark.parametrize("history", list(HISTORIES))
def test_our_prophet_builds_prophets_own_features(history: str) -> None:
    """The two private methods our Prophet overrides (`fourier_series`, and
    `regressor_column_matrix` remembered per set of columns) give Prophet's features, twice."""
    from prophet import Prophet

    forecasting.load_prophet()
    ds = HISTORIES[history]
    frame = pd.DataFrame({"ds": ds, "y": 10 + np.sin(np.arange(len(ds)))})
    theirs = Prophet().preprocess(frame)
    for _ in range(2):  # the second time from the remembered table
        ours = forecasting._fast_prophet()().preprocess(frame)
        for field in ("X", "sigmas", "s_a", "s_m", "t", "t_change", "y"):
            assert np.array_equal(
                np.asarray(getattr(ours, field)), np.asarray(getattr(theirs, field))
            ), field


def test_the_supported_releases_are_pinned_and_installed() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["optional-dependencies"]["model"] == [f"prophet{SUPPORTED_PROPHET}"]
    for lock in ("requirements.lock", "deploy/requirements-model.lock"):
        (pinned,) = re.findall(r"^prophet==(\S+)$", (ROOT / lock).read_text(), re.M)
        assert versions.is_supported(pinned), lock
    assert versions.check_prophet() == pinned  # the installed one


@pytest.mark.parametrize(
    ("version", "supported"),
    [
        ("1.5.0", True),
        ("1.5.7", True),
        ("1.5.0.post1", True),
        ("1.4.9", False),
        ("1.6.0", False),
        ("1.6", False),
        ("2.0.0", False),
        ("1.1.6", False),
    ],
)
def test_a_release_outside_the_range_is_refused_naming_both(version: str, supported: bool) -> None:
    if supported:
        assert versions.check_prophet(version) == version
        return
    with pytest.raises(UnsupportedProphet) as refused:
        versions.check_prophet(version)
    assert f"Prophet {version} is installed" in str(refused.value)
    assert f"prophet{SUPPORTED_PROPHET}" in str(refused.value)


def test_the_service_does_not_start_with_an_unsupported_prophet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tickercast.cli import model_server as server

    started: list[object] = []
    monkeypatch.setenv("MODEL_API_KEYS", "k")
    monkeypatch.setattr(versions.metadata, "version", lambda name: "1.6.0")
    monkeypatch.setattr(server, "run_gunicorn", lambda *args, **kw: started.append(args) or 0)
    assert server.serve("127.0.0.1", 0, 1, mock=False) == 2
    err = capsys.readouterr().err
    assert "cannot start: Prophet 1.6.0 is installed" in err and SUPPORTED_PROPHET in err
    assert started == []  # no worker started
    assert server.serve("127.0.0.1", 0, 1, mock=True) == 0  # the mock needs no Prophet
    assert len(started) == 1


def test_a_worker_with_an_unsupported_prophet_says_why_it_is_not_ready(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi.testclient import TestClient

    from tickercast.model.api import create_app
    from tickercast.model.engine import ProphetEngine
    from tickercast.settings import ModelSettings

    monkeypatch.setattr(versions.metadata, "version", lambda name: "1.4.0")
    app = create_app(ModelSettings(model_api_keys="k"), engine=ProphetEngine())
    body = {"key": "k", "ds": ["2024-01-01", "2024-01-02"], "y": [1, 2]}
    with TestClient(app) as client:
        assert client.post("/", json=body).status_code == 500  # once the warm-up has failed
        ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json() == {"message": "engine failed to start"}
    assert "the engine failed to start: Prophet 1.4.0 is installed" in caplog.text


@pytest.mark.parametrize("seed", range(40))
def test_laplace_where_is_numpys_draw_times_the_mask_to_the_bit(seed: int) -> None:
    """The same numbers, zeros with their signs included, and the generator left in the same
    state, for masks from empty to full."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 60)), int(rng.integers(1, 150)))
    scale, share = float(rng.uniform(1e-9, 3.0)), float(rng.choice([0.0, 0.02, 0.5, 1.0]))
    theirs, ours = np.random.RandomState(seed), np.random.RandomState(seed)
    where = theirs.uniform(size=shape) < share
    assert np.array_equal(ours.uniform(size=shape) < share, where)
    expected = theirs.laplace(0, scale, size=shape) * where
    assert laplace_where(ours, scale, where).tobytes() == expected.tobytes()
    assert ours.normal(size=7).tobytes() == theirs.normal(size=7).tobytes()


def test_laplace_where_hands_a_zero_draw_back_to_numpy() -> None:
    """A uniform draw of exactly 0 makes numpy draw again for it: then numpy draws them all."""

    class ZeroFirst(np.random.RandomState):
        def random_sample(self, size: object = None) -> np.ndarray:  # type: ignore[override]
            drawn = super().random_sample(size)
            drawn.flat[0] = 0.0
            return drawn

    where = np.random.RandomState(1).uniform(size=(20, 30)) < 0.3
    ours = laplace_where(ZeroFirst(5), 0.5, where)
    assert ours.tobytes() == (np.random.RandomState(5).laplace(0, 0.5, (20, 30)) * where).tobytes()
