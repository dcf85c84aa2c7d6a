"""nginx from Debian's packages as the tests' load balancer, running deploy/nginx/tickercast.conf
with its replicas and ports replaced by the test's own (all on loopback)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from tickercast.cli.processes import free_port, stop

SHIPPED = Path(__file__).parents[2] / "deploy" / "nginx" / "tickercast.conf"
WEB_REPLICAS = ("web-1.internal:8000", "web-2.internal:8000")
MODEL_REPLICAS = ("model-1.internal:9000", "model-2.internal:9000")


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail(
            "nginx is not installed: the load-balancer tests need it "
            "(`make test` installs it; else `apt-get install nginx`)."
        )
    return found


def render(web: Sequence[str], model: Sequence[str], web_port: int, model_port: int) -> str:
    """The shipped config with the test's replicas (host:port) and listening ports."""
    text = SHIPPED.read_text()
    swaps = [
        *zip(WEB_REPLICAS, web, strict=True),
        *zip(MODEL_REPLICAS, model, strict=True),
        ("listen 8080;", f"listen 127.0.0.1:{web_port};"),
        ("listen 9000;", f"listen 127.0.0.1:{model_port};"),
    ]
    for old, new in swaps:
        assert text.count(old) == 1, f"{SHIPPED.name} no longer holds {old!r} once"
        text = text.replace(old, new)
    return text


def main_config(folder: Path, site: str) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""  # else workers could not use the folder
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 2;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n{site}\n}}\n"
    )


@contextlib.contextmanager
def start_nginx(
    web_port: int, model_port: int, web: Sequence[str], model: Sequence[str]
) -> Iterator[Path]:
    """nginx in the foreground on the two ports; yields its folder (logs included)."""
    binary = nginx_binary()
    with tempfile.TemporaryDirectory(prefix="tickercast-nginx-") as tmp:
        folder = Path(tmp)
        (folder / "nginx.conf").write_text(
            main_config(folder, render(web, model, web_port, model_port))
        )
        process = subprocess.Popen(
            [
                binary,
                "-p",
                tmp,
                "-c",
                str(folder / "nginx.conf"),
                "-e",
                str(folder / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_listening(process, web_port, folder)
            yield folder
        finally:
            stop(process, grace=5)


def _wait_listening(process: subprocess.Popen[bytes], port: int, folder: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (folder / "error.log").read_text(errors="replace")
            raise RuntimeError(f"nginx exited ({process.returncode}): {log}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not listen within 10 s")


def ports(n: int) -> list[int]:
    return [free_port() for _ in range(n)]
