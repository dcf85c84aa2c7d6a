"""`tickercast up`: the model service and the web app on this machine, for a first run.

Starts `tickercast model` on a free port with a key made for this run, waits until it is ready,
starts `tickercast web` pointed at it, prints the URL, and stops both on Ctrl-C or SIGTERM.
Killed any other way (SIGKILL too), it leaves nothing running: both end with it.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from types import FrameType

from tickercast.cli.processes import NotReady, free_port, stop, wait_ready
from tickercast.runtime import lifeline
from tickercast.runtime.serving import port_in_use, port_taken_message

READY_TIMEOUT = 180.0  # the real model imports Prophet and runs a first fit before it is ready


class Stop(Exception):
    """SIGTERM arrived: shut down as on Ctrl-C."""


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A service that ends when this process does, whatever ends it (runtime/lifeline.py)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tickercast", *args, "--parent-pid", str(os.getpid())],
        env=env,
        preexec_fn=lifeline.ending_with_this_process(),
    )


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Stop()


def up(host: str, port: int, mock: bool = False, ready_timeout: float = READY_TIMEOUT) -> int:
    if port_in_use(host, port):
        print(f"tickercast up: {port_taken_message(host, port)}", file=sys.stderr)
        return 1
    key = secrets.token_urlsafe(24)
    model_port = free_port()
    model_url = f"http://127.0.0.1:{model_port}"
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    web_url = f"http://{local}:{port}"
    base_env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    model: subprocess.Popen[bytes] | None = None
    web: subprocess.Popen[bytes] | None = None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        kind = "mock" if mock else "Prophet"
        print(f"tickercast up: starting the model service ({kind}) on {model_url}", flush=True)
        model_args = ["model", "--host", "127.0.0.1", "--port", str(model_port)]
        model = start(
            model_args + (["--mock"] if mock else []), {**base_env, "MODEL_API_KEYS": key}
        )
        wait_ready(f"{model_url}/readyz", model, "model service", ready_timeout)
        web_env = {**base_env, "MODEL_API_URL": f"{model_url}/", "MODEL_API_KEY": key}
        web = start(["web", "--host", host, "--port", str(port)], web_env)
        wait_ready(f"{web_url}/readyz", web, "web app", ready_timeout)
        print(f"\ntickercast is up: open {web_url}/   (Ctrl-C stops it)\n", flush=True)
        while model.poll() is None and web.poll() is None:
            time.sleep(0.5)
        which = "model service" if model.poll() is not None else "web app"
        print(f"tickercast up: the {which} stopped; stopping the rest", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Stop):
        print("\ntickercast up: stopping", flush=True)
        return 0
    except NotReady as exc:
        print(f"tickercast up: {exc}", file=sys.stderr)
        return 1
    finally:
        stop(web)
        stop(model)
        signal.signal(signal.SIGTERM, previous)
