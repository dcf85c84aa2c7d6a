"""The one least-recently-used store of this project: a bounded dict shared by threads.

Bounded in entries, and, when `size_of` is given, in the total size of its values; an entry
may also expire (`put(..., ttl=...)`). A full store drops its least recently used entries.
Used wherever a miss only costs time (the same answer is made again), so two processes with
different contents still answer alike.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most `max_items` entries, and at most `max_size` in total by `size_of` (if given)."""

    def __init__(
        self,
        max_items: int,
        *,
        max_size: int | None = None,
        size_of: Callable[[V], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (max_size is None) != (size_of is None):
            raise ValueError("max_size and size_of go together")
        self.max_items = max_items
        self.max_size = max_size
        self.size = 0  # the total of size_of over the entries (0 without size_of)
        self._size_of = size_of
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()  # (expires at, value)
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value under `key`, now the most recently used, or None (absent or expired)."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires <= self._clock():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Keep `value` under `key` (for `ttl` seconds, if given). Nothing is kept when `ttl`
        is not positive or the value alone is over `max_size`."""
        if ttl is not None and ttl <= 0:
            return
        size = self._size_of(value) if self._size_of else 0
        if self.max_size is not None and size > self.max_size:
            return
        expires = self._clock() + ttl if ttl is not None else float("inf")
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (expires, value)
            self.size += size
            while len(self._items) > self.max_items or (
                self.max_size is not None and self.size > self.max_size
            ):
                self._drop(next(iter(self._items)))

    def __len__(self) -> int:
        return len(self._items)

    def _drop(self, key: K) -> None:
        _, value = self._items.pop(key)
        if self._size_of:
            self.size -= self._size_of(value)
