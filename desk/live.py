"""Live updates for the lawyer's pages: Server-Sent Events at ``GET /desk/events``.

Events are small JSON objects, ids and codes only (never text)::

    {"type": "case.opened", "case_id": 12}      a handover opened a case
    {"type": "case.message", "case_id": 12}     the person wrote on an open case
    {"type": "case.changed", "case_id": 12}     anything else changed on the case (state, reply)
    {"type": "desk.changed", "case_id": null}   cases were erased, or events were dropped
    {"type": "session.ended", "case_id": null}  the session expired or was revoked: log in again

Two sources feed the same :data:`broker`:

- in-process: :func:`publish`, called by :mod:`desk.hooks` once the handover's case or the
  person's message is committed. Hooks run in an executor thread; each subscriber's queue is
  fed on its own loop with ``loop.call_soon_threadsafe``.
- the database: a :class:`Watcher` per database reads ``desk_case.updated_at`` every
  :data:`POLL_SECONDS` while someone listens, so that the changes made by other server
  processes (and the lawyers' own actions) arrive too.

The stream sends a keep-alive comment every :data:`KEEPALIVE_SECONDS`, checks then that the
session is still valid, and ends when the lawyer goes away or the server stops.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from desk import api, auth, cases, db
from desk.models import desk_case, utcnow

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
QUEUE_SIZE = 256
# Rows are re-read this long after their last change: commits may land out of timestamp order.
WATCH_OVERLAP = timedelta(seconds=10)
_CLOSE = object()


# ------------------------------------------------------------------ the broker


@dataclass(eq=False)
class Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False

    def offer(self, event: Any) -> None:
        """On the subscriber's loop: queue the event; when full, one ``desk.changed`` later."""
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


