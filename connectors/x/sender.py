"""``OutboxSender``: delivers the X outbox from a thread of its own, with its own event loop.

Why a thread: Rasa's event loop is busy with inference during a live hour (a turn holds it for
tens of milliseconds at a time). A DM resumes several times on its way (reserved in the store,
sent to X, recorded); on Rasa's loop each resumption waited for the inference step in
progress, about 180 ms per DM at 50 people (docs/benchmarks.md). Here the senders only share
the interpreter, not the loop.

Each of ``count`` sender tasks takes the next due reply (``Store.outbox_next_due``, which keeps
each person's replies in order, across processes, and hands out the most urgent first: the
lawyer's replies, first answers (P0 first), then the others (P0 first), whoever waited
longest), sends it and records the outcome. Replies to people already answered are paced
(``budget_pace_burst``): they spend the window no faster than its average rate, so that a rush
of newcomers still finds DMs for their first answers.

The DM budget (X: 15 per 15 minutes, 1,440 per 24 hours, shared by the assistant and the
lawyer): every response's ``x-rate-limit-*`` and ``x-*-limit-24hour-*`` headers go into the
store's ``dm_send`` budget (``permanence/x_budget.py``), and a reply is only handed out with one
DM of that budget reserved, in the same transaction. When a window is spent, every sender of
every process waits for its reset (plus ``budget_margin_seconds``) instead of meeting a 429.

What X answers is mapped to a typed outcome by the X adapter's send (``connectors/x/send.py``:
tweepy's exceptions stay there); the sender applies it (``channels/outcomes.py``):

- ``PauseChannel`` (429: another client of the account spent the budget, or X counts
  differently): the budget is marked spent until the reset X reports (15-minute or 24-hour
  window): every send pauses;
- ``GiveUp`` (403: the person does not accept DMs; 400, 404): given up, kept for the desk;
- ``RetryAfter`` (5xx, 401, network): retried with backoff (``send_retry_seconds``,
  doubling), up to ``OUTBOX_MAX_ATTEMPTS``;
- a reply reserved before (its process died mid-send) is first looked up in the conversation
  on X, so a DM X accepted but that was never recorded is not sent twice.

The link to continue on the web chat (``permanence/continue_link.py``, when the firm turned it
on): before a DM goes, if the person's next answer would wait longer than the configured time
for the budget (the DMs queued ahead of it, the window's reset), and the conversation was never
offered the link, a token is issued and the DM's text, with the link line added, is stored
before it is sent (a retry sends and looks for the same text). A failure to offer is logged and
the DM goes without the link.

What X bills (``permanence/x_costs.py``): a DM accepted (201) is recorded with the reply marked
sent, in one transaction; the DM events a look-up read, once per event per UTC day.

Store calls run in the sender's own small thread pool; the loop never blocks on the database.
``wake`` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from channels.doorbell import Doorbell
from channels.outcomes import Delivery, GiveUp, PauseChannel, RetryAfter, Sent, retry_at
from channels.store import ERASED, OutboxItem, Store, utcnow
from connectors.x.client import REQUEST_TIMEOUT_SECONDS, XApiClient, status_of
from connectors.x.config import XSettings
from connectors.x.inbox import person_ref
from connectors.x.payloads import conversation_events_request, parse_dm_events_page
from connectors.x.polling import response_json
from connectors.x.render import DM_MAX_CHARS
from connectors.x.send import send_dm
from permanence import continue_link, conversations, x_costs
from permanence.continue_link import Settings as ContinueSettings
from permanence.continue_store import ContinueStore
from permanence.priority import LAWYER, NORMAL
from permanence.x_costs import CostMeter

BUDGET = "dm_send"  # the store's row of the account's DM-send budget

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Idle senders look at the store unwoken (a reply queued by another process): the first at
# this pace, the others rarely; a sender that gets a reply wakes the others.
POLL_SECONDS = 0.25
IDLE_POLL_SECONDS = 5.0
# A reply being sent is reserved this long: more than a request may take.
OUTBOX_HOLD_SECONDS = REQUEST_TIMEOUT_SECONDS + 5.0
OUTBOX_MAX_ATTEMPTS = 20
RATE_LIMIT_FALLBACK = timedelta(seconds=60)
CLOCK_SKEW = timedelta(seconds=2)
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


class OutboxSender:
    """The senders of one process, on thread ``x-sender``."""

    def __init__(self, settings: XSettings, store: Store,
                 account_id: Callable[[], str | None],
                 meter: CostMeter | None = None,
                 continue_settings: ContinueSettings | None = None,
                 continue_store: ContinueStore | None = None) -> None:
        self.settings = settings
        self.continue_settings = continue_settings
        self.continue_store = continue_store
        self.store = store
        self.meter = meter or settings.cost_meter()
        self._account_id = account_id
        self.client: XApiClient | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: Doorbell | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._paused_until: datetime | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the thread; return once its loop runs."""
        self._thread = threading.Thread(target=self._run, name="x-sender", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError("x sender did not start in time")

    def stop(self) -> None:
        """Stop the senders (a send in progress is cancelled: its reply stays reserved and is
        sent again after its hold, checked against X first) and join the thread."""
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
            logger.exception("x.sender.crashed")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        settings = self.settings
        self._loop = asyncio.get_running_loop()
        self._wake = Doorbell()
        self._stop = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=settings.senders + 1,
                                            thread_name_prefix="x-sender-db")
        self.client = settings.api_client()
        # A probe of an unknown budget left by a process killed mid-send holds nobody.
        await self._observe({}, None)
        tasks = [asyncio.ensure_future(self._loop_forever(index))
                 for index in range(settings.senders)]
        self._ready.set()
        logger.info("x.sender.started senders=%d", settings.senders)
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.client.aclose()
            self._executor.shutdown(wait=False)
            logger.info("x.sender.stopped")

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    # ---------------------------------------------------------------- sending

    async def _loop_forever(self, index: int) -> None:
        while True:
            paused = self._paused_until
            if paused is not None:
                delay = (paused - utcnow()).total_seconds()
                if delay > 0:
                    await asyncio.sleep(min(delay, POLL_SECONDS))
                    continue
                self._paused_until = None
            try:
                item = await self._db(self.store.outbox_next_due, None, OUTBOX_HOLD_SECONDS,
                                      BUDGET, self.settings.budget_margin_seconds,
                                      self.settings.budget_pace_burst)
                if item is None:
                    budget = await self._db(self.store.budget_get, BUDGET)
                    spent = budget.spent_until(utcnow(), self.settings.budget_margin_seconds)
                    if spent is not None:  # wait for the reset: never send into the window
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
                logger.exception("x.outbox.error")
                await self._observe({}, None)  # a probe in flight, if any, is over
                await asyncio.sleep(POLL_SECONDS)

    def _pause(self, until: datetime) -> None:
        if self._paused_until is None or until > self._paused_until:
            if self._paused_until is None:
                logger.info("x.outbox.budget_wait until=%s", until.isoformat())
            self._paused_until = until

    async def _observe(self, headers: Any, status: int | None) -> Any:
        """Fold a response's rate-limit headers into the shared budget (no response: the
        probe of an unknown budget, if this was one, is over), then let idle senders look."""
        try:
            return await self._db(self.store.budget_observe, BUDGET, headers or {}, None, status)
        except Exception:  # noqa: BLE001 - the reservation already counted this DM
            logger.exception("x.outbox.budget_observe_failed status=%s", status)
            return None
        finally:
            self._wake.ring()

    async def send(self, item: OutboxItem) -> None:
        """Send one reserved reply and record the outcome."""
        store = self.store
        if item.text is None:  # already sent by a process that died before recording it
            await self._observe({}, None)  # no DM sent: a probe (if this was one) is over
            await self._db(store.outbox_sent, item.id, None)
            return
        if item.attempts > 1:  # an earlier attempt may have reached X unrecorded
            sent_as = await self._sent_before(item)
            if sent_as is not None:
                await self._observe({}, None)
                await self._db(store.outbox_sent, item.id, sent_as)
                logger.warning("x.outbox.found_sent id=%s recipient=%s dm_event_id=%s",
                               item.id, person_ref(item.recipient_id), sent_as)
                return
        item = await self._with_continue_link(item)
        delivery = await send_dm(self.client, item.recipient_id, item.text)
        await self.apply(item, delivery)

    async def apply(self, item: OutboxItem, delivery: Delivery) -> None:
        """Record what became of one send (``channels/outcomes.py``): the budget learns the
        response's headers first, then the reply is marked sent, retried, or given up."""
        store, outcome = self.store, delivery.outcome
        if isinstance(outcome, PauseChannel):
            now = utcnow()
            budget = await self._observe(delivery.headers, delivery.status)
            at = budget.blocked_until(now, self.settings.budget_margin_seconds) if budget else None
            at = at or outcome.until or now + RATE_LIMIT_FALLBACK
            at = max(at, now + timedelta(seconds=1))
            logger.warning("x.outbox.rate_limited id=%s until=%s", item.id, at.isoformat())
            self._pause(at)  # the limit is the account's: pause every send
            await self._db(store.outbox_retry, item.id, at, outcome.reason)
            return
        # No answer (status None): counted as sent in the budget (X may have it).
        await self._observe(delivery.headers, delivery.status)
        if isinstance(outcome, Sent):
            await self._db(store.outbox_sent, item.id, outcome.platform_id, None,
                           self.meter.call(x_costs.DM_SENT))
            logger.info("x.outbox.sent id=%s recipient=%s dm_event_id=%s",
                        item.id, person_ref(item.recipient_id), outcome.platform_id)
            return
        if isinstance(outcome, RetryAfter):
            decided = retry_at(outcome, item.attempts, utcnow(),
                               self.settings.send_retry_seconds, OUTBOX_MAX_ATTEMPTS)
            if not isinstance(decided, GiveUp):
                await self._db(store.outbox_retry, item.id, decided, outcome.code)
                return
            outcome = decided
        await self._db(store.outbox_failed_permanent, item.id, outcome.reason_code,
                       outcome.french_reason)

    async def _with_continue_link(self, item: OutboxItem) -> OutboxItem:
        """``item`` with the link to continue on the web chat added to its text (stored), when
        the person's next answer would wait too long and the link was never offered."""
        settings, links = self.continue_settings, self.continue_store
        if (settings is None or links is None or item.text is None
                or item.conversation_key == ERASED):  # an erasure's confirmation: no trace
            return item
        try:
            conversation_id = conversations.make(conversations.X, item.recipient_id)
            if await self._db(links.offered, conversation_id):
                return item
            now = utcnow()
            budget = await self._db(self.store.budget_get, BUDGET)
            # The person's next answer is the assistant's: of this conversation's class.
            priority = NORMAL if item.priority == LAWYER else item.priority
            ahead = await self._db(self.store.outbox_ahead, item.id, priority)
            wait = continue_link.next_answer_wait(budget, ahead, now)
            if not continue_link.should_offer(wait, settings.after_seconds, offered=False):
                return item
            token = await self._db(links.issue, settings, conversation_id, now)
            if token is None:
                return item
            text = continue_link.with_link(item.text, settings.link(token.token))
            if len(text) > DM_MAX_CHARS or not await self._db(self.store.outbox_set_text,
                                                             item.id, text):
                # Not sent with the link (too long, or the reply was erased meanwhile): the
                # token goes (the conversation had no other: issue() gives one at most).
                await self._db(links.erase_conversation, conversation_id)
                return item
        except Exception:  # noqa: BLE001 - the DM goes without the link; logged
            logger.exception("x.outbox.continue_failed id=%s", item.id)
            return item
        logger.info("x.outbox.continue_offered id=%s recipient=%s wait_s=%s ahead=%d", item.id,
                    person_ref(item.recipient_id), wait, ahead)
        return dataclasses.replace(item, text=text)

    async def _sent_before(self, item: OutboxItem) -> str | None:
        """The X id of this reply if the conversation on X already has it (sent by an attempt
        whose process died before recording it), else None. Matched on the text, sent after
        the reply was queued, and not yet attributed to another reply."""
        request = conversation_events_request(item.recipient_id)
        try:
            response = await self.client.request("GET", request.route,
                                                  params=dict(request.params), user_auth=True)
            page = parse_dm_events_page(await response_json(response), self._account_id() or "")
            await self._db(self.store.costs_add, self.meter.resources(
                x_costs.DM_EVENT_READ, page.item_ids, utcnow()))
            known = await self._db(self.store.outbox_external_ids, item.recipient_id)
        except Exception as exc:  # noqa: BLE001 - cannot tell: send (at worst twice)
            logger.warning("x.outbox.lookup_failed id=%s error=%s", item.id, status_of(exc))
            return None
        since_ms = (item.created_at - CLOCK_SKEW).timestamp() * 1000 if item.created_at else 0
        for dm in reversed(page.sent):  # oldest first
            if (dm.recipient_id == item.recipient_id and dm.text == item.text
                    and dm.event_id not in known
                    and (dm.created_at_ms is None or dm.created_at_ms >= since_ms)):
                return dm.event_id
        return None
