"""Real processes and a real Chromium for the browser tests.

The web app runs as `tickercast web` (gunicorn) against the model service in mock mode, or
against a port where nothing listens; Chromium is Debian's, driven by Playwright.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import MODEL_KEYS
from tests.support import fakes
from tests.support.procs import ServiceProcess, free_port, start_process

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def start_web(model_url: str, **env: str) -> Iterator[ServiceProcess]:
    port = free_port()
    settings = {"MODEL_API_URL": model_url, "MODEL_API_KEY": MODEL_KEYS[0], **env}
    with start_process(["web", "--port", str(port)], settings, port) as svc:
        yield svc


@pytest.fixture(scope="session")
def web(mock_service: ServiceProcess) -> Iterator[ServiceProcess]:
    """The web app on the mock model: forecasts in milliseconds."""
    yield from start_web(f"{mock_service.url}/")


@pytest.fixture(scope="session")
def web_without_model() -> Iterator[ServiceProcess]:
    """The web app pointed at a port where no model service answers."""
    yield from start_web(f"http://127.0.0.1:{free_port()}/", MODEL_API_RETRIES="1")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Package-scoped: Playwright's sync API keeps an event loop running in this thread until it
    # stops, which would make every later `asyncio.run` in the session fail.
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A page whose JavaScript errors and Content-Security-Policy violations fail the test."""
    context = browser.new_context(
        accept_downloads=True, viewport={"width": width, "height": height}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield page
    context.close()
    assert errors == [], f"JavaScript errors or CSP violations: {errors}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from open_page(browser, 1200, 900)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone's width: 390 CSS pixels."""
    yield from open_page(browser, 390, 844)


def upload_lines(count: int = 200) -> list[str]:
    """A CSV file's lines: a header, then `count` weekdays of a made-up value."""
    return ["date,value"] + [
        f"{d:%Y-%m-%d},{50 + (i % 9) * 0.7 + i * 0.05:.2f}"
        for i, d in enumerate(fakes.sessions(count))
    ]


def choose_upload(page: Page, web: ServiceProcess, folder: Path, lines: list[str]) -> None:
    """From the home page, pick a CSV file of `lines` to upload (the form not yet sent)."""
    upload = folder / "my-series.csv"
    upload.write_text("\n".join(lines) + "\n")
    page.goto(f"{web.url}/")
    page.set_input_files("#upload-file", str(upload))
