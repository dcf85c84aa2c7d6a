"""How many fits run at once: one per core for the whole machine, whichever worker took the
request, with a bounded queue in each worker.

CmdStan fits in a child process, so a worker can keep several cores busy; but two workers that
each ran a fit per core would overload the machine, and a worker that ran one fit would leave a
core idle while requests queue in another. So the slots are shared: `tickercast model` gives
its workers a folder with one lock file per slot, and a fit holds the lock of a free slot.
Without that folder (an app made in a test) the slots are counted in the process.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tickercast.errors import ServiceBusy

BUSY_RETRY_AFTER = 5
POLL_SECONDS = 0.005


class FitGate:
    def __init__(self, slots: int, queue_size: int, folder: str | None = None) -> None:
        self.slots = slots
        self.queue_size = queue_size
        self.folder = folder
        self._local = asyncio.Semaphore(slots)
        self._free: list[int] | None = None  # this worker's slot files it does not hold
        self._pending = 0

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """A fit slot for the duration of the block; 503 when this worker's queue is full."""
        if self._pending >= self.slots + self.queue_size:
            raise ServiceBusy(retry_after=BUSY_RETRY_AFTER)
        self._pending += 1
        try:
            if self.folder is None:
                async with self._local:
                    yield
            else:
                fd = await self._lock_a_slot()
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    self._free_files().append(fd)
        finally:
            self._pending -= 1

    def _free_files(self) -> list[int]:
        if self._free is None:  # one open file per slot: flock locks belong to the open file
            assert self.folder is not None
            paths = (os.path.join(self.folder, f"slot-{i}.lock") for i in range(self.slots))
            self._free = [os.open(p, os.O_CREAT | os.O_RDWR, 0o600) for p in paths]
        return self._free

    async def _lock_a_slot(self) -> int:
        """A slot no worker holds. This worker's own held files are left out of the search:
        locking a file again through the same open file would succeed."""
        free = self._free_files()
        while True:
            for fd in free:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                free.remove(fd)
                return fd
            await asyncio.sleep(POLL_SECONDS)
