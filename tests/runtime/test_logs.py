"""JSON logs with request ids: the pieces, then real processes with secrets in their settings."""

from __future__ import annotations

import json
import logging

import httpx
import pandas as pd
import pytest

from tests.support.procs import start_model_service, start_web_app
from tickercast.cli.processes import free_port, stop
from tickercast.runtime.logs import JsonFormatter, request_id_from


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("click-42", True),
        ("0f8e2b1c-aaaa-4bbb-8ccc-123456789abc", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("", False),
        (None, False),
        ("two words", False),
        ('x"}\n{"forged": 1', False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_well_formed(
    incoming: str | None, kept: bool
) -> None:
    made = request_id_from(incoming)
    assert (made == incoming) is kept
    assert 1 <= len(made) <= 128 and made.replace("-", "").isalnum()


def test_a_log_line_is_one_json_object_with_the_extras() -> None:
    record = logging.makeLogRecord(
        {"name": "tickercast.x", "levelname": "INFO", "msg": "a\nb %d", "args": (3,), "route": "/"}
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "a\nb 3" and data["route"] == "/" and data["level"] == "INFO"


SECRETS = {
    "MODEL_API_KEYS": "model-key-in-settings-5f1d",
    "TIINGO_API_KEY": "tiingo-key-in-settings-77aa",
    "NASDAQ_DATA_LINK_API_KEY": "nasdaq-key-in-settings-91c3",
}
WRONG_KEY = "a-wrong-key-sent-by-a-client-3e3e"
# Values of a posted series: none of them may be written to a log.
SERIES_VALUES = [4321.9876 + i * 0.0001 for i in range(150)]


@pytest.mark.slow
def test_logs_are_json_with_a_request_id_across_both_services_and_never_a_secret() -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # online providers that cannot be reached
    web_env = {
        "TIINGO_API_KEY": SECRETS["TIINGO_API_KEY"],
        "TIINGO_URL": dead,
        "NASDAQ_DATA_LINK_API_KEY": SECRETS["NASDAQ_DATA_LINK_API_KEY"],
        "NASDAQ_DATA_LINK_URL": dead,
        "PROVIDER_TIMEOUT": "2",
    }
    keys = (SECRETS["MODEL_API_KEYS"],)
    with (
        start_model_service(keys, mock=True, stderr_apart=True) as model,
        start_web_app(model.url + "/", keys[0], extra_env=web_env, stderr_apart=True) as web,
        httpx.Client(timeout=30) as http,
    ):
        click = {"X-Request-ID": "click-42"}
        page = http.get(f"{web.url}/api/forecast/AAPL?periods=5&window=1y", headers=click)
        assert page.status_code == 200
        assert page.headers["x-request-id"] == "click-42"
        fresh = http.get(f"{web.url}/healthz", headers={"X-Request-ID": "not ok!"})
        made = fresh.headers["x-request-id"]
        assert made != "not ok!" and len(made) >= 16
        ds = [str(day.date()) for day in pd.bdate_range("2020-01-01", periods=len(SERIES_VALUES))]
        series = {"name": "mine", "ds": ds, "y": SERIES_VALUES, "periods": 5}
        assert http.post(f"{web.url}/api/forecast", json=series).status_code == 200
        # A provider that cannot be reached, named by source: its URL carries the key. No
        # prices from anyone: 503, try again later.
        assert http.get(f"{web.url}/api/forecast/ZZZZ?source=tiingo").status_code == 503
        assert http.get(f"{web.url}/api/forecast/ZZZZ?source=nasdaq").status_code == 503
        # Straight to the model: a wrong key, and a body that is not JSON but holds a key.
        body = {"key": WRONG_KEY, "ds": ds, "y": SERIES_VALUES, "periods": 3}
        assert http.post(model.url + "/", json=body).status_code == 403
        broken = f'{{"key": "{keys[0]}", "ds": [1,'
        assert http.post(model.url + "/", content=broken).status_code == 400
        stop(web.process)  # its last lines written, shutdown included
        stop(model.process)
        model_lines, web_lines = model.log_lines(), web.log_lines()

    records = []
    for line in model_lines + web_lines:
        assert line.startswith("{"), f"not a JSON line: {line!r}"
        records.append(json.loads(line))
        for secret in [*SECRETS.values(), WRONG_KEY, "4321.98", "4322.0"]:
            assert secret not in line, f"{secret!r} was logged: {line}"
    model_records = [json.loads(line) for line in model_lines]
    web_records = [json.loads(line) for line in web_lines]
    # One click followed across both services.
    assert any(
        r.get("route") == "/api/forecast/{ticker}" and r.get("request_id") == "click-42"
        for r in web_records
    )
    assert any(r.get("route") == "/" and r.get("request_id") == "click-42" for r in model_records)
    # An access line per request, with route, status and duration.
    access = [r for r in records if r["logger"] == "tickercast.access"]
    assert {(r["route"], r["status"]) for r in access} >= {
        ("/api/forecast/{ticker}", 200),
        ("/api/forecast", 200),
        ("/api/forecast/{ticker}", 503),
        ("/healthz", 200),
        ("/", 200),
        ("/", 403),
        ("/", 400),
    }
    assert all(r["duration_ms"] >= 0 and r["request_id"] for r in access)
