"""A service that serves for weeks: fits leave no files behind, and the mock never loads Prophet."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.prices import request_body
from tickercast.contract import parse_request
from tickercast.model.engine import ProphetEngine


def files_under(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


@pytest.mark.slow
def test_fits_leave_no_temp_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cmdstanpy

    # A temp folder of this test's own: the machine's may hold other processes' fits.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    engine = ProphetEngine()
    engine.warm_up()
    cmdstan_tmp = Path(cmdstanpy._TMPDIR)
    ours = Path(tempfile.gettempdir())
    assert ours == tmp_path
    before = (files_under(cmdstan_tmp), sorted(ours.glob("tickercast-fit-*")))
    for rows in range(60, 72):  # 12 different series, so every one is a fresh fit
        engine.run(parse_request(request_body("IBM", rows, "k", periods=3)))
    after = (files_under(cmdstan_tmp), sorted(ours.glob("tickercast-fit-*")))
    assert after == before


def test_mock_mode_never_imports_prophet() -> None:
    script = """
import sys
from fastapi.testclient import TestClient
from tickercast.model.api import create_app
from tickercast.settings import ModelSettings
app = create_app(ModelSettings(model_api_keys="k", model_mock=True))
with TestClient(app) as client:
    body = {"key": "k", "ds": ["2024-01-01", "2024-01-02"], "y": [1, 2], "periods": 2}
    assert client.post("/", json=body).status_code == 200
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("prophet", "cmdstanpy"))
print(loaded)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
