"""What the X channel runs while the server is up: the store, the API client, the inbox
workers that feed Rasa, the sender that delivers the outbox (``connectors/x/sender.py``, on a
thread of its own, off Rasa's event loop), and in polling mode the poller.

Created by ``XInput`` in sanic's ``after_server_start`` and stopped in ``before_server_stop``;
every task is kept referenced and cancelled on stop. Database calls run in a small thread pool
(``run_db``), never on the event loop.

Flow: the webhook (or, in polling mode, the poller: ``connectors/x/polling.py``; in stream mode,
the stream reader: ``connectors/x/stream.py``) stores each DM and each tweet meant for us in
``x_inbox`` and wakes the workers; an encrypted X Chat message is only counted. A worker
claims the next item (in order per person), hands a DM to Rasa as a ``UserMessage`` whose
output channel (``XOutput``) collects the replies, then queues them in ``x_outbox`` in the
transaction that marks the item done. A tweet that summons the account (an @mention, a quote
of one of its posts) gets one neutral public invitation to DM per person and period; one that
only carries the hashtag gets none (X forbids it since 2026-02-23) and is listed on the desk
for the lawyer to answer by hand (``x_public_post``, ``permanence/public_posts.py``). The
sender drains the outbox, woken by the commit.

Costs: every billable call (``permanence/x_costs.py``: a DM sent, a DM or post delivered by the
webhook or the stream, a read, a post created) is recorded in ``x_cost`` at the configured
prices; the desk shows them per session and per month (``permanence/costs.py``).

Crashes (``kill -9``): each process renews a liveness lease (``x.alive.<worker>``); the items a
dead process was handling go back to the queue once its lease expires. A turn interrupted before
Rasa saved it runs again (none of its replies had been queued); a turn Rasa saved but whose
replies were not queued yet is not run again: its replies are read back from the saved
conversation (``connectors/x/replay.py``). A reply X accepted just before the crash, but not
recorded as sent, is looked up in the conversation on X before being sent again.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

import tweepy
from rasa.core.channels.channel import UserMessage

from channels.doorbell import Doorbell
from channels.replay import turn_messages
from channels.store import InboxEvent, InboxItem, Store, utcnow
from connectors.limits import is_too_long, too_long_text, typed_text
from connectors.x import render
from connectors.x.client import XApiClient
from connectors.x.config import XSettings
from connectors.x.inbox import ACCOUNT_CURSOR, delivered_charges, inbox_rows, record_chats
from connectors.x.ingress import WebhookIngress
from connectors.x.output import XOutput, options_cursor, person_ref
from connectors.x.payloads import (
    EncryptedChat,
    Inbound,
    InboundTweet,
    is_for_us,
    summons,
)
from connectors.x.polling import Poller
from connectors.x.sender import BUDGET, OutboxSender
from connectors.x.stream import StreamReader
from permanence import (
    budgets,
    continue_link,
    continue_store,
    conversations,
    costs,
    deliveries,
    erasure,
    public_posts,
    x_costs,
)
from permanence.logids import ref
from permanence.settings import x_database_url

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How often idle workers look at the store unwoken (an item written by another process, e.g. the
# separate ingress): the first worker at this pace, the others rarely; a worker that gets an
# item wakes the others, so a burst is spread in a chain. Sixteen workers polling at the first
# pace took the interpreter from inference (docs/benchmarks.md).
POLL_SECONDS = 0.25
IDLE_POLL_SECONDS = 5.0
STALE_SWEEP_SECONDS = 60.0
# A DM whose turn failed (the conversation could not be saved, a database locked past its busy
# timeout, the action server erroring) is tried again this many times in all, after a pause
# growing from TURN_RETRY_SECONDS; then the person is told to write again (never silence).
TURN_ATTEMPTS = int(os.environ.get("PERMANENCE_X_TURN_ATTEMPTS", "4"))
TURN_RETRY_SECONDS = float(os.environ.get("PERMANENCE_X_TURN_RETRY_SECONDS", "2"))
TURN_FAILED_TEXT = ("Un incident technique a empêché d'enregistrer votre dernier message. "
                    "Merci de le renvoyer dans quelques minutes.")
STOP_GRACE_SECONDS = 10.0
INVITATION_VARIANT_CURSOR = "x.invitation.variant"
ALIVE_LEASE_PREFIX = "x.alive."


class XRuntime:
    """Store, client and background tasks of one server process."""

    def __init__(self, settings: XSettings,
                 on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        self.settings = settings
        self.on_new_message = on_new_message
        self.account_id = settings.account_id
        self.account_username = settings.account_username
        self.worker_name = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.store: Store | None = None
        self.client: XApiClient | None = None
        self.meter = settings.cost_meter()
        self._posts = public_posts.Source(self._open_posts, self._post_done)
        self._executor: ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task] = set()
        self._workers: set[asyncio.Task] = set()
        self._inbox_wake: Doorbell | None = None
        self.sender: OutboxSender | None = None
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.ingress: WebhookIngress | None = None
        self.poller: Poller | None = None
        self.streamer: StreamReader | None = None
        self._app: Any = None
        # The link to continue on the web chat (off unless configured; a half configuration
        # fails here, when the server is built).
        self.continue_settings = continue_link.from_env()

    # ------------------------------------------------------------ lifecycle

    @property
    def ready(self) -> bool:
        """True once the store is open and the account is known (webhooks can be accepted)."""
        return self.store is not None and bool(self.account_id and self.account_username)

    async def start(self, app: Any = None) -> None:
        """Open the store and start the tasks. ``app``: the sanic app, whose ``ctx.agent``
        holds the saved conversations (read back after a crash)."""
        settings = self.settings
        self._app = app
        self._executor = ThreadPoolExecutor(max_workers=settings.workers + 2,
                                            thread_name_prefix="x-store")
        self._inbox_wake = Doorbell()
        self.store = await self.run_db(Store.create, x_database_url())
        # Erasure and retention reach the X store (permanence/erasure.py).
        erasure.register(erasure.X_STORE, self.store.erase_conversation, prune=self.store.prune)
        self.client = settings.api_client()
        self._loop = asyncio.get_running_loop()
        await self._release_stale()
        self._spawn(self._liveness_loop(), self._tasks)
        self._spawn(self._account_then_workers(), self._tasks)
        # Off Rasa's loop; the store keeps each person's replies in order.
        links = self.continue_settings
        links_store = await self.run_db(continue_store.shared) if links else None
        self.sender = OutboxSender(settings, self.store, lambda: self.account_id, self.meter,
                                   links, links_store)
        await self.run_db(self.sender.start)
        # The desk shows the DM budget and what waits for it (permanence/budgets.py), what X
        # costs (permanence/costs.py) and the posts to answer by hand (public_posts.py).
        budgets.register(budgets.X, self._budget_report)
        costs.register(costs.X, self.store.cost_totals)
        public_posts.register(public_posts.X, self._posts)
        # What became of the lawyer's replies queued here (permanence/deliveries.py).
        deliveries.lookups.register(deliveries.X, self.store.outbox_deliveries)
        if settings.ingress_port:
            self.ingress = WebhookIngress(self)
            await self.run_db(self.ingress.start)
        logger.info("x.started worker=%s mode=%s", self.worker_name, settings.mode)

    async def stop(self) -> None:
        self._stopping = True
        if self.poller is not None:
            await self.poller.stop()
        if self.streamer is not None:
            await self.streamer.stop()
        if self.ingress is not None:
            await self.run_db(self.ingress.stop)
            self.ingress = None
        if self._inbox_wake is not None:
            self._inbox_wake.ring_all()
        if self._workers:  # let a turn in progress end, so its item is not left processing
            await asyncio.wait(set(self._workers), timeout=STOP_GRACE_SECONDS)
        tasks = self._tasks | self._workers
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._workers.clear()
        budgets.unregister(budgets.X, self._budget_report)
        if self.store is not None:
            costs.unregister(costs.X, self.store.cost_totals)
            deliveries.lookups.unregister(deliveries.X, self.store.outbox_deliveries)
        public_posts.unregister(public_posts.X, self._posts)
        if self.sender is not None:
            await self.run_db(self.sender.stop)
            self.sender = None
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        if self.store is not None:
            try:
                await self.run_db(self.store.lease_release, self._alive_lease, self.worker_name)
            except Exception:  # noqa: BLE001 - it expires anyway
                logger.exception("x.liveness.release_error")
            await self.run_db(self.store.close)
            self.store = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
        logger.info("x.stopped worker=%s", self.worker_name)

    def _budget_report(self) -> dict[str, Any]:
        """The account's DM budget and the replies waiting for it (synchronous)."""
        store = self.store
        if store is None:
            raise RuntimeError("the x channel is not running (no store)")
        return store.budget_status(BUDGET, None,
                                   self.settings.budget_margin_seconds)

    def _open_posts(self) -> list[dict[str, Any]]:
        """The public posts to answer by hand, for the desk (synchronous): handle and link,
        never a text."""
        store = self.store
        if store is None:
            raise RuntimeError("the x channel is not running (no store)")
        return [{"id": post["id"], "handle": post["username"],
                 "link": render.post_link(post["tweet_id"], post["username"]),
                 "posted_at": post["posted_at"], "received_at": post["received_at"]}
                for post in store.public_posts_open()]

    def _post_done(self, post_id: int) -> bool:
        store = self.store
        if store is None:
            raise RuntimeError("the x channel is not running (no store)")
        return store.public_post_done(post_id)

    async def charge(self, charges: list[x_costs.Charge]) -> None:
        """Record what X bills for a call; a failure is logged, never the call's failure."""
        if not charges:
            return
        try:
            await self.run_db(self.store.costs_add, charges)
        except Exception:  # noqa: BLE001 - the call happened; its cost is only missing
            logger.exception("x.costs.record_failed kind=%s", charges[0].kind)

    def _spawn(self, coroutine: Awaitable[Any], group: set[asyncio.Task]) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        group.add(task)
        task.add_done_callback(group.discard)
        task.add_done_callback(_log_crash)
        return task

    async def run_db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call in the channel's thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor,
                                          functools.partial(function, *args, **kwargs))

    def wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    def wake_workers(self) -> None:
        if self._inbox_wake is not None:
            self._inbox_wake.ring()

    @property
    def _alive_lease(self) -> str:
        return ALIVE_LEASE_PREFIX + self.worker_name

    async def _liveness_loop(self) -> None:
        """Renew this process's liveness, and release the items of processes that lost theirs."""
        ttl = self.settings.liveness_seconds
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await self._renew_liveness()
                if await self.run_db(self.store.inbox_release_orphans, ALIVE_LEASE_PREFIX):
                    self.wake_workers()
            except Exception:  # noqa: BLE001 - e.g. the database is briefly unavailable
                logger.exception("x.liveness.error")

    async def _renew_liveness(self) -> None:
        await self.run_db(self.store.lease_acquire, self._alive_lease, self.worker_name,
                          self.settings.liveness_seconds)

    async def _account_then_workers(self) -> None:
        delay = 1.0
        while not (self.account_id and self.account_username):
            try:
                response = await self.client.get_me(user_auth=True)
                self.account_id = str(response.data.id)
                self.account_username = str(response.data.username)
                logger.info("x.account account_id=%s", self.account_id)
                await self.charge(self.meter.resources(x_costs.USER_READ, [self.account_id],
                                                       utcnow()))
            except Exception as exc:  # noqa: BLE001 - keep trying: X or the network may be down
                logger.warning("x.account.unavailable error=%s retry_in=%.0fs",
                               type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
        # For a separate ingress process (python -m connectors.x.ingress).
        await self.run_db(self.store.cursor_set, ACCOUNT_CURSOR, json.dumps(
            {"id": self.account_id, "username": self.account_username}))
        for index in range(self.settings.workers):
            self._spawn(self._worker_loop(index), self._workers)
        if self.settings.mode == "polling" and not self._stopping:
            self.poller = Poller(self)
            self._spawn(self.poller.run(), self._tasks)
        if self.settings.mode == "stream" and not self._stopping:
            self.streamer = StreamReader(self)
            self._spawn(self.streamer.run(), self._tasks)

    # ---------------------------------------------------------------- inbox

    def _rows(self, events: list[Inbound]) -> list[InboxEvent]:
        return inbox_rows(events, self.settings, self.account_id or "",
                          self.account_username or "")

    @staticmethod
    def _log_added(rows: list[InboxEvent], added: list[bool]) -> None:
        for row, new in zip(rows, added, strict=True):
            logger.info("x.inbox.%s event_id=%s person=%s",
                        "added" if new else "duplicate", row.event_id, person_ref(row.sender_id))

    async def accept(self, events: list[Inbound], *, delivered: list[Inbound] | None = None,
                     chats: Sequence[EncryptedChat] = (),
                     cursor: tuple[str, str] | None = None) -> int:
        """Store the DMs and the tweets meant for us of one webhook batch (or stream line),
        with what X bills for ``delivered`` (every event X delivered, the stale ones too;
        default ``events``), and count its encrypted chats; how many events are new.
        ``cursor`` is written in the same transaction as the events and their costs (the
        stream's resume point)."""
        if chats:
            await self.run_db(record_chats, self.store, chats, self.settings, utcnow())
        rows = self._rows(events)
        charges = delivered_charges(self.meter, events if delivered is None else delivered,
                                    utcnow())
        if not rows and not charges and cursor is None:
            return 0
        added = await self.run_db(self.store.inbox_add_many, rows, cursor=cursor,
                                  costs=charges)
        self._log_added(rows, added)
        if any(added):
            self.wake_workers()
        return sum(added)

    def accept_from_thread(self, events: list[Inbound], *,
                           delivered: list[Inbound] | None = None,
                           chats: Sequence[EncryptedChat] = ()) -> int:
        """``accept`` for the ingress thread: a blocking store call, then wake the workers on
        Rasa's loop."""
        if chats:
            record_chats(self.store, chats, self.settings, utcnow())
        rows = self._rows(events)
        charges = delivered_charges(self.meter, events if delivered is None else delivered,
                                    utcnow())
        if not rows and not charges:
            return 0
        added = self.store.inbox_add_many(rows, costs=charges)
        self._log_added(rows, added)
        if any(added) and self._inbox_wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._inbox_wake.ring)
        return sum(added)

    def _for_us(self, tweet: InboundTweet) -> bool:
        return is_for_us(tweet, self.account_id or "", self.account_username or "",
                         self.settings.hashtags)

    async def _release_stale(self) -> None:
        # Ours first: after a long stall of this loop, our own lease may have run out.
        await self._renew_liveness()
        older_than = utcnow() - timedelta(seconds=self.settings.stale_after_seconds)
        released = await self.run_db(self.store.inbox_release_stale, older_than)
        released += await self.run_db(self.store.inbox_release_orphans, ALIVE_LEASE_PREFIX)
        if released:
            logger.warning("x.inbox.released_stale count=%d", released)

    async def _worker_loop(self, index: int) -> None:
        swept = asyncio.get_running_loop().time()
        while not self._stopping:
            if index == 0 and asyncio.get_running_loop().time() - swept > STALE_SWEEP_SECONDS:
                swept = asyncio.get_running_loop().time()
                await self._release_stale()
            try:
                item = await self.run_db(self.store.inbox_claim_next, self.worker_name)
            except Exception:  # noqa: BLE001 - e.g. the database is briefly unavailable
                logger.exception("x.inbox.claim_error")
                await asyncio.sleep(POLL_SECONDS)
                continue
            if item is None:
                await self._inbox_wake.wait(POLL_SECONDS if index == 0 else IDLE_POLL_SECONDS)
                continue
            self._inbox_wake.ring()  # there may be more: an idle worker looks
            await self._handle(item)

    async def _handle(self, item: InboxItem) -> None:
        try:
            if item.kind == "dm":
                if await self._handle_dm(item):
                    logger.info("x.inbox.done id=%s event_id=%s", item.id, item.event_id)
                else:
                    logger.warning("x.inbox.taken_over id=%s event_id=%s",
                                   item.id, item.event_id)
                return
            await self._handle_tweet(item)
        except asyncio.CancelledError:
            raise  # left processing; released once this process's liveness lease expires
        except Exception as exc:  # noqa: BLE001 - the boundary: one bad item must not stop us
            logger.exception("x.inbox.error id=%s event_id=%s", item.id, item.event_id)
            if item.kind == "dm":
                await self._turn_failed(item, type(exc).__name__)
            else:
                await self._finish(item, error=type(exc).__name__)
            return
        await self._finish(item)
        logger.info("x.inbox.done id=%s event_id=%s", item.id, item.event_id)

    async def _turn_failed(self, item: InboxItem, error: str) -> None:
        """A DM whose turn failed: back to the queue (in its place) after a pause, or, after
        ``TURN_ATTEMPTS`` attempts, done with a message asking the person to write again.
        Nothing was sent for the failed turn: its replies are only queued on commit. If the
        database refuses even this, the item stays ``processing`` and is released later."""
        try:
            if item.attempts < TURN_ATTEMPTS:
                await asyncio.sleep(min(TURN_RETRY_SECONDS * 2 ** (item.attempts - 1), 60.0))
                await self.run_db(self.store.inbox_retry, item.id, self.worker_name, error)
                self._inbox_wake.ring()
                return
            logger.error("x.inbox.given_up id=%s event_id=%s attempts=%d error=%s",
                         item.id, item.event_id, item.attempts, error)
            output = XOutput(self, turn=True)
            await output.add_reply(conversations.make(conversations.X, item.sender_id),
                                   TURN_FAILED_TEXT)
            await output.commit(item.id)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            logger.exception("x.inbox.finish_error id=%s", item.id)

    async def _finish(self, item: InboxItem, error: str | None = None) -> None:
        """Record the outcome; if the database refuses, the item stays ``processing`` and is
        released as stale later (at worst handled twice, never lost)."""
        try:
            if error is None:
                await self.run_db(self.store.inbox_done, item.id)
            else:
                await self.run_db(self.store.inbox_failed, item.id, error)
        except Exception:  # noqa: BLE001
            logger.exception("x.inbox.finish_error id=%s", item.id)

    async def message_text(self, x_user_id: str, text: str,
                           quick_reply_payload: str | None) -> str:
        """What Rasa gets for a DM: the payload of the option chosen (quick reply, number or
        title of the options last shown to this person on X), else the text as typed. Options
        shown on X before the person went on writing elsewhere (the web chat, by the link to
        continue there) are no longer the question: « 1 » is then just « 1 ». A typed text
        cannot be an intent: leading '/' are removed."""
        raw = await self.run_db(self.store.cursor_get, options_cursor(x_user_id))
        try:
            options = json.loads(raw) if raw else []
        except ValueError:
            options = []
        if not isinstance(options, list) or not options:
            return typed_text(text)
        # Only when options were shown: read where the person last wrote (one tracker read).
        if not await self._last_wrote_on_x(conversations.make(conversations.X, x_user_id)):
            return typed_text(text)
        payloads = {option.get("payload") for option in options if isinstance(option, dict)}
        if quick_reply_payload and quick_reply_payload in payloads:
            return quick_reply_payload
        chosen = render.map_reply(text, options)
        if chosen is not None:
            return chosen
        return typed_text(text)

    async def _handle_dm(self, item: InboxItem) -> bool:
        """Run the turn of a DM and commit it (item done, replies queued); False if another
        worker took the item over meanwhile. An item claimed again after a crash whose turn
        Rasa had already saved is not run again: its replies are read back."""
        payload = item.payload or {}
        output = XOutput(self, turn=True)
        message_id = item.event_id.removeprefix("dm:")
        # The X store keeps X user ids; Rasa and the desk know the conversation as x:<id>.
        conversation_id = conversations.make(conversations.X, item.sender_id)
        saved = (await self._saved_turn(conversation_id, message_id) if item.attempts > 1
                 else None)
        if saved is not None:
            logger.warning("x.dm.replayed event_id=%s person=%s messages=%d",
                           item.event_id, ref(conversation_id), len(saved))
            for bot_message in saved:
                await output.send_response(conversation_id, bot_message)
            return await output.commit(item.id)
        text = payload.get("text") or ""
        if is_too_long(text):  # over X's own DM limit: refused as on the web chat
            logger.info("x.dm.too_long event_id=%s length=%d", item.event_id, len(text))
            # Not a turn of Rasa's: the options last shown stay valid.
            await output.add_reply(conversation_id, too_long_text(text))
            return await output.commit(item.id)
        message_text = await self.message_text(item.sender_id, text,
                                               payload.get("quick_reply_payload"))
        if not message_text.strip():
            logger.info("x.dm.empty event_id=%s", item.event_id)
            return await output.commit(item.id)
        message = UserMessage(
            message_text,
            output,
            sender_id=conversation_id,
            input_channel="x",
            message_id=message_id,
            metadata={"screen_name": payload.get("screen_name")},
        )
        logger.info("x.dm.to_rasa event_id=%s person=%s", item.event_id, ref(conversation_id))
        await self.on_new_message(message)
        return await output.commit(item.id)

    async def _last_wrote_on_x(self, conversation_id: str) -> bool:
        """Whether the person's latest message in the saved conversation came by X (or none is
        saved): the options last shown on X still answer it. A failed read is logged, and the
        options are then taken as current (as before the web chat could take over)."""
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return True
        try:
            tracker = await tracker_store.retrieve(conversation_id)
        except Exception:  # noqa: BLE001 - the options are then read as before
            logger.exception("x.options.tracker_failed person=%s", ref(conversation_id))
            return True
        for event in reversed(list(tracker.events) if tracker is not None else []):
            if getattr(event, "type_name", None) == "user":
                return getattr(event, "input_channel", None) in (None, "x")
        return True

    async def urgency_slot(self, conversation_id: str) -> str | None:
        """The conversation's urgency slot as Rasa saved it (the triage sets a provisional tier
        from the first facts, the handover the final one); None if unknown. A failed read is
        logged and means no urgency, never a lost reply."""
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return None
        try:
            tracker = await tracker_store.retrieve(conversation_id)
        except Exception:  # noqa: BLE001 - a priority is never worth losing a reply
            logger.exception("x.priority.slot_failed person=%s", ref(conversation_id))
            return None
        return None if tracker is None else tracker.get_slot("urgence")

    async def _saved_turn(self, conversation_id: str, message_id: str) -> list[dict] | None:
        """The assistant's messages in answer to ``message_id`` if Rasa saved that turn of
        ``conversation_id`` (``x:<X user id>``)."""
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return None
        tracker = await tracker_store.retrieve_full_tracker(conversation_id)
        return None if tracker is None else turn_messages(tracker.events, message_id)

    async def _handle_tweet(self, item: InboxItem) -> None:
        payload = item.payload or {}
        tweet = InboundTweet(
            tweet_id=str(payload["tweet_id"]), author_id=item.sender_id,
            username=payload.get("username"), text="",
            hashtags=tuple(payload.get("hashtags") or ()),
            mentions=tuple(payload.get("mentions") or ()),
            in_reply_to_status_id=None, is_retweet=bool(payload.get("is_retweet")),
            created_at=None,
            quoted_author_id=self.account_id if payload.get("quotes_account") else None)
        if not self._for_us(tweet):
            return
        if not summons(tweet, self.account_id or "", self.account_username or ""):
            # Only the hashtag: X allows no automated reply; the lawyer answers by hand.
            await self._to_desk(item, tweet)
            return
        period = timedelta(hours=self.settings.invitation_period_hours)
        if not await self.run_db(self.store.invitation_allowed, tweet.author_id, period=period):
            logger.info("x.tweet.invitation_skipped tweet_id=%s person=%s reason=period",
                        tweet.tweet_id, person_ref(tweet.author_id))
            return
        await self._post_invitation(tweet)

    async def _to_desk(self, item: InboxItem, tweet: InboundTweet) -> None:
        """List a hashtag-only post for the lawyer: its id, author (for erasure) and handle."""
        posted = (item.payload or {}).get("created_at")
        try:
            posted_at = datetime.fromisoformat(posted) if posted else None
        except ValueError:
            posted_at = None
        added = await self.run_db(self.store.public_post_add, tweet.tweet_id, tweet.author_id,
                                  tweet.username, posted_at)
        logger.info("x.tweet.to_desk tweet_id=%s person=%s new=%s", tweet.tweet_id,
                    person_ref(tweet.author_id), added)

    async def _post_invitation(self, tweet: InboundTweet) -> None:
        """One public reply; X refuses a text identical to an earlier tweet (403), so each
        invitation uses the next wording (a counter kept in the store). It carries the DM link
        only with ``invitation_dm_link`` (a post with a URL costs $0.20 instead of $0.01)."""
        raw = await self.run_db(self.store.cursor_get, INVITATION_VARIANT_CURSOR)
        variant = int(raw) if raw and raw.isdigit() else 0
        for attempt in range(len(render.INVITATION_TEMPLATES) + 1):
            text = render.invitation_text(self.account_username, self.account_id,
                                          variant=variant + attempt,
                                          dm_link=self.settings.invitation_dm_link)
            try:
                response = await self.client.create_tweet(
                    text=text, in_reply_to_tweet_id=tweet.tweet_id, user_auth=True)
            except tweepy.Forbidden:
                logger.warning("x.tweet.invitation_refused tweet_id=%s attempt=%d",
                               tweet.tweet_id, attempt)
                continue
            # A reply to a post that summoned the account (the only ones answered).
            await self.charge(self.meter.call(x_costs.post_kind(text, summoned_reply=True)))
            await self.run_db(self.store.cursor_set, INVITATION_VARIANT_CURSOR,
                              str(variant + attempt + 1))
            reply_id = (response.data or {}).get("id")
            logger.info("x.tweet.invited tweet_id=%s person=%s reply_id=%s",
                        tweet.tweet_id, person_ref(tweet.author_id), reply_id)
            return
        raise RuntimeError("x.tweet.invitation_failed")


def _log_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("x.task.crashed task=%s", task.get_coroutine().__qualname__,
                     exc_info=task.exception())
