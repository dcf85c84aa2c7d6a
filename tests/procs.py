"""Start real tickercast processes on free ports for end-to-end tests, and stop them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tickercast.processes import NotReady, free_port, stop, wait_ready


@dataclass
class ServiceProcess:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def start_process(
    args: Sequence[str], env: dict[str, str], port: int, timeout: float = 60
) -> Iterator[ServiceProcess]:
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tickercast-test-") as tmp:
        log_path = Path(tmp) / "service.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tickercast", *args],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            try:
                wait_ready(f"{url}/readyz", process, f"tickercast {args[0]}", timeout, in_a_row=10)
            except NotReady as exc:
                raise NotReady(f"{exc}:\n{log_path.read_text(errors='replace')}") from None
            yield ServiceProcess(url, process, log_path)
        finally:
            stop(process)


@contextlib.contextmanager
def start_model_service(
    keys: Sequence[str],
    workers: int = 1,
    mock: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Iterator[ServiceProcess]:
    port = free_port()
    args = ["model", "--port", str(port), "--workers", str(workers)]
    if mock:
        args.append("--mock")
    # X-Worker: the tests tell the workers apart by it
    env = {"MODEL_API_KEYS": ",".join(keys), "MODEL_WORKER_HEADER": "true", **(extra_env or {})}
    with start_process(args, env, port) as svc:
        yield svc
