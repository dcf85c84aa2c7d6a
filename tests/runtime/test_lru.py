"""The one LRU: bounded in entries and, when asked, in size; entries may expire."""

from __future__ import annotations

import pytest

from tickercast.runtime.lru import LRU


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_least_recently_used_goes_first() -> None:
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now the most recent
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (1, None, 3)
    lru.put("a", 10)  # replacing keeps one entry
    assert len(lru) == 2 and lru.get("a") == 10


def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    lru: LRU[str, bytes] = LRU(10, clock=clock)
    lru.put("short", b"1", ttl=5)
    lru.put("forever", b"2")
    clock.now += 4.9
    assert lru.get("short") == b"1"
    clock.now += 0.1
    assert (lru.get("short"), lru.get("forever")) == (None, b"2")
    assert len(lru) == 1
    lru.put("never", b"3", ttl=0)  # ttl 0: not kept
    assert lru.get("never") is None


def test_bounded_in_size() -> None:
    lru: LRU[str, bytes] = LRU(100, max_size=25, size_of=len)
    for key in "abc":
        lru.put(key, b"x" * 10)
    assert (lru.get("a"), lru.size) == (None, 20)  # the oldest went to make room
    lru.put("b", b"y" * 5)  # replacing counts the new size only
    assert lru.size == 15 and lru.get("b") == b"y" * 5
    lru.put("huge", b"z" * 26)  # larger than the whole store: not kept
    assert lru.get("huge") is None and lru.get("c") == b"x" * 10
    clock = Clock()
    expiring: LRU[str, bytes] = LRU(10, max_size=25, size_of=len, clock=clock)
    expiring.put("a", b"x" * 10, ttl=1)
    clock.now += 2
    assert expiring.get("a") is None and expiring.size == 0  # an expired entry frees its size


def test_a_size_bound_needs_a_measure() -> None:
    with pytest.raises(ValueError, match="together"):
        LRU(10, max_size=5)
