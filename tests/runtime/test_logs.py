"""Logs: JSON lines with request ids, or short lines for a person at a terminal (LOG_FORMAT);
the pieces, then real processes with secrets in their settings."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pandas as pd
import pydantic
import pytest

from tests.support.deploy_files import DOCKERFILES, ROOT, Dockerfile
from tests.support.procs import start_model_service, start_web_app
from tickercast.cli.processes import free_port, stop
from tickercast.runtime.logs import (
    JsonFormatter,
    TextFormatter,
    access_log,
    configure_logging,
    formatter_for,
    request_id_from,
)
from tickercast.settings import RecordSettings


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


def access_record() -> logging.LogRecord:
    extra = {"method": "GET", "route": "/t/{ticker}", "path": "/t/AAPL", "status": 200}
    return logging.makeLogRecord(
        {
            "name": access_log.name,
            "levelname": "INFO",
            "msg": "%s %s %d",
            "args": ("GET", "/t/{ticker}", 200),
            **extra,
            "duration_ms": 41.4,
        }
    )


def test_a_line_for_a_person_is_time_level_message() -> None:
    record = logging.makeLogRecord(
        {"name": "tickercast.x", "levelname": "WARNING", "msg": "Redis is down: %s", "args": ("x",)}
    )
    assert re.fullmatch(r"\d\d:\d\d:\d\d WARNING Redis is down: x", TextFormatter().format(record))
    # A request: method, path, status, milliseconds (not the route's template).
    line = TextFormatter().format(access_record())
    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO    GET /t/AAPL 200 41 ms", line)
    assert json.loads(JsonFormatter().format(access_record()))["message"] == "GET /t/{ticker} 200"


def test_a_line_for_a_person_keeps_its_traceback() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.makeLogRecord(
            {
                "name": "tickercast.x",
                "levelname": "ERROR",
                "msg": "failed",
                "exc_info": sys.exc_info(),
            }
        )
    first, *rest = TextFormatter().format(record).splitlines()
    assert first.endswith("ERROR   failed") and rest[-1] == "ValueError: broken"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("form", "stream", "made"),
    [
        ("auto", Terminal(), TextFormatter),
        ("auto", io.StringIO(), JsonFormatter),  # a file, a pipe, a platform's log drain
        ("json", Terminal(), JsonFormatter),
        ("text", io.StringIO(), TextFormatter),
    ],
)
def test_the_form_follows_the_setting_then_the_terminal(form, stream, made) -> None:
    assert type(formatter_for(form, stream)) is made


@pytest.fixture
def root_logging() -> Iterator[None]:
    """`configure_logging` replaces the root logger's handlers: put back the test run's."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_configured_lines_go_to_stderr_in_the_chosen_form(monkeypatch) -> None:
    for form, stream in (("auto", Terminal()), ("auto", io.StringIO()), ("text", io.StringIO())):
        monkeypatch.setattr(sys, "stderr", stream)
        configure_logging("info", form)
        logging.getLogger("tickercast.test").info("ready on %d", 8000)
        line = stream.getvalue().strip()
        if form == "auto" and not stream.isatty():
            assert json.loads(line)["message"] == "ready on 8000"
        else:
            assert re.fullmatch(r"\d\d:\d\d:\d\d INFO    ready on 8000", line)


LOG_A_LINE = (
    "import logging; from tickercast.runtime.serving import configure_logging; "
    "from tickercast.settings import RecordSettings; "
    "configure_logging('info', RecordSettings().log_format); "
    "logging.getLogger('tickercast.x').info('hello')"
)


def test_a_real_terminal_gets_text_and_a_pipe_json() -> None:
    """A process whose stderr is a terminal (a pseudo-terminal here) writes text; the same
    process writing into a pipe, JSON; LOG_FORMAT=json in a terminal, JSON."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def run(terminal: bool, **more: str) -> str:
        if not terminal:
            done = subprocess.run(
                [sys.executable, "-c", LOG_A_LINE],
                env={**env, **more},
                capture_output=True,
                timeout=60,
                check=True,
            )
            return done.stderr.decode()
        main, tty = pty.openpty()
        try:
            subprocess.run(
                [sys.executable, "-c", LOG_A_LINE],
                env={**env, **more},
                stderr=tty,
                timeout=60,
                check=True,
            )
            return os.read(main, 4096).decode()
        finally:
            os.close(main)
            os.close(tty)

    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO    hello", run(terminal=True).strip())
    assert json.loads(run(terminal=False))["message"] == "hello"
    assert json.loads(run(terminal=True, LOG_FORMAT="json"))["message"] == "hello"


@pytest.mark.parametrize("value", ["auto", "json", "text"])
def test_log_format_is_a_setting(monkeypatch, value) -> None:
    monkeypatch.setenv("LOG_FORMAT", value)
    assert RecordSettings().log_format == value


def test_an_unknown_log_format_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "yaml")
    with pytest.raises(pydantic.ValidationError, match="log_format"):
        RecordSettings()


def test_the_deployed_services_log_json() -> None:
    """Where a platform collects the lines (the images, so every Kubernetes pod; Heroku)."""
    for path in DOCKERFILES.values():
        assert Dockerfile.read(path).env["LOG_FORMAT"] == "json", path.name
    assert json.loads((ROOT / "app.json").read_text())["env"]["LOG_FORMAT"]["value"] == "json"


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
        # source that could know the symbol can be reached: 404, saying so.
        assert http.get(f"{web.url}/api/forecast/ZZZZ?source=tiingo").status_code == 404
        assert http.get(f"{web.url}/api/forecast/ZZZZ?source=nasdaq").status_code == 404
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
        ("/api/forecast/{ticker}", 404),
        ("/healthz", 200),
        ("/", 200),
        ("/", 403),
        ("/", 400),
    }
    assert all(r["duration_ms"] >= 0 and r["request_id"] for r in access)
