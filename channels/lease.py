"""One singleton job among the server processes sharing a database: the lease loop.

The poller and the stream reader of a channel (one reader per database) are both a
:class:`LeaseLoop`: it asks for the lease ``lease_name`` every third of ``ttl_seconds``
(``Store.lease_acquire``: taken if free, expired or ours, then renewed), starts the work when it
gets it, stops the work when it loses it (a holder frozen past its lease), and on :meth:`stop`
cancels the work and gives the lease up, so that another process need not wait for it to
expire. A database error counts as not holding the lease (the work stops; it resumes when the
database answers again).

A subclass says what the work is: :meth:`start_work` (start its tasks) and :meth:`stop_work`
(cancel them; return them, so that :meth:`stop` can wait for them). The runtime object it is
given offers ``store`` (a :class:`channels.store.Store`, None once closed), ``run_db`` (a store
call off the event loop) and ``worker_name`` (this process's name, the lease's holder).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

logger = logging.getLogger(__name__)


class LeaseLoop:
    """Runs the work of a subclass while this process holds the lease ``lease_name``."""

    lease_name: str = ""
    log_name: str = "channel.lease"  # the prefix of the log events (e.g. ``x.poll``)

    def __init__(self, runtime: Any, ttl_seconds: float) -> None:
        self.runtime = runtime
        self.holder: str = runtime.worker_name
        self.ttl_seconds = ttl_seconds
        self.leading = False
        self._stopped = False

    def start_work(self) -> None:
        raise NotImplementedError

    def stop_work(self) -> list[asyncio.Future]:
        raise NotImplementedError

    async def run(self) -> None:
        """Hold (or wait for) the lease and work while holding it, until stopped or
        cancelled."""
        try:
            while not self._stopped:
                await self.check_lease()
                await asyncio.sleep(self.ttl_seconds / 3)
        finally:
            self.stop_work()

    async def check_lease(self) -> None:
        runtime = self.runtime
        if self._stopped:
            return
        try:
            held = await runtime.run_db(runtime.store.lease_acquire, self.lease_name,
                                        self.holder, self.ttl_seconds)
        except Exception:  # noqa: BLE001 - the database may be briefly unavailable
            logger.exception("%s.lease_error", self.log_name)
            held = False
        if self._stopped:  # stopped while asking: stop() has released the lease, or will
            return
        if held and not self.leading:
            self.leading = True
            logger.info("%s.leading holder=%s", self.log_name, self.holder)
            self.start_work()
        elif not held and self.leading:
            self.leading = False
            logger.warning("%s.lease_lost holder=%s", self.log_name, self.holder)
            self.stop_work()
        elif not held:
            logger.debug("%s.standby holder=%s", self.log_name, self.holder)

    async def stop(self) -> None:
        """Stop working and give the lease up, so that another process need not wait."""
        self._stopped = True
        tasks = self.stop_work()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.leading and self.runtime.store is not None:
            self.leading = False
            try:
                await self.runtime.run_db(self.runtime.store.lease_release, self.lease_name,
                                          self.holder)
            except Exception:  # noqa: BLE001 - it expires anyway
                logger.exception("%s.release_error", self.log_name)
