"""What the web app must never do: import Prophet, grow too big for a small dyno, or build
anything at import time."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import tickercast.web.app as web_app

PROBE = textwrap.dedent(
    """
    import json, sys
    from fastapi.testclient import TestClient
    from tickercast.settings import WebSettings
    from tickercast.web.app import create_app

    settings = WebSettings(model_api_url="http://127.0.0.1:9/", model_api_key="k")
    with TestClient(create_app(settings)) as client:
        assert client.get("/t/AAPL").status_code == 200
        assert client.get("/compare?tickers=AAPL,MSFT,IBM").status_code == 200
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in
                   {"prophet", "cmdstanpy", "matplotlib", "stan", "plotly"})
    # VmHWM is this program's own peak; ru_maxrss would carry the parent's across fork and exec.
    status = open("/proc/self/status").read()
    rss_mb = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps({"heavy": heavy, "rss_mb": rss_mb}))
    """
)


def test_the_web_app_never_imports_prophet_and_stays_small() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []  # not Prophet, nor what it drags in, nor the plotly package
    # A 512 MB dyno should hold two workers with room to spare.
    assert result["rss_mb"] < 250, result


def test_nothing_is_built_at_import_time() -> None:
    built = [
        name
        for name, value in vars(web_app).items()
        if type(value).__name__ in {"FastAPI", "ModelClient", "WebSettings", "Client"}
    ]
    assert built == []
