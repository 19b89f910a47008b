"""Polling mode of the X channel, for accounts without webhook access (``mode: polling``).

A background task of the server reads X's lists and writes what it finds to the same durable
inbox as the webhook (``x_inbox``); the same inbox workers then feed Rasa in order per person
and the same outbox sends the replies (``connectors/x/runtime.py``). Three sources:

- ``dm_events``: ``GET /2/dm_events`` (``MessageCreate`` events with ``sender_id``,
  ``dm_conversation_id``, ``created_at``), every ``poll_interval_seconds`` (default 60 s; X
  allows 15 requests per 15 minutes since 2026, one a minute: ``X-API-2026.md``);
- ``mentions``: ``GET /2/users/:id/mentions`` and ``search``: ``GET /2/tweets/search/recent``
  for the hashtags (retweets left out), each every ``poll_tweets_interval_seconds`` (default
  10 s; X allows 450 requests per 15 minutes each).

**Cursors.** Each source keeps in ``x_cursor`` the newest id it has read (``x.poll.<source>``).
A round reads from the newest item back to that id (``since_id`` for tweets; for DMs, which
have no ``since_id``, page after page until an older id shows up), and stores the new events
and the new cursor in one transaction (``Store.inbox_add_many``): a restart neither loses nor
repeats a message. Each round reads a few seconds before the cursor again (``OVERLAP``), since
X may show an id a little after a larger one; the inbox's unique event ids drop what was
already stored. On the very first start the cursor is set to ``poll_backfill_seconds`` before
now (default 10 minutes), so that DMs of the moments before the first start are answered and
older history is not. The account's own DMs and tweets are skipped (``payloads``).

**Old events.** What a round reads goes through the same age window as the webhook
(``inbox.fresh_events``, ``max_event_age_seconds``): the cursor and the backfill (which may not
exceed the window) already keep old history out, so it only leaves out the messages older than
the window found by a poller back after a long outage, with a warning and their count; the
cursor moves past them.

**Rate limits.** Every answer carries ``x-rate-limit-remaining`` and ``x-rate-limit-reset``.
When the remaining requests of the window fall to a tenth of the limit, the source slows down
to spread them until the reset; a 429 waits until ``x-rate-limit-reset``; a 5xx, a network
error or any other refusal backs off exponentially (up to ``MAX_BACKOFF_SECONDS``). An interval
below the sustainable pace is allowed (tests, the sandbox) and logged at start.

**Costs.** X bills every item a read returns, once per item per UTC day (a DM event read
$0.010, a post of the search $0.005, one of the account's mentions $0.001): each round records
the items of its pages (``permanence/x_costs.py``), with its events when it stores some; the
same items read again that day are not counted again.

**One poller.** Several server processes may share the database: only the holder of the lease
``x.poller`` (``x_lease``) polls. It renews the lease every third of ``poll_lease_seconds``
(default 30 s) and releases it on shutdown; if it dies, another process takes over once the
lease expires. Two pollers at once (a holder frozen past its lease) would only store the same
events twice, which the inbox deduplicates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import tweepy

from channels.lease import LeaseLoop
from channels.store import utcnow
from connectors.x.client import status_of
from connectors.x.inbox import fresh_events, inbox_rows, person_ref
from connectors.x.payloads import (
    Inbound,
    InboundDM,
    ListRequest,
    MalformedPayload,
    Page,
    decode_body,
    dm_events_request,
    mentions_request,
    parse_dm_events_page,
    parse_tweets_page,
    search_request,
    snowflake_at,
)
from permanence import x_costs

if TYPE_CHECKING:
    from connectors.x.runtime import XRuntime

logger = logging.getLogger(__name__)

LEASE = "x.poller"
CURSOR_PREFIX = "x.poll."
OVERLAP = timedelta(seconds=5)
MAX_PAGES = 20
SEEN_MAX = 4096
MAX_BACKOFF_SECONDS = 120.0
RATE_LIMIT_FALLBACK_SECONDS = 60.0
RESERVE_FRACTION = 0.1
# Requests per 15-minute window (X's documented limits), for the warning about fast intervals.
WINDOW_SECONDS = 15 * 60
LIMITS = {"dm_events": 15, "mentions": 450, "search": 450}
# Recent search only reaches 7 days back; a since_id older than that is refused (400).
SEARCH_HORIZON = timedelta(days=7) - timedelta(minutes=10)


# ------------------------------------------------------------------------------ pure pieces


@dataclass(frozen=True)
class RateWindow:
    """X's ``x-rate-limit-*`` headers: the limit, what is left, the reset (epoch seconds)."""

    limit: int
    remaining: int
    reset: float

    @classmethod
    def from_headers(cls, headers: Mapping[str, str] | None) -> RateWindow | None:
        if not headers:
            return None
        try:
            return cls(int(headers["x-rate-limit-limit"]),
                       int(headers["x-rate-limit-remaining"]),
                       float(headers["x-rate-limit-reset"]))
        except (KeyError, ValueError):
            return None


