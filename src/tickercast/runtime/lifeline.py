"""Child processes that end with the process that started them, however it ends.

Two ways, one the other's fallback. On Linux the kernel sends the child SIGTERM when its parent
dies, even by SIGKILL (prctl's parent-death signal; it fires when the parent *thread* that forked
the child ends, so children are started from the main thread). Everywhere, the child also
watches its parent's pid and sends itself SIGTERM when it has been reparented. `tickercast up`
names itself to its services with `--parent-pid`; a service's gunicorn master then stops its
workers as it always does (a worker left by a master killed with SIGKILL finishes what it
serves, as a load balancer in front expects).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_EVERY = 1.0  # seconds between looks at the parent's pid


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):
        return None


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Have the kernel send `sig` to this process when its parent thread ends (Linux); whether
    it could."""
    prctl = _prctl()
    return prctl is not None and prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def ending_with_this_process() -> Callable[[], None]:
    """A `preexec_fn` for subprocess.Popen: the child gets SIGTERM when this process dies, and
    at once if it already has. libc is looked up here, before the fork."""
    parent = os.getpid()
    prctl = _prctl()

    def preexec() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def _terminate_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def watch_parent(
    parent: int, on_gone: Callable[[], None] = _terminate_self, every: float = WATCH_EVERY
) -> threading.Thread:
    """A daemon thread that calls `on_gone` once, when this process's parent is no longer
    `parent` (it died and this process was reparented)."""

    def watch() -> None:
        stopped = threading.Event()
        while os.getppid() == parent:
            stopped.wait(every)
        on_gone()

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
