"""``ChannelSender``: delivers a channel's outbox from a thread of its own, with its own loop.

Why a thread: Rasa's event loop is busy with inference during a live hour (a turn holds it for
tens of milliseconds at a time). A message resumes several times on its way (reserved in the
store, sent, recorded); on Rasa's loop each resumption waited for the inference step in
progress, about 180 ms per DM at 50 people (docs/benchmarks.md). Here the senders only share
the interpreter, not the loop.

Each of ``senders`` tasks takes the next due reply (``Store.outbox_next_due``, which keeps each
person's replies in order, across processes, and hands out the most urgent first), sends it
through the adapter (``ChannelAdapter.send``) and applies the typed outcome
(``channels/outcomes.py``):

- ``Sent``: marked sent (with the charges of :meth:`sent_charges`, in one transaction);
- ``PauseChannel``: the account may not send: every sender of this process waits (until the
  budget's reset when the channel keeps one, else the outcome's ``until``, else a minute), and
  the reply goes again then;
- ``RetryAfter``: tried again after the outcome's delay, or with backoff from
  ``send_retry_seconds`` (doubling), up to ``OUTBOX_MAX_ATTEMPTS``; then given up;
- ``GiveUp``: given up, its code and French reason kept for the desk.

**Budget** (optional, ``budget``: the name of the store's sending budget): every response's
headers go into it (``Store.budget_observe``), a reply is only handed out with one message of
it reserved, and while it is spent every sender waits for its reset (plus
``budget_margin_seconds``); ``budget_pace_burst`` paces replies to people already answered.

**Hooks** (a channel's subclass, on the sender's loop): :meth:`open` / :meth:`close` (the
platform's client and the adapter), :meth:`sent_before` (whether a reply reserved before, by a
process that died mid-send, already reached the platform: not sent twice), :meth:`prepare`
(the reply as it will go, e.g. with a link added), :meth:`deliver` (the call to the adapter),
:meth:`sent_charges`.

``settings`` needs ``senders``, ``send_retry_seconds``, ``budget_margin_seconds`` and
``budget_pace_burst``. Store calls run in the sender's own small thread pool; the loop never
blocks on the database. ``wake`` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from channels.doorbell import Doorbell
from channels.outcomes import Delivery, GiveUp, PauseChannel, RetryAfter, Sent, retry_at
from channels.store import OutboxItem, Store, utcnow
from permanence.logids import ref

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Idle senders look at the store unwoken (a reply queued by another process): the first at
# this pace, the others rarely; a sender that gets a reply wakes another.
POLL_SECONDS = 0.25
IDLE_POLL_SECONDS = 5.0
OUTBOX_MAX_ATTEMPTS = 20
RATE_LIMIT_FALLBACK = timedelta(seconds=60)
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


class ChannelSender:
    """The senders of one channel in one process, on a thread of their own."""

    channel: str = ""  # a subclass names its channel (logs, the thread's name)
    budget: str | None = None  # the store's sending budget, if the channel keeps one
    hold_seconds: float = 60.0  # a reply being sent is reserved this long

    def __init__(self, settings: Any, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.adapter: Any = None  # set by open(): what ``send``s
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: Doorbell | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._paused_until: datetime | None = None

    # ------------------------------------------------------------------ hooks

    async def open(self) -> None:
        """On the sender's loop, before sending: set :attr:`adapter`."""

    async def close(self) -> None:
        """On the sender's loop, once the senders stopped."""

    async def sent_before(self, item: OutboxItem) -> str | None:
        """The platform's id of ``item`` if an earlier attempt already delivered it (its
        process died before recording it), else None; default: cannot tell (None)."""
        return None

    async def prepare(self, item: OutboxItem) -> OutboxItem:
        """The reply as it will be sent (stored first if changed); default: as queued."""
        return item

    async def deliver(self, item: OutboxItem) -> Delivery:
        """Hand the reply to the platform; default ``adapter.send(recipient, text)`` (a
        channel may pass more, e.g. Mastodon an idempotency key per reply)."""
        return await self.adapter.send(item.recipient_id, item.text)

    def sent_charges(self, item: OutboxItem) -> Sequence[Any]:
        """What the platform bills for a message sent, recorded with it; default: nothing."""
        return ()

    # -------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the thread; return once its loop runs."""
        self._thread = threading.Thread(target=self._run, name=f"{self.channel}-sender",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"{self.channel} sender did not start in time")

    def stop(self) -> None:
        """Stop the senders (a send in progress is cancelled: its reply stays reserved and is
        sent again after its hold, checked with :meth:`sent_before` first) and join."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)
            self._thread = None

    def wake(self) -> None:
        """A reply was queued: look now rather than at the next poll (any thread)."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(wake.ring)
            except RuntimeError:
                pass

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # noqa: BLE001 - logged; the outbox waits for the next start
            logger.exception("%s.sender.crashed", self.channel)
        finally:
            self._ready.set()

    async def _main(self) -> None:
        senders = self.settings.senders
        self._loop = asyncio.get_running_loop()
        self._wake = Doorbell()
        self._stop = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=senders + 1,
                                            thread_name_prefix=f"{self.channel}-sender-db")
        await self.open()
        # A probe of an unknown budget left by a process killed mid-send holds nobody.
        await self._observe({}, None)
        tasks = [asyncio.ensure_future(self._loop_forever(index)) for index in range(senders)]
        self._ready.set()
        logger.info("%s.sender.started senders=%d", self.channel, senders)
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.close()
            self._executor.shutdown(wait=False)
            logger.info("%s.sender.stopped", self.channel)

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    # ---------------------------------------------------------------- sending

    async def _loop_forever(self, index: int) -> None:
        settings = self.settings
        while True:
            paused = self._paused_until
            if paused is not None:
                delay = (paused - utcnow()).total_seconds()
                if delay > 0:
                    await asyncio.sleep(min(delay, POLL_SECONDS))
                    continue
                self._paused_until = None
            try:
                item = await self._db(self.store.outbox_next_due, None, self.hold_seconds,
                                      self.budget, settings.budget_margin_seconds,
                                      settings.budget_pace_burst)
                if item is None:
                    if self.budget is not None:
                        budget = await self._db(self.store.budget_get, self.budget)
                        spent = budget.spent_until(utcnow(), settings.budget_margin_seconds)
                        if spent is not None:  # wait for the reset: never send into it
                            self._pause(spent)
                            continue
                    # Nothing due, or a probe of an unknown budget in flight (its answer
                    # rings): look again soon.
                    await self._wake.wait(POLL_SECONDS if index == 0 else IDLE_POLL_SECONDS)
                    continue
                self._wake.ring()  # there may be more: an idle sender looks
                await self.send(item)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a reserved reply is retried after its hold
                logger.exception("%s.outbox.error", self.channel)
                await self._observe({}, None)  # a probe in flight, if any, is over
                await asyncio.sleep(POLL_SECONDS)

    def _pause(self, until: datetime) -> None:
        if self._paused_until is None or until > self._paused_until:
            if self._paused_until is None:
                logger.info("%s.outbox.budget_wait until=%s", self.channel, until.isoformat())
            self._paused_until = until

    async def _observe(self, headers: Any, status: int | None) -> Any:
        """Fold a response's headers into the budget, if the channel keeps one (no response:
        the probe of an unknown budget, if this was one, is over), then let idle senders
        look."""
        try:
            if self.budget is None:
                return None
            return await self._db(self.store.budget_observe, self.budget, headers or {}, None,
                                  status)
        except Exception:  # noqa: BLE001 - the reservation already counted this message
            logger.exception("%s.outbox.budget_observe_failed status=%s", self.channel, status)
            return None
        finally:
            self._wake.ring()

    def _person(self, recipient_id: str) -> str:
        return ref(f"{self.channel}:{recipient_id}")

    async def send(self, item: OutboxItem) -> None:
        """Send one reserved reply and record the outcome."""
        store = self.store
        if item.text is None:  # already sent by a process that died before recording it
            await self._observe({}, None)  # nothing sent: a probe (if this was one) is over
            await self._db(store.outbox_sent, item.id, None)
            return
        if item.attempts > 1:  # an earlier attempt may have reached the platform unrecorded
            sent_as = await self.sent_before(item)
            if sent_as is not None:
                await self._observe({}, None)
                await self._db(store.outbox_sent, item.id, sent_as)
                logger.warning("%s.outbox.found_sent id=%s recipient=%s platform_id=%s",
                               self.channel, item.id, self._person(item.recipient_id),
                               sent_as)
                return
        item = await self.prepare(item)
        delivery = await self.deliver(item)
        await self.apply(item, delivery)

    async def apply(self, item: OutboxItem, delivery: Delivery) -> None:
        """Record what became of one send (``channels/outcomes.py``): the budget learns the
        response's headers first, then the reply is marked sent, retried, or given up."""
        store, outcome, settings = self.store, delivery.outcome, self.settings
        if isinstance(outcome, PauseChannel):
            now = utcnow()
            budget = await self._observe(delivery.headers, delivery.status)
            at = (budget.blocked_until(now, settings.budget_margin_seconds)
                  if budget is not None else None)
            at = at or outcome.until or now + RATE_LIMIT_FALLBACK
            at = max(at, now + timedelta(seconds=1))
            logger.warning("%s.outbox.rate_limited id=%s until=%s", self.channel, item.id,
                           at.isoformat())
            self._pause(at)  # the limit is the account's: pause every send
            await self._db(store.outbox_retry, item.id, at, outcome.reason)
            return
        # No answer (status None): counted as sent in the budget (the platform may have it).
        await self._observe(delivery.headers, delivery.status)
        if isinstance(outcome, Sent):
            await self._db(store.outbox_sent, item.id, outcome.platform_id, None,
                           self.sent_charges(item))
            logger.info("%s.outbox.sent id=%s recipient=%s platform_id=%s", self.channel,
                        item.id, self._person(item.recipient_id), outcome.platform_id)
            return
        if isinstance(outcome, RetryAfter):
            decided = retry_at(outcome, item.attempts, utcnow(), settings.send_retry_seconds,
                               OUTBOX_MAX_ATTEMPTS)
            if not isinstance(decided, GiveUp):
                await self._db(store.outbox_retry, item.id, decided, outcome.code)
                return
            outcome = decided
        await self._db(store.outbox_failed_permanent, item.id, outcome.reason_code,
                       outcome.french_reason)
