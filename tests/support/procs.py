"""Start real tickercast processes on free ports for end-to-end tests, and stop them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tickercast.cli.processes import NotReady, free_port, stop, wait_ready


@dataclass
class ServiceProcess:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    stderr_path: Path | None = None  # set when stderr (the JSON logs) is kept apart

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[str]:
        """The lines of the process's log stream (stderr)."""
        path = self.stderr_path or self.log_path
        return path.read_text(errors="replace").splitlines()

    def kill_all(self) -> None:
        """SIGKILL the process and its workers at once, as when its machine dies (the
        process must have been started in its own session)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextlib.contextmanager
def start_process(
    args: Sequence[str],
    env: dict[str, str],
    port: int,
    timeout: float = 60,
    *,
    own_session: bool = False,
    stderr_apart: bool = False,
    workers: int = 1,
) -> Iterator[ServiceProcess]:
    """`own_session`: a process group of its own (for `kill_all`); `stderr_apart`: stderr in
    a file of its own (`log_lines`), stdout in `log`. Ready once each of its `workers` has said
    so on `/readyz` where the answers name their worker (asked, not waited for), else once it
    answers ready."""
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tickercast-test-") as tmp:
        log_path = Path(tmp) / "service.log"
        stderr_path = Path(tmp) / "stderr.log" if stderr_apart else None
        with log_path.open("wb") as log, open(stderr_path or os.devnull, "wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "tickercast", *args],
                env={**os.environ, **env},
                stdout=log,
                stderr=err if stderr_apart else subprocess.STDOUT,
                start_new_session=own_session,
            )
        try:
            try:
                wait_ready(f"{url}/readyz", process, f"tickercast {args[0]}", timeout, workers)
            except NotReady as exc:
                raise NotReady(f"{exc}:\n{log_path.read_text(errors='replace')}") from None
            yield ServiceProcess(url, process, log_path, stderr_path)
        finally:
            stop(process)


@contextlib.contextmanager
def start_model_service(
    keys: Sequence[str],
    workers: int = 1,
    mock: bool = False,
    extra_env: dict[str, str] | None = None,
    **options: bool,
) -> Iterator[ServiceProcess]:
    port = free_port()
    args = ["model", "--port", str(port), "--workers", str(workers)]
    if mock:
        args.append("--mock")
    # X-Worker: the tests tell the workers apart by it
    env = {"MODEL_API_KEYS": ",".join(keys), "MODEL_WORKER_HEADER": "true", **(extra_env or {})}
    with start_process(args, env, port, workers=workers, **options) as svc:
        yield svc


@contextlib.contextmanager
def start_web_app(
    model_url: str,
    key: str,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    **options: bool,
) -> Iterator[ServiceProcess]:
    """`tickercast web` on embedded data, reaching the model service at `model_url`."""
    port = free_port()
    args = ["web", "--port", str(port), "--workers", str(workers)]
    env = {"MODEL_API_URL": model_url, "MODEL_API_KEY": key, **(extra_env or {})}
    with start_process(args, env, port, workers=workers, **options) as svc:
        yield svc
