"""``AdapterPoller``: a source read round after round through ``ChannelAdapter.poll``, for a
channel whose platform pushes nothing (or as a fallback when its stream is down).

One process at a time polls: the poller is a :class:`channels.lease.LeaseLoop` (lease
``lease_name``, renewed every third of ``ttl_seconds``, taken over once it expires). A round
reads the stored cursor, asks the adapter for the events after it and the next cursor, and
writes both in one transaction (``ChannelRuntime.accept_rows``): a restart neither loses nor
repeats a message, and the inbox's unique event ids drop what an overlap reads again. The next
round comes ``interval`` seconds later; a failed round (the platform down, a refusal) backs off
doubling from ``interval`` up to ``MAX_BACKOFF_SECONDS``, logged with the exception's type only.

X keeps a poller of its own (``connectors/x/polling.py``: several lists, X's rate-limit
headers, what X bills per item read); this one is for a channel whose ``poll`` says it all.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.lease import LeaseLoop

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 120.0


class AdapterPoller(LeaseLoop):
    """Polls ``adapter`` into ``runtime``'s inbox while this process holds ``lease_name``."""

    def __init__(self, runtime: Any, adapter: Any, *, lease_name: str, cursor_name: str,
                 interval: float, ttl_seconds: float, client: Any = None) -> None:
        super().__init__(runtime, ttl_seconds)
        self.adapter = adapter
        self.client = client
        self.lease_name = lease_name
        self.log_name = f"{runtime.channel}.poll"
        self.cursor_name = cursor_name
        self.interval = interval
        self._task: asyncio.Task | None = None

    def start_work(self) -> None:
        self._task = asyncio.ensure_future(self._rounds())

    def stop_work(self) -> list[asyncio.Future]:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return [] if task is None else [task]

    async def poll_once(self) -> int:
        """One round: the events after the stored cursor, stored with the next cursor (None
        from the adapter: the cursor stays). How many events are new."""
        runtime = self.runtime
        cursor = await runtime.run_db(runtime.store.cursor_get, self.cursor_name)
        rows, next_cursor = await self.adapter.poll(self.client, cursor)
        moved = next_cursor is not None and next_cursor != cursor
        return await runtime.accept_rows(
            rows, cursor=(self.cursor_name, next_cursor) if moved else None)

    async def _rounds(self) -> None:
        failures = 0
        while True:
            try:
                added = await self.poll_once()
                failures = 0
                delay = self.interval
                if added:
                    logger.info("%s.round new=%d", self.log_name, added)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the boundary: keep polling
                failures += 1
                delay = min(max(self.interval, 1.0) * 2 ** min(failures - 1, 16),
                            MAX_BACKOFF_SECONDS)
                logger.warning("%s.failed error=%s attempt=%d retry_in=%.1fs", self.log_name,
                               type(exc).__name__, failures, delay)
            await asyncio.sleep(delay)
