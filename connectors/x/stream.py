"""Stream mode of the X channel (``mode: stream``): X's persistent activity stream read into
the durable inbox. The recommended mode for a firm without a public HTTPS address: the server
connects out to X, nothing connects in.

``make x-register`` (no webhook URL) subscribes the account to ``dm.received`` and
``post.mention.create``; X then writes each event as one line of ``GET /2/activity/stream``
(app bearer token), with a blank keep-alive line at least every 20 seconds
(``connectors/x/activity.py`` has the wire format). Each event line goes through the same
parser and age window as a webhook body (``payloads.parse_webhook``, ``inbox.fresh_events``)
into the same inbox (``x_inbox``), whose workers feed Rasa in order per person; an encrypted
X Chat message is only counted (``inbox.record_chats``). What X bills for each event it wrote
on the stream (``dm.received``, ``post.mention.create``; stale ones too) is recorded with it,
in the same transaction (``inbox.delivered_charges``, table ``x_cost``): once per event and
UTC day, so a backfill's repeats are not counted twice.

**Without loss.** The stream is read one line at a time: a line is stored before the next is
read, and the moment of the last stored line is kept with it (the cursor ``x.stream.seen``,
written in the event's transaction; for keep-alives every ``SEEN_EVERY_SECONDS``). If storing
fails, the connection is closed (never acknowledged by moving on). A new connection asks for
``backfill_minutes`` covering the time since that moment (``activity.resume``; X keeps 5
minutes); for a longer gap (a server down for longer), the DM and mention lists are read once
from that moment, before the stream's first line, so that a person's older DMs come first
(``polling.Poller.poll``: one ``GET /2/dm_events``, within X's 15 reads per 15 minutes).

**Without duplicates.** The backfill repeats events already stored: the inbox's unique event
ids (the DM's id, whichever way it came) drop them.

**Reconnecting** (``activity.reconnect_delay``, X's ``handling-disconnections.mdx``): at once
after a connection that had delivered something; then 250 ms more each attempt after network
errors, ``stream_retry_seconds`` (X: 5 s) doubling after HTTP errors, a minute doubling after
a 429. A connection silent for ``stream_idle_seconds`` is closed and opened again.

**One reader.** Several server processes may share the database: only the holder of the lease
``x.stream`` reads (X allows 2 connections per app), renewed every third of
``poll_lease_seconds``; another process takes over once it expires.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp

from channels.lease import LeaseLoop
from channels.store import utcnow
from connectors.x import activity
from connectors.x.inbox import fresh_events
from connectors.x.payloads import (
    MalformedPayload,
    encrypted_chats,
    parse_webhook,
    snowflake_at,
)
from connectors.x.polling import Poller

if TYPE_CHECKING:
    from connectors.x.runtime import XRuntime

logger = logging.getLogger(__name__)

LEASE = "x.stream"
SEEN_CURSOR = "x.stream.seen"
SEEN_EVERY_SECONDS = 15.0
CONNECT_TIMEOUT_SECONDS = 30.0
# The lists read once after a gap longer than X's backfill (polling.sources' names).
CATCH_UP_SOURCES = ("dm_events", "mentions")


class StreamRefused(Exception):
    """X answered the stream's request with an HTTP error."""

    def __init__(self, status: int, reset_in: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.reset_in = reset_in


class StoreFailed(Exception):
    """A line could not be stored: the connection is given up, its backfill resumes it."""


class StreamReader(LeaseLoop):
    """Reads the activity stream into the runtime's inbox while this process holds the lease
    (``channels/lease.py``)."""

    lease_name = LEASE
    log_name = "x.stream"

    def __init__(self, runtime: XRuntime) -> None:
        super().__init__(runtime, runtime.settings.poll_lease_seconds)
        self.settings = runtime.settings
        self.connected = False
        self._reader: asyncio.Task | None = None
        self._seen_written = 0.0

    def start_work(self) -> None:
        self._reader = asyncio.ensure_future(self._read_forever())

    def stop_work(self) -> list[asyncio.Future]:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
        self.connected = False
        return [] if reader is None else [reader]

    # connections

    async def _read_forever(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT_SECONDS)
        failures = 0
        async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as http:
            while True:
                reset_in: float | None = None
                try:
                    delivered = await self._connection(http)
                    failure: activity.Failure = "network"
                    failures = 0 if delivered else failures + 1
                except StreamRefused as refused:
                    failures += 1
                    failure = "rate_limited" if refused.status == 429 else "http"
                    reset_in = refused.reset_in
                    log = logger.error if refused.status in (400, 401, 403) else logger.warning
                    log("x.stream.refused status=%d attempt=%d", refused.status, failures)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError,
                        MalformedPayload, StoreFailed) as exc:
                    failures += 1
                    failure = "network"
                    logger.warning("x.stream.failed error=%s attempt=%d",
                                   type(exc).__name__, failures)
                except Exception:  # noqa: BLE001 - the boundary: a reader that stops loses DMs
                    failures += 1
                    failure = "network"
                    logger.exception("x.stream.error attempt=%d", failures)
                finally:
                    self.connected = False
                delay = activity.reconnect_delay(failure, failures,
                                                 self.settings.stream_retry_seconds, reset_in)
                logger.info("x.stream.reconnecting in=%.2fs attempt=%d", delay, failures)
                await asyncio.sleep(delay)

    async def _connection(self, http: aiohttp.ClientSession) -> bool:
        """One connection, read until it ends; True if it delivered at least one line."""
        settings = self.settings
        seen = await self._seen()
        plan = activity.resume(seen, utcnow(), settings.poll_backfill_seconds)
        url = settings.api_base_url + activity.STREAM_ROUTE
        headers = {"Authorization": f"Bearer {settings.bearer_token}"}
        params = activity.stream_params(plan.backfill_minutes)
        async with http.get(url, params=params, headers=headers) as response:
            if response.status != 200:
                raise StreamRefused(response.status, _reset_in(response.headers))
            self.connected = True
            logger.info("x.stream.connected backfill_minutes=%d", plan.backfill_minutes)
            if plan.catch_up_since is not None:
                await self._catch_up(plan.catch_up_since)
            splitter = activity.LineSplitter(settings.max_body_bytes)
            lines = 0
            try:
                while True:
                    chunk = await asyncio.wait_for(response.content.readany(),
                                                   settings.stream_idle_seconds)
                    if not chunk:
                        logger.warning("x.stream.ended lines=%d", lines)
                        return lines > 0
                    for line in splitter.feed(chunk):
                        lines += 1
                        await self._line(line)
            except asyncio.TimeoutError:
                logger.warning("x.stream.idle seconds=%.0f lines=%d",
                               settings.stream_idle_seconds, lines)
                return lines > 0
            except (aiohttp.ClientPayloadError, ConnectionError) as exc:
                logger.warning("x.stream.dropped error=%s lines=%d", type(exc).__name__, lines)
                if lines == 0:
                    raise
                return True

    async def _line(self, raw: bytes) -> None:
        try:
            line = activity.parse_stream_line(raw)
        except MalformedPayload as exc:
            logger.error("x.stream.malformed where=%s", str(exc)[:120])
            return
        if line.kind == "keep_alive":
            await self._keep_alive()
        elif line.kind == "error":
            logger.warning("x.stream.problem title=%s", line.problem)
        else:
            await self._event(line.body)

    async def _event(self, body: object) -> None:
        runtime = self.runtime
        account_id = runtime.account_id or ""
        try:
            events = parse_webhook(body, account_id)
            chats = encrypted_chats(body, account_id)
        except MalformedPayload as exc:
            logger.error("x.stream.malformed where=%s", str(exc)[:120])
            return
        now = utcnow()
        fresh, stale = fresh_events(events, self.settings, now)
        if stale:
            logger.warning("x.stream.stale_events count=%d of=%d", stale, len(events))
        try:
            added = await runtime.accept(fresh, delivered=events, chats=chats,
                                         cursor=(SEEN_CURSOR, now.isoformat()))
        except Exception as exc:  # noqa: BLE001 - reconnecting resumes from the stored moment
            logger.exception("x.stream.store_failed")
            raise StoreFailed(type(exc).__name__) from exc
        self._seen_written = asyncio.get_running_loop().time()
        log = logger.info if fresh else logger.debug
        log("x.stream.accepted events=%d new=%d chats=%d", len(fresh), added, len(chats))

    async def _keep_alive(self) -> None:
        """The stream is alive up to now: remember it now and then."""
        loop_now = asyncio.get_running_loop().time()
        if loop_now - self._seen_written < SEEN_EVERY_SECONDS:
            return
        try:
            await self.runtime.run_db(self.runtime.store.cursor_set, SEEN_CURSOR,
                                      utcnow().isoformat())
        except Exception as exc:  # noqa: BLE001
            logger.exception("x.stream.store_failed")
            raise StoreFailed(type(exc).__name__) from exc
        self._seen_written = loop_now

    async def _seen(self) -> datetime | None:
        raw = await self.runtime.run_db(self.runtime.store.cursor_get, SEEN_CURSOR)
        try:
            return datetime.fromisoformat(raw) if raw else None
        except ValueError:
            logger.error("x.stream.seen_unreadable")
            return None

    async def _catch_up(self, since: datetime) -> None:
        """After a gap longer than X's backfill: read the DMs and mentions since ``since``
        once (polling's rounds, from a cursor set back to that moment)."""
        runtime = self.runtime
        poller = Poller(runtime)
        logger.warning("x.stream.catch_up since=%s", since.isoformat())
        for source in poller.sources:
            if source.name not in CATCH_UP_SOURCES:
                continue
            try:
                raw = await runtime.run_db(runtime.store.cursor_get, source.cursor)
                start = max(int(raw) if raw and raw.isdigit() else 0, snowflake_at(since))
                await runtime.run_db(runtime.store.cursor_set, source.cursor, str(start))
                await poller.poll(source)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the stream goes on; someone must look
                logger.error("x.stream.catch_up_failed source=%s error=%s", source.name,
                             type(exc).__name__)


def _reset_in(headers: object) -> float | None:
    """Seconds until ``x-rate-limit-reset`` (epoch seconds), if X sent it."""
    try:
        reset = float(headers.get("x-rate-limit-reset"))  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    return max(reset - utcnow().timestamp(), 0.0)
