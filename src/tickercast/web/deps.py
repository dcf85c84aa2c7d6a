"""What the routes depend on, read from the app's state (`create_app` puts it there) and
passed to them with `Depends`: the use cases (`Forecaster`), the track record's writer, the
page templates and the settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from tickercast.record.buffer import Recorder
from tickercast.settings import WebSettings
from tickercast.web.forecasts import Forecaster
from tickercast.web.metrics import WebMetrics


def forecaster(request: Request) -> Forecaster:
    found: Forecaster = request.app.state.forecaster
    return found


def recorder(request: Request) -> Recorder:
    found: Recorder = request.app.state.recorder
    return found


def templates(request: Request) -> Jinja2Templates:
    found: Jinja2Templates = request.app.state.templates
    return found


def metrics(request: Request) -> WebMetrics:
    found: WebMetrics = request.app.state.metrics
    return found


def settings(request: Request) -> WebSettings:
    found: WebSettings = request.app.state.settings
    return found


UseCases = Annotated[Forecaster, Depends(forecaster)]
Record = Annotated[Recorder, Depends(recorder)]
Templates = Annotated[Jinja2Templates, Depends(templates)]
Metrics = Annotated[WebMetrics, Depends(metrics)]
Settings = Annotated[WebSettings, Depends(settings)]
