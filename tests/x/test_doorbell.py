"""The Doorbell wakes one idle task per ring (connectors/x/doorbell.py)."""

from __future__ import annotations

import asyncio

from channels.doorbell import Doorbell


async def _waiters(bell: Doorbell, count: int, timeout: float = 5.0) -> list[asyncio.Task]:
    tasks = [asyncio.ensure_future(bell.wait(timeout)) for _ in range(count)]
    await asyncio.sleep(0.01)
    assert bell.waiting == count
    return tasks


async def test_a_ring_wakes_one_waiter_not_all() -> None:
    bell = Doorbell()
    tasks = await _waiters(bell, 5)
    bell.ring()
    await asyncio.sleep(0.05)
    assert sum(task.done() for task in tasks) == 1
    assert [task.result() for task in tasks if task.done()] == [True]
    bell.ring_all()
    assert await asyncio.gather(*tasks) == [True] * 5


async def test_a_ring_with_nobody_waiting_is_kept_once() -> None:
    bell = Doorbell()
    bell.ring()
    bell.ring()
    assert await bell.wait(5.0) is True  # at once
    assert await bell.wait(0.05) is False  # the second ring was not counted


async def test_a_wait_times_out_and_leaves_no_waiter_behind() -> None:
    bell = Doorbell()
    assert await bell.wait(0.05) is False
    assert bell.waiting == 0
    bell.ring()  # kept for the next waiter, not lost on the timed-out one
    assert await bell.wait(0.05) is True


async def test_a_cancelled_waiter_does_not_swallow_a_ring() -> None:
    bell = Doorbell()
    first, second = await _waiters(bell, 2)
    first.cancel()
    await asyncio.sleep(0.01)
    assert first.cancelled()
    bell.ring()
    assert await asyncio.wait_for(second, 1.0) is True


async def test_rings_from_another_thread() -> None:
    bell = Doorbell()
    loop = asyncio.get_running_loop()
    [task] = await _waiters(bell, 1)
    await asyncio.to_thread(loop.call_soon_threadsafe, bell.ring)
    assert await asyncio.wait_for(task, 1.0) is True
