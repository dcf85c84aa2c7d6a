"""`tickercast model` refuses to start without a key, saying why and printing no secret."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("keys", [None, "", " , "])
def test_model_refuses_to_start_without_keys(keys: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MODEL_API_KEYS"}
    if keys is not None:
        env["MODEL_API_KEYS"] = keys
    done = subprocess.run(
        [sys.executable, "-m", "tickercast", "model", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "MODEL_API_KEYS" in done.stderr
    assert "Traceback" not in done.stderr