class Broker:
    """The subscribers of this process; :meth:`publish` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[Subscriber] = set()

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber(asyncio.get_running_loop())
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    def count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def _send(self, item: Any) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, item)
            except RuntimeError:  # its loop is closed: the server is gone
                self.unsubscribe(subscriber)

    def publish(self, event: dict[str, Any]) -> None:
        self._send(event)

    def close_all(self) -> None:
        """Every stream ends (server stopping)."""
        self._send(_CLOSE)


broker = Broker()


def publish(kind: str, case_id: int | None) -> None:
    """Tell every lawyer listening in this process (any thread)."""
    broker.publish({"type": kind, "case_id": case_id})


def sse(event: dict[str, Any]) -> str:
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n"


# ------------------------------------------------------------------ the database watcher


class ChangeTracker:
    """Which cases changed between two reads of the case count and the recently updated
    ``(id, updated_at)`` rows (pure logic). A smaller count means cases were erased."""

    def __init__(self, started: datetime | None = None) -> None:
        self.seen: dict[int, datetime] = {}
        self.high: datetime | None = None
        self.count: int | None = None
        # Changes after this moment are reported even by the first read (which only primes
        # otherwise): a change between a lawyer's connecting and that read is not lost.
        self.started = started

    def since(self) -> datetime | None:
        return None if self.high is None else self.high - WATCH_OVERLAP

    def update(self, count: int, rows: list[tuple[int, datetime]]) -> list[dict[str, Any]]:
        first = self.count is None
        erased = not first and count < self.count
        changed = [case_id for case_id, at in rows if self.seen.get(case_id) != at]
        self.count = count
        for case_id, at in rows:
            self.seen[case_id] = at
            self.high = at if self.high is None or at > self.high else self.high
        horizon = self.since()
        if horizon is not None:
            self.seen = {k: at for k, at in self.seen.items() if at >= horizon}
        if first:
            changed = ([case_id for case_id, at in rows if at > self.started]
                       if self.started is not None else [])
        events = [{"type": "case.changed", "case_id": case_id} for case_id in sorted(changed)]
        if erased:  # never on the first read
            events.append({"type": "desk.changed", "case_id": None})
        return events


class Watcher:
    """Reads the recently changed cases every :data:`POLL_SECONDS` while the broker has
    subscribers, and publishes ``case.changed`` for each (``desk.changed`` after an erasure)."""

    def __init__(self, factory: Callable[[], sessionmaker], target: Broker = broker) -> None:
        self.factory = factory
        self.broker = target
        self.task: asyncio.Task | None = None
        self.changes = ChangeTracker()

    def read(self) -> tuple[int, list[tuple[int, datetime]]]:
        """The number of cases, and the cases updated since the last read (with an overlap)."""
        since = self.changes.since()
        with self.factory().begin() as session:
            count = session.execute(select(func.count()).select_from(desk_case)).scalar_one()
            if since is None:
                high = session.execute(select(func.max(desk_case.c.updated_at))).scalar()
                if high is None:
                    return count, []
                since = high - WATCH_OVERLAP
            rows = session.execute(
                select(desk_case.c.id, desk_case.c.updated_at)
                .where(desk_case.c.updated_at >= since)
            )
            return count, [(row.id, row.updated_at) for row in rows]

    def ensure_running(self) -> None:
        if self.task is None or self.task.done():
            self.changes = ChangeTracker(started=utcnow())
            self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.broker.count():
                try:
                    count, rows = await loop.run_in_executor(None, self.read)
                except Exception:  # a database hiccup: the next poll tries again
                    logger.exception("desk.live.poll_failed")
                else:
                    for event in self.changes.update(count, rows):
                        self.broker.publish(event)
                await asyncio.sleep(POLL_SECONDS)
        finally:
            # The next subscriber starts afresh (nothing published for the time nobody listened).
            self.changes = ChangeTracker(started=utcnow())


# ------------------------------------------------------------------ the route


def install(bp: Blueprint, factory: Callable[[], sessionmaker]) -> None:
    """``GET /events`` on the desk's blueprint."""
    watcher = Watcher(factory)

    in_db = functools.partial(db.in_session, factory)

    @bp.get("/events")
    async def events(request: Request) -> HTTPResponse | None:
        try:
            kind, token = api.credentials(request)
        except cases.DeskError as exc:
            return api.error(exc.status, exc.code, str(exc))

        def connect(session: Session) -> int | None:
            lawyer_id = auth.verify_token(session, token, kind)
            if lawyer_id is not None:
                cases.audit(session, lawyer_id, None, "events.open")
            return lawyer_id

        lawyer_id = await in_db(connect)
        if lawyer_id is None:
            return api.error(401, "unauthorized", "unknown, expired or revoked credentials")
        subscriber = broker.subscribe()
        watcher.ensure_running()
        logger.info("desk.live.open lawyer=%s listeners=%d", lawyer_id, broker.count())
        try:
            stream = await request.respond(
                content_type="text/event-stream; charset=utf-8",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )
            await stream.send(f"retry: {RETRY_MILLISECONDS}\n: connected\n\n")
            while True:
                try:
                    item = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    still = await in_db(lambda s: auth.verify_token(s, token, kind))
                    if still != lawyer_id:
                        await stream.send(sse({"type": "session.ended", "case_id": None}))
                        break
                    await stream.send(": keep-alive\n\n")
                    continue
                if item is _CLOSE:
                    break
                if subscriber.overflowed:
                    subscriber.overflowed = False
                    item = {"type": "desk.changed", "case_id": None}
                await stream.send(sse(item))
            await stream.eof()
        except asyncio.CancelledError:  # the lawyer went away
            raise
        finally:
            broker.unsubscribe(subscriber)
            logger.info("desk.live.close lawyer=%s listeners=%d", lawyer_id, broker.count())
        return None

    @bp.listener("before_server_stop")
    async def close_streams(app: Sanic, loop: Any) -> None:
        broker.close_all()
        if watcher.task is not None:
            watcher.task.cancel()
