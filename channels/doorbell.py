"""``Doorbell``: wakes one idle task per ring, for a channel's workers and senders.

An ``asyncio.Event`` wakes every waiter: with 16 idle workers, one new message made 16 of them
look for work at once, 15 for nothing, each in a write transaction that the tracker store's
save then waited behind (docs/benchmarks.md). A ring wakes one waiter; the task that gets work
rings again, so a burst spreads over the idle tasks in a chain. A ring with nobody waiting is
kept (at most one), so a task that looked for work just before the ring does not miss it.
Loop-bound: from another thread, use ``loop.call_soon_threadsafe(bell.ring)``.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Doorbell:
    def __init__(self) -> None:
        self._waiters: deque[asyncio.Future] = deque()
        self._pending = False

    def ring(self) -> None:
        """Wake one waiter, or let the next ``wait`` return at once."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._pending = True

    def ring_all(self) -> None:
        """Wake every waiter (on stop)."""
        self._pending = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, timeout: float) -> bool:
        """Until a ring or ``timeout`` seconds; True if rung."""
        if self._pending:
            self._pending = False
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            if not waiter.done():
                waiter.cancel()
            try:
                self._waiters.remove(waiter)
            except ValueError:
                pass

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())
