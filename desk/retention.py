"""The retention the privacy notice promises, run by the Rasa server itself once a day.

Started by the desk channel (``desk/channel.py``) when the server starts. Every
``CHECK_SECONDS`` the task asks the database whether the daily run is due and not taken
(:func:`permanence.jobs.claim`: one process at a time among those sharing the database); the
process that gets it runs :func:`desk.erasure.purge` with the cutoff
``now - PERMANENCE_RETENTION_DAYS`` (default :data:`DEFAULT_DAYS`, the 30 days of the privacy
notice in ``domain.yml``). Each conversation is erased under its lock in the server
(``agent.lock_store``), like a turn or the lawyer's erase. A failed run is logged and tried again
an hour later (the claim goes stale); a successful one is due again a day later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from desk import db, erasure
from permanence import erasure as everywhere
from permanence import jobs

logger = logging.getLogger(__name__)

ENV_DAYS = "PERMANENCE_RETENTION_DAYS"
DEFAULT_DAYS = 30  # « effacés 30 j après » the answer (domain.yml, utter_opening)
JOB = "retention"
PERIOD = timedelta(days=1)
CHECK_SECONDS = 3600.0


def retention_days() -> int:
    """``PERMANENCE_RETENTION_DAYS`` (a whole number of days, at least 1), else 30."""
    raw = os.environ.get(ENV_DAYS, "").strip()
    if not raw:
        return DEFAULT_DAYS
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{ENV_DAYS} must be a whole number of days, at least 1")
    return int(raw)


async def erase_locked(app: Any, conversation_id: str) -> dict[str, int]:
    """Erase a conversation from every store under its lock in this server (when there is an
    agent), in the default executor."""
    loop = asyncio.get_running_loop()
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    lock_store = getattr(agent, "lock_store", None)
    if lock_store is None:
        return await loop.run_in_executor(None, everywhere.erase_everywhere, conversation_id)
    async with lock_store.lock(conversation_id):
        return await loop.run_in_executor(None, everywhere.erase_everywhere, conversation_id)


async def run_once(app: Any, url: str | None, days: int, holder: str,
                   now: datetime | None = None) -> erasure.RetentionResult | None:
    """The daily run if due and ours to take; None otherwise."""
    loop = asyncio.get_running_loop()
    engine = db.session_factory(url or None).kw["bind"]
    now = now or datetime.now(timezone.utc)
    if not await loop.run_in_executor(None, jobs.claim, engine, JOB, holder, PERIOD):
        return None
    before = now - timedelta(days=days)

    def erase(conversation_id: str) -> Any:  # on an executor thread: lock on the loop
        return asyncio.run_coroutine_threadsafe(erase_locked(app, conversation_id),
                                                loop).result()

    result = await loop.run_in_executor(None, erasure.purge, url, before, erase)
    await loop.run_in_executor(None, jobs.finished, engine, JOB, holder)
    return result


async def loop_forever(app: Any, url: str | None, days: int,
                       check_seconds: float = CHECK_SECONDS) -> None:
    holder = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    while True:
        try:
            result = await run_once(app, url, days, holder)
            if result is not None:
                logger.info("desk.retention.ran days=%d conversations=%d cases=%d", days,
                            result.conversations, result.cases)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - logged (ids only), tried again later
            logger.exception("desk.retention.failed")
        await asyncio.sleep(check_seconds)
