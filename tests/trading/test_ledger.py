"""The per-id ledger: one holder at a time, and a placement its caller cannot cancel halfway."""

from __future__ import annotations

import asyncio

import pytest

from provider.trading.ledger import LockTimeout, PlacementLedger
from provider.trading.placement import Placement


async def test_calls_with_one_id_run_one_at_a_time_and_other_ids_do_not_wait() -> None:
    ledger = PlacementLedger()
    inside: list[str] = []
    release = asyncio.Event()
    two_inside = asyncio.Event()

    async def hold(cid: str, tag: str) -> None:
        async with ledger.hold(cid, 5):
            inside.append(tag)
            if len(inside) == 2:
                two_inside.set()
            await release.wait()

    first = asyncio.create_task(hold("a", "a1"))
    second = asyncio.create_task(hold("a", "a2"))
    other = asyncio.create_task(hold("b", "b1"))
    await asyncio.wait_for(two_inside.wait(), 5)
    assert sorted(inside) == ["a1", "b1"]
    release.set()
    await asyncio.gather(first, second, other)
    assert inside[-1] == "a2" and not ledger.busy("a")


async def test_a_holder_past_the_budget_gives_a_lock_timeout() -> None:
    ledger = PlacementLedger()
    async with ledger.hold("a", 1):
        with pytest.raises(LockTimeout):
            async with ledger.hold("a", 0.01):
                pass


async def test_a_cancelled_caller_does_not_cancel_its_detached_placement() -> None:
    ledger = PlacementLedger()
    sent = asyncio.Event()
    finished = asyncio.Event()

    async def place() -> str:
        async with ledger.hold("a", 1):
            sent.set()
            await asyncio.sleep(0.05)
            finished.set()
            return "placed"

    task = ledger.detach(place())

    async def caller_waits() -> str:
        return await asyncio.shield(task)

    caller = asyncio.create_task(caller_waits())
    await sent.wait()
    caller.cancel()
    assert await task == "placed" and finished.is_set()
    assert caller.cancelled()


def test_a_remembered_placement_is_recalled_until_it_expires() -> None:
    ledger = PlacementLedger(keep_ms=1000)
    placement = Placement("a", recv_window_ms=5000, margin_ms=0)
    ledger.remember(placement, now_ms=10_000)
    assert ledger.recall("a", 10_500) is placement
    assert ledger.recall("a", 11_001) is None
