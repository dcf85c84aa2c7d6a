"""A model worker killed while the web app's forecasts are in flight: gunicorn replaces it, and
the model client sends the dropped requests again (the same request gives the same answer), so
no user sees an error that a retry avoids."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest

from tests.conftest import MODEL_KEYS
from tests.support import fakes
from tests.support.procs import start_model_service
from tickercast.errors import TickercastError
from tickercast.web.model_client import ModelClient, model_request

pytestmark = pytest.mark.slow

ROWS = 5_000  # a request that takes a while to read, so that kills land mid-request
DS = [d.strftime("%Y-%m-%d") for d in fakes.sessions(ROWS, after="1990-12-31")]


def workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


async def forecasts(client: ModelClient, n: int, offset: int, failures: list[str]) -> None:
    for i in range(n):
        y = [100.0 + (offset * n + i) + (j % 13) for j in range(ROWS)]
        try:
            await client.answer("forecast", model_request(DS, y, "XNYS", periods=5))
        except TickercastError as exc:
            failures.append(exc.client_message)


def test_forecasts_survive_a_killed_worker() -> None:
    env = {"MODEL_CACHE_TTL": "0", "MODEL_QUEUE_SIZE": "16"}
    with start_model_service(keys=MODEL_KEYS, workers=2, mock=True, extra_env=env) as svc:
        master = svc.process.pid
        killed: list[int] = []
        failures: list[str] = []
        done = threading.Event()

        def killer() -> None:
            while not done.is_set() and len(killed) < 4:
                time.sleep(0.3)
                alive = workers(master)
                if len(alive) == 2:
                    os.kill(alive[len(killed) % 2], signal.SIGKILL)
                    killed.append(alive[0])

        async def users() -> None:
            client = ModelClient(f"{svc.url}/", MODEL_KEYS[0], timeout=30, retries=2)
            async with client, anyio.create_task_group() as group:
                for k in range(4):
                    group.start_soon(forecasts, client, 15, k, failures)

        with ThreadPoolExecutor(1) as pool:
            kills = pool.submit(killer)
            try:
                anyio.run(users)
            finally:
                done.set()
                kills.result()
        assert len(killed) >= 2, "the load ended before workers were killed"
        assert failures == []