def next_delay(interval: float, window: RateWindow | None, now: float) -> float:
    """Seconds until the next round after a successful one: ``interval``, or slower when the
    window's requests run low (spread evenly until the reset; after the last one, the reset)."""
    if window is None:
        return interval
    until_reset = max(window.reset - now, 0.0)
    if window.remaining <= 0:
        return max(interval, until_reset + 1.0)
    if window.remaining <= max(1, int(window.limit * RESERVE_FRACTION)):
        return max(interval, until_reset / window.remaining)
    return interval


def backoff_seconds(interval: float, failures: int) -> float:
    """After ``failures`` failed rounds in a row (1, 2, ...): doubling, capped."""
    return min(max(interval, 1.0) * 2 ** min(max(failures - 1, 0), 16), MAX_BACKOFF_SECONDS)


def rate_limited_seconds(reset_time: float | None, now: float) -> float:
    """After a 429: until ``x-rate-limit-reset`` (a second past it), or a minute without it."""
    if reset_time is None:
        return RATE_LIMIT_FALLBACK_SECONDS
    return max(reset_time - now + 1.0, 1.0)


def lower_bound(cursor: int, overlap: timedelta = OVERLAP) -> int:
    """The id a round reads back to (exclusive): ``overlap`` before the cursor."""
    return max(cursor - (int(overlap / timedelta(milliseconds=1)) << 22), 0)


def event_key(event: Inbound) -> int:
    return int(event.event_id if isinstance(event, InboundDM) else event.tweet_id)


@dataclass(frozen=True)
class Round:
    """What one round read: the events newer than the bound (oldest first), the newest id
    seen on the first page (None if the list was empty), and whether paging stopped early."""

    events: list[Inbound]
    newest_id: int | None
    truncated: bool


def collect(pages: list[Page], bound: int) -> Round:
    """Fold the pages of one round (newest first) into a :class:`Round`."""
    newest = max((int(page.newest_id) for page in pages if page.newest_id), default=None)
    events = [event for page in pages for event in page.inbound if event_key(event) > bound]
    events.sort(key=event_key)
    last = pages[-1] if pages else None
    truncated = bool(last and last.next_token and last.oldest_id
                     and int(last.oldest_id) > bound)
    return Round(events, newest, truncated)


def more_pages(page: Page, bound: int, pages_read: int) -> bool:
    """Whether to ask for the page after ``page``."""
    if not page.next_token or pages_read >= MAX_PAGES:
        return False
    return page.oldest_id is None or int(page.oldest_id) > bound


@dataclass(frozen=True)
class Source:
    """One list the poller reads."""

    name: str
    interval: float
    request: Callable[[int | None, str | None], ListRequest]  # (since_id, page token)
    parse: Callable[[Any, str], Page]
    user_auth: bool
    since_id: bool  # the list takes since_id (tweets); else paging stops at the bound (DMs)
    price_kind: str  # what X bills per item read (permanence/x_costs.py)
    horizon: timedelta | None = None  # how far back X serves the list

    @property
    def cursor(self) -> str:
        return CURSOR_PREFIX + self.name


def sources(settings: Any, account_id: str) -> list[Source]:
    """The lists to read for ``settings`` (an ``XSettings``) and the account."""
    tweets_user_auth = not settings.bearer_token
    return [
        Source("dm_events", settings.poll_interval_seconds,
               lambda since, token: dm_events_request(token),
               parse_dm_events_page, user_auth=True, since_id=False,
               price_kind=x_costs.DM_EVENT_READ),
        Source("mentions", settings.poll_tweets_interval_seconds,
               lambda since, token: mentions_request(account_id, since, token),
               parse_tweets_page, user_auth=tweets_user_auth, since_id=True,
               price_kind=x_costs.OWNED_READ),
        Source("search", settings.poll_tweets_interval_seconds,
               lambda since, token: search_request(settings.hashtags, since, token),
               parse_tweets_page, user_auth=tweets_user_auth, since_id=True,
               price_kind=x_costs.POST_READ, horizon=SEARCH_HORIZON),
    ]


# --------------------------------------------------------------------------------- the task


