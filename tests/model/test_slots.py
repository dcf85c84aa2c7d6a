"""Fit slots are shared by the workers of one machine through lock files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.loop import run
from tickercast.errors import ServiceBusy
from tickercast.model.slots import FitGate


async def _overlap(gates: list[FitGate], hold_seconds: float = 0.05) -> int:
    """Run one fit-like hold through each gate at once; return the most that overlapped."""
    running, most = 0, 0

    async def fit(gate: FitGate) -> None:
        nonlocal running, most
        async with gate.hold():
            running += 1
            most = max(most, running)
            await asyncio.sleep(hold_seconds)
            running -= 1

    await asyncio.gather(*(fit(g) for g in gates))
    return most


def test_workers_sharing_a_folder_share_the_slots(tmp_path: Path) -> None:
    one_slot = [FitGate(1, queue_size=4, folder=str(tmp_path)) for _ in range(3)]
    assert run(_overlap(one_slot)) == 1
    two_slots = [FitGate(2, queue_size=4, folder=str(tmp_path)) for _ in range(3)]
    assert run(_overlap(two_slots)) == 2


def test_one_worker_holds_no_more_slots_than_there_are(tmp_path: Path) -> None:
    gate = FitGate(1, queue_size=4, folder=str(tmp_path))
    assert run(_overlap([gate, gate, gate])) == 1
    other = FitGate(1, queue_size=4, folder=str(tmp_path))
    assert run(_overlap([gate, other, gate, other])) == 1


def test_without_a_folder_the_slots_are_this_process_own() -> None:
    gate = FitGate(2, queue_size=4)
    assert run(_overlap([gate, gate, gate])) == 2


def test_a_full_queue_is_refused(tmp_path: Path) -> None:
    gate = FitGate(1, queue_size=1, folder=str(tmp_path))

    async def scenario() -> None:
        release = asyncio.Event()

        async def fit() -> None:
            async with gate.hold():
                await release.wait()  # held until the test lets go, however slow the machine

        # One fit holds the slot and one waits in the queue, from their first step on.
        fits = [asyncio.create_task(fit()) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(ServiceBusy):
            async with gate.hold():
                pass
        release.set()
        await asyncio.gather(*fits)

    run(scenario())
