"""The reference: a minimal service doing per request what the original service did.

`Prophet()` with default settings, `fit`, `make_future_dataframe(periods)`, `predict` on every
row (history and future, 1,000 uncertainty samples), and the future rows returned as
`DataFrame.to_dict()` JSON keyed by row label. No cache, no reuse, one request at a time.

Run: `python -m uvicorn bench.reference:app --port 9100` (one worker).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd
from prophet import Prophet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

for _name in ("cmdstanpy", "prophet"):
    logging.getLogger(_name).disabled = True


def forecast(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    periods = int(body.get("periods", 100))
    history = pd.DataFrame({"ds": body["ds"], "y": body["y"]})
    model = Prophet()
    model.fit(history)
    future = model.make_future_dataframe(periods=periods)
    table = model.predict(future)
    return table.iloc[-periods:].to_dict()


async def post_forecast(request: Request) -> Response:
    body = json.loads(await request.body())  # whatever the Content-Type, like the original
    result = forecast(body)  # on the event loop: one request at a time, as the original did
    return Response(json.dumps(result, default=str), media_type="application/json")


async def readyz(request: Request) -> Response:
    return JSONResponse({"status": "ready"})


app = Starlette(routes=[Route("/", post_forecast, methods=["POST"]), Route("/readyz", readyz)])