class Poller(LeaseLoop):
    """Reads X's lists into the runtime's inbox while this process holds the lease
    (``channels/lease.py``)."""

    lease_name = LEASE
    log_name = "x.poll"

    def __init__(self, runtime: XRuntime) -> None:
        super().__init__(runtime, runtime.settings.poll_lease_seconds)
        self.settings = runtime.settings
        self.sources = sources(self.settings, runtime.account_id or "")
        self._tasks: dict[str, asyncio.Task] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def run(self) -> None:
        """Hold (or wait for) the lease and poll while holding it, until cancelled."""
        for source in self.sources:
            sustainable = WINDOW_SECONDS / LIMITS[source.name]
            if source.interval < sustainable:
                logger.warning("x.poll.interval_below_limit source=%s interval=%.2fs "
                               "sustainable=%.1fs", source.name, source.interval, sustainable)
        await super().run()

    def start_work(self) -> None:
        for source in self.sources:
            self._tasks[source.name] = asyncio.ensure_future(self._source_loop(source))

    def stop_work(self) -> list[asyncio.Future]:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        self._tasks.clear()
        return tasks

    # rounds

    async def _source_loop(self, source: Source) -> None:
        failures = 0
        while True:
            try:
                delay = await self.poll(source)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the boundary: keep polling
                failures += 1
                delay = self._failure_delay(source, exc, failures)
            await asyncio.sleep(delay)

    def _failure_delay(self, source: Source, exc: Exception, failures: int) -> float:
        if isinstance(exc, tweepy.TooManyRequests):
            delay = rate_limited_seconds(exc.reset_time, time.time())
            logger.warning("x.poll.rate_limited source=%s retry_in=%.1fs", source.name, delay)
            return delay
        delay = backoff_seconds(source.interval, failures)
        if isinstance(exc, (tweepy.TwitterServerError, aiohttp.ClientError,
                            asyncio.TimeoutError)):
            logger.warning("x.poll.unavailable source=%s error=%s retry_in=%.1fs",
                           source.name, status_of(exc), delay)
        elif isinstance(exc, (tweepy.TweepyException, MalformedPayload)):
            # 400, 401, 403, 404 or a body of the wrong shape: credentials, access level or a
            # format change; someone must look, polling goes on slowly.
            logger.error("x.poll.refused source=%s error=%s retry_in=%.1fs",
                         source.name, status_of(exc), delay)
        else:
            logger.error("x.poll.error source=%s retry_in=%.1fs", source.name, delay,
                         exc_info=exc)
        return delay

    async def poll(self, source: Source) -> float:
        """One round of ``source``: read, store the new events with the new cursor, wake the
        workers. Returns the seconds to wait before the next round."""
        runtime = self.runtime
        store = runtime.store
        cursor = await self._cursor(source)
        bound = lower_bound(cursor)
        if source.horizon is not None:
            bound = max(bound, snowflake_at(utcnow() - source.horizon))
        pages: list[Page] = []
        window: RateWindow | None = None
        token: str | None = None
        while True:
            request = source.request(bound if source.since_id else None, token)
            body, window = await self._get(request, source.user_auth)
            page = source.parse(body, runtime.account_id or "")
            pages.append(page)
            if not more_pages(page, bound, len(pages)):
                break
            token = page.next_token
        # X bills every item a page returns, once per item per UTC day (x_costs).
        charges = runtime.meter.resources(
            source.price_kind, [item for page in pages for item in page.item_ids], utcnow())
        found = collect(pages, bound)
        if found.truncated:
            logger.warning("x.poll.truncated source=%s pages=%d", source.name, len(pages))
        events, stale = fresh_events(found.events, self.settings, utcnow())
        if stale:
            logger.warning("x.poll.stale_events source=%s count=%d", source.name, stale)
        rows = [row for row in inbox_rows(events, self.settings, runtime.account_id or "",
                                          runtime.account_username or "")
                if row.event_id not in self._seen]
        new_cursor = max(cursor, found.newest_id or 0)
        if rows or new_cursor != cursor:
            added = await runtime.run_db(store.inbox_add_many, rows,
                                         cursor=(source.cursor, str(new_cursor)),
                                         costs=charges)
            for row, new in zip(rows, added, strict=True):
                self._remember(row.event_id)
                if new:
                    logger.info("x.inbox.added event_id=%s sender=%s via=%s",
                                row.event_id, person_ref(row.sender_id), source.name)
            if any(added):
                runtime.wake_workers()
        else:  # the same items as before: recorded already, unless the day changed
            await runtime.charge(charges)
        return next_delay(source.interval, window, time.time())

    async def _cursor(self, source: Source) -> int:
        """The source's cursor; on the very first round, the backfill horizon (stored)."""
        store = self.runtime.store
        raw = await self.runtime.run_db(store.cursor_get, source.cursor)
        if raw and raw.isdigit():
            return int(raw)
        start = snowflake_at(utcnow() - timedelta(seconds=self.settings.poll_backfill_seconds))
        await self.runtime.run_db(store.cursor_set, source.cursor, str(start))
        logger.info("x.poll.cursor_started source=%s", source.name)
        return start

    async def _get(self, request: ListRequest, user_auth: bool
                   ) -> tuple[Any, RateWindow | None]:
        response = await self.runtime.client.request(
            "GET", request.route, params=dict(request.params), user_auth=user_auth)
        return await response_json(response), RateWindow.from_headers(response.headers)

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        self._seen.move_to_end(event_id)
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)


async def response_json(response: aiohttp.ClientResponse) -> Any:
    """The JSON body of an answer tweepy has already read and released (``read()`` refuses a
    released response; ``text()`` returns the body read)."""
    try:
        text = await response.text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload("body: not UTF-8") from exc
    return decode_body(text.encode("utf-8"))
