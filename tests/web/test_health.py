"""Health, readiness, metrics and the static files, plotly.min.js from the plotly package."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_healthz_and_readyz(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "providers": ["fake", "other"]}


def test_readyz_does_not_depend_on_the_model(client, fake_model) -> None:
    from tests.support import fakes

    fake_model.script = [fakes.refuse] * 10
    assert client.get("/readyz").status_code == 200
    assert fake_model.requests == []


def test_metrics_count_requests_and_model_calls(client, fake_model) -> None:
    client.get("/t/ACME")
    client.get("/api/forecast/ACME?periods=3")
    client.get("/api/forecast/NOPE")
    text = client.get("/metrics").text
    assert 'tickercast_web_requests_total{route="/t/{ticker}",status="200"} 1.0' in text
    assert 'tickercast_web_requests_total{route="/api/forecast/{ticker}",status="404"} 1.0' in text
    assert 'tickercast_web_model_calls_total{outcome="ok"} 1.0' in text
    assert "tickercast_web_model_seconds_count 1.0" in text


def test_plotly_js_is_the_installed_packages_own(client) -> None:
    spec = importlib.util.find_spec("plotly")
    assert spec is not None and spec.submodule_search_locations
    shipped = Path(list(spec.submodule_search_locations)[0]) / "package_data" / "plotly.min.js"
    resp = client.get("/static/vendor/plotly.min.js")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/javascript")
    assert resp.content == shipped.read_bytes()


def test_app_static_files(client) -> None:
    for name in ("ticker.js", "compare.js", "app.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/nope.js").status_code == 404


def test_the_request_id_goes_on_to_the_model_service(client, fake_model) -> None:
    from tests.support import fakes

    seen: list[str | None] = []

    def record(request):
        seen.append(request.headers.get("x-request-id"))
        return fakes.forecast_answer(request.content)

    fake_model.script.append(record)
    answer = client.get("/api/forecast/ACME?periods=3", headers={"X-Request-ID": "click-7"})
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "click-7"
    assert seen == ["click-7"]
    text = client.get("/metrics").text
    assert (
        'tickercast_web_request_seconds_count{route="/api/forecast/{ticker}",status="200"} 1.0'
        in text
    )
