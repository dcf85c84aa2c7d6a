"""Children that end with their parent: the parent-death signal, and the watch that backs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tickercast.runtime.lifeline import watch_parent


def test_the_watch_calls_back_once_the_parent_is_not_the_one_named() -> None:
    gone = threading.Event()
    watch_parent(os.getppid() + 1_000_000, on_gone=gone.set, every=0.01)  # no such parent
    assert gone.wait(30)


def test_a_watching_child_stops_when_its_parent_is_killed() -> None:
    """Without the parent-death signal (as off Linux): a middle process starts a child that
    only watches it, and is SIGKILLed; the child ends by itself."""
    child = textwrap.dedent(
        """
        import os, sys, time
        from tickercast.runtime.lifeline import watch_parent
        watch_parent(os.getppid(), every=0.05)
        print(os.getpid(), flush=True)
        time.sleep(120)
        """
    )
    middle = textwrap.dedent(
        f"""
        import os, subprocess, sys
        subprocess.Popen([sys.executable, "-c", {child!r}])
        os.kill(os.getpid(), 9) if sys.stdin.readline() else None
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", middle], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        pid = int(proc.stdout.readline())
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.wait(30) == -9
        deadline = time.monotonic() + 30
        while running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if running(pid):
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the child outlived its parent")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux facility")
def test_the_parent_death_signal_can_be_set_on_linux() -> None:
    code = "from tickercast.runtime.lifeline import die_with_parent as d; raise SystemExit(not d())"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
