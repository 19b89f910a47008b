"""The lease loop shared by the poller and the stream reader (channels/lease.py), on a real
database: one process works at a time, the other takes over once the first stops, and a
process whose lease was taken (it froze past it) stops working."""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta

from channels.lease import LeaseLoop
from channels.store import Store, utcnow


class Runtime:
    def __init__(self, store: Store, name: str) -> None:
        self.store, self.worker_name = store, name

    async def run_db(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(function, *args))


class Counting(LeaseLoop):
    lease_name = "test.job"
    log_name = "test.job"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, ttl_seconds=0.3)
        self.task: asyncio.Task | None = None
        self.ticks = 0

    def start_work(self) -> None:
        self.task = asyncio.ensure_future(self._work())

    def stop_work(self) -> list[asyncio.Future]:
        task, self.task = self.task, None
        if task is None:
            return []
        task.cancel()
        return [task]

    async def _work(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0.01)


async def eventually(predicate, timeout: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
    return True


async def test_one_works_and_the_other_takes_over(open_store) -> None:
    first, second = Counting(Runtime(open_store(), "p1")), Counting(Runtime(open_store(), "p2"))
    runs = [asyncio.ensure_future(loop.run()) for loop in (first, second)]
    await eventually(lambda: first.leading or second.leading)
    leader, standby = (first, second) if first.leading else (second, first)
    await eventually(lambda: leader.ticks > 3)
    assert not standby.leading and standby.ticks == 0
    await leader.stop()
    assert leader.runtime.store.lease_holder("test.job") != leader.holder  # released
    await eventually(lambda: standby.leading and standby.ticks > 0)
    await standby.stop()
    await asyncio.gather(*runs)
    assert standby.task is None


async def test_a_holder_whose_lease_was_taken_stops_working(open_store) -> None:
    store = open_store()
    loop = Counting(Runtime(store, "p1"))
    run = asyncio.ensure_future(loop.run())
    await eventually(lambda: loop.leading and loop.ticks > 0)
    # Another process took the lease over (this one froze past it).
    later = utcnow() + timedelta(seconds=1)
    assert store.lease_acquire("test.job", "p2", 60, now=later)
    await eventually(lambda: not loop.leading)
    assert loop.task is None
    await loop.stop()
    await run
    assert store.lease_holder("test.job") == "p2"  # not released: it is not ours
