"""Start the services as real processes on free ports, and read their memory and temp files."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tickercast.cli.processes import NotReady, free_port, stop, wait_ready

ROOT = Path(__file__).resolve().parents[1]
BENCH_KEY = "bench-key"
# Service settings the bench controls; anything else comes from the caller's environment.
SERVICE_ENV = ("REDIS_URL", "MODEL_CACHE_TTL", "MODEL_MOCK", "PROMETHEUS_MULTIPROC_DIR")


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    tmp_dir: Path  # the service's TMPDIR: tempfile.gettempdir() and cmdstanpy's folder live here

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the service process), or the process itself."""
        children = child_pids(self.process.pid)
        return children or [self.process.pid]


def child_pids(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # the command name may hold spaces: the parent pid is the 2nd field after ")"
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of one process, in MB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024  # kB
    return values


def count_files(folder: Path) -> dict[str, int]:
    """Files under a service's TMPDIR: in cmdstanpy's folders (`tmp*`) and everywhere else."""
    counts = {"cmdstanpy": 0, "other": 0}
    for root, _dirs, files in os.walk(folder):
        top = Path(root).relative_to(folder).parts
        kind = "cmdstanpy" if top and top[0].startswith("tmp") else "other"
        counts[kind] += len(files)
    return counts


def wait_all_workers(svc: Service, workers: int, body: bytes, timeout: float = 120) -> None:
    """Post until every worker has answered once: /readyz only speaks for the worker it hit."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(seen)} of {workers} workers answered:\n{svc.log()}")
        response = httpx.post(svc.url, content=body, timeout=timeout)  # a new connection each
        response.raise_for_status()
        seen.add(response.headers.get("x-worker", ""))


@contextlib.contextmanager
def run_service(
    name: str, args: Sequence[str], port: int, env: dict[str, str], timeout: float = 120
) -> Iterator[Service]:
    with tempfile.TemporaryDirectory(prefix="tickercast-bench-") as home:
        tmp_dir = Path(home) / "tmp"
        tmp_dir.mkdir()
        log_path = Path(home) / "service.log"
        clean = {k: v for k, v in os.environ.items() if k not in SERVICE_ENV}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", *args],
                env={**clean, **env, "TMPDIR": str(tmp_dir)},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        svc = Service(name, f"http://127.0.0.1:{port}", process, log_path, tmp_dir)
        try:
            try:
                wait_ready(f"{svc.url}/readyz", process, name, timeout)
            except NotReady as exc:
                raise NotReady(f"{exc}:\n{svc.log()}") from None
            yield svc
        finally:
            stop(process, grace=30)


def ours(
    workers: int, redis_url: str | None = None, extra_env: dict[str, str] | None = None
) -> contextlib.AbstractContextManager[Service]:
    """`tickercast model` with gunicorn workers; no request-rate limit gets in the bench's way."""
    port = free_port()
    env = {
        "MODEL_API_KEYS": BENCH_KEY,
        "MODEL_RATE_LIMIT": "1000000/minute",
        "MODEL_WORKER_HEADER": "true",  # wait_all_workers tells the workers apart by it
        "LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra_env or {})
    name = f"ours ({workers} worker{'s' if workers > 1 else ''}{', Redis' if redis_url else ''})"
    args = ["tickercast", "model", "--port", str(port), "--workers", str(workers)]
    return run_service(name, args, port, env)


def reference() -> contextlib.AbstractContextManager[Service]:
    port = free_port()
    args = ["uvicorn", "bench.reference:app", "--port", str(port), "--log-level", "warning"]
    return run_service("reference", args, port, {})
