"""``ChannelRuntime``: what a durable channel runs while the server is up, whatever the platform.

It owns what must not be lost or repeated; a channel's subclass (X: ``connectors/x/runtime.py``)
owns the platform, through the hooks below. Created by the channel's ``InputChannel`` in
sanic's ``after_server_start`` and stopped in ``before_server_stop``; every task is kept
referenced and cancelled on stop. Store calls run in a small thread pool (:meth:`run_db`),
never on the event loop.

**Flow.** Whatever brings events (a webhook, an ingress thread or process, a poller, a stream
reader) writes them to the store's inbox (:meth:`accept_rows`) and rings the doorbell. A worker
claims the next item (in order per person, ``Store.inbox_claim_next``); a message item
(``kind == message_kind``) goes to Rasa as a ``UserMessage`` whose output channel (a
:class:`channels.output.ChannelOutput`) collects the turn's replies, then queues them in the
outbox in the transaction that marks the item done (``Store.turn_commit``); any other kind goes
to :meth:`handle_other`. The sender (:class:`channels.sender.ChannelSender`, a thread of its
own) drains the outbox, woken by the commit.

**Crashes** (``kill -9``). Each process renews a liveness lease (``<channel>.alive.<worker>``);
the items a dead process was handling go back to the queue once its lease expires (and, every
``STALE_SWEEP_SECONDS``, those claimed longer than ``stale_after_seconds``). A turn interrupted
before Rasa saved it runs again (none of its replies had been queued); a turn Rasa saved but
whose replies were not queued is not run again: its replies are read back from the saved
conversation (``channels/replay.py``). A turn that fails is tried again ``TURN_ATTEMPTS`` times
in all, then the person is told to write again (never silence).

**Hooks** (a subclass overrides what its platform needs; the defaults suit a plain channel):
``channel`` (the store's channel and the conversations' namespace), ``open_store``, ``open``
(before the tasks: clients, registrations), ``started`` (after: the sender, the desk's
registries, an ingress), ``prepare`` (before the workers: e.g. learn the account),
``start_sources`` / ``stop_sources`` (a poller, a stream reader), ``stopping`` / ``close``,
``make_sender``, ``output`` (the turn's output channel), ``message_text`` and
``message_metadata`` (what Rasa gets), ``refusal`` (a message refused without a turn, e.g. too
long), ``handle_other`` (an item that is not a message).

``settings`` needs ``workers``, ``liveness_seconds`` and ``stale_after_seconds``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from rasa.core.channels.channel import UserMessage

from channels.doorbell import Doorbell
from channels.replay import turn_messages
from channels.store import InboxEvent, InboxItem, Store, utcnow
from permanence import conversations, deliveries
from permanence.limits import is_too_long, too_long_text, typed_text
from permanence.logids import ref
from permanence.settings import x_database_url

if TYPE_CHECKING:
    from channels.output import ChannelOutput
    from channels.sender import ChannelSender

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How often idle workers look at the store unwoken (an item written by another process, e.g. a
# separate ingress): the first worker at this pace, the others rarely; a worker that gets an
# item wakes another, so a burst is spread in a chain. Sixteen workers polling at the first
# pace took the interpreter from inference (docs/benchmarks.md).
POLL_SECONDS = 0.25
IDLE_POLL_SECONDS = 5.0
STALE_SWEEP_SECONDS = 60.0
# A message whose turn failed (the conversation could not be saved, a database locked past its
# busy timeout, the action server erroring) is tried again this many times in all, after a
# pause growing from TURN_RETRY_SECONDS; then the person is told to write again (never
# silence). The variables are named after X, the first channel; they apply to every channel.
TURN_ATTEMPTS = int(os.environ.get("PERMANENCE_X_TURN_ATTEMPTS", "4"))
TURN_RETRY_SECONDS = float(os.environ.get("PERMANENCE_X_TURN_RETRY_SECONDS", "2"))
TURN_FAILED_TEXT = ("Un incident technique a empêché d'enregistrer votre dernier message. "
                    "Merci de le renvoyer dans quelques minutes.")
STOP_GRACE_SECONDS = 10.0


class ChannelRuntime:
    """Store, workers, liveness and sender of one channel in one server process."""

    channel: str = ""  # the store's channel and the namespace of conversation ids
    message_kind: str = "dm"  # the inbox kind handed to Rasa; others go to handle_other

    def __init__(self, settings: Any,
                 on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        if self.channel not in conversations.CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        self.settings = settings
        self.on_new_message = on_new_message
        self.input_channel = conversations.INPUT_CHANNEL[self.channel]
        self.worker_name = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.store: Store | None = None
        self.sender: ChannelSender | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task] = set()
        self._workers: set[asyncio.Task] = set()
        self._inbox_wake: Doorbell | None = None
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app: Any = None

    # ------------------------------------------------------------------ hooks

    def open_store(self) -> Store:
        """The channel's store (synchronous, run in the pool): the channel store's database."""
        return Store.create(x_database_url(), channel=self.channel)

    async def open(self) -> None:
        """Once the store is open, before any task starts (clients, erasure registration)."""

    async def started(self) -> None:
        """Once the tasks run: the desk's registries, an ingress thread."""

    async def prepare(self) -> None:
        """Before the workers start (e.g. learn the account's id); may wait, retrying."""

    def start_sources(self) -> None:
        """After the workers started: the poller or stream reader (see :meth:`spawn`)."""

    async def stop_sources(self) -> None:
        """First thing on stop: the poller, stream reader, ingress (no new item comes)."""

    async def stopping(self) -> None:
        """Once the workers stopped, before the sender and the store (unregister)."""

    async def close(self) -> None:
        """After the sender stopped, before the store closes (clients)."""

    def make_sender(self) -> ChannelSender | None:
        """The outbox's sender, started on start (None: another process sends)."""
        return None

    def output(self, *, turn: bool = False) -> ChannelOutput:
        """The output channel of a turn (``turn=True``) or a push."""
        raise NotImplementedError

    async def message_text(self, item: InboxItem, text: str) -> str:
        """What Rasa gets for the text of a message item (e.g. the payload of an option
        chosen by number); default: the text as typed, never an intent (``typed_text``)."""
        return typed_text(text)

    def message_metadata(self, item: InboxItem) -> dict[str, Any]:
        return {}

    def refusal(self, text: str) -> str | None:
        """The reply to a message refused without a turn of Rasa's, or None; default: the
        limit of every channel (``permanence/limits.py``: over 10,000 characters)."""
        return too_long_text(text) if is_too_long(text) else None

    async def handle_other(self, item: InboxItem) -> None:
        """An inbox item that is not a message (X: a public post); default: an error."""
        raise ValueError(f"no handler for inbox kind {item.kind!r}")

    # -------------------------------------------------------------- lifecycle

    async def start(self, app: Any = None) -> None:
        """Open the store and start the tasks. ``app``: the sanic app, whose ``ctx.agent``
        holds the saved conversations (read back after a crash)."""
        self._app = app
        self._executor = ThreadPoolExecutor(max_workers=self.settings.workers + 2,
                                            thread_name_prefix=f"{self.channel}-store")
        self._inbox_wake = Doorbell()
        self.store = await self.run_db(self.open_store)
        await self.open()
        self._loop = asyncio.get_running_loop()
        await self._release_stale()
        self.spawn(self._liveness_loop())
        self.spawn(self._prepare_then_work())
        self.sender = self.make_sender()
        if self.sender is not None:  # off Rasa's loop; the store keeps each person's order
            await self.run_db(self.sender.start)
        # What became of the lawyer's replies queued here (permanence/deliveries.py).
        deliveries.lookups.register(self.channel, self.store.outbox_deliveries)
        await self.started()
        logger.info("%s.started worker=%s", self.channel, self.worker_name)

    async def stop(self) -> None:
        self._stopping = True
        await self.stop_sources()
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
        if self.store is not None:
            deliveries.lookups.unregister(self.channel, self.store.outbox_deliveries)
        await self.stopping()
        if self.sender is not None:
            await self.run_db(self.sender.stop)
            self.sender = None
        await self.close()
        if self.store is not None:
            try:
                await self.run_db(self.store.lease_release, self.alive_lease, self.worker_name)
            except Exception:  # noqa: BLE001 - it expires anyway
                logger.exception("%s.liveness.release_error", self.channel)
            await self.run_db(self.store.close)
            self.store = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
        logger.info("%s.stopped worker=%s", self.channel, self.worker_name)

    def spawn(self, coroutine: Awaitable[Any], workers: bool = False) -> asyncio.Task:
        """A task kept referenced until done, cancelled on stop, its crash logged."""
        group = self._workers if workers else self._tasks
        task = asyncio.ensure_future(coroutine)
        group.add(task)
        task.add_done_callback(group.discard)
        task.add_done_callback(functools.partial(_log_crash, self.channel))
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

    def wake_workers_threadsafe(self) -> None:
        """:meth:`wake_workers` from another thread (an ingress thread)."""
        if self._inbox_wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._inbox_wake.ring)

    async def _prepare_then_work(self) -> None:
        await self.prepare()
        for index in range(self.settings.workers):
            self.spawn(self._worker_loop(index), workers=True)
        if not self._stopping:
            self.start_sources()

    # ---------------------------------------------------------------- liveness

    @property
    def alive_prefix(self) -> str:
        return f"{self.channel}.alive."

    @property
    def alive_lease(self) -> str:
        return self.alive_prefix + self.worker_name

    async def _liveness_loop(self) -> None:
        """Renew this process's liveness, and release the items of processes that lost theirs."""
        ttl = self.settings.liveness_seconds
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await self._renew_liveness()
                if await self.run_db(self.store.inbox_release_orphans, self.alive_prefix):
                    self.wake_workers()
            except Exception:  # noqa: BLE001 - e.g. the database is briefly unavailable
                logger.exception("%s.liveness.error", self.channel)

    async def _renew_liveness(self) -> None:
        await self.run_db(self.store.lease_acquire, self.alive_lease, self.worker_name,
                          self.settings.liveness_seconds)

    async def _release_stale(self) -> None:
        # Ours first: after a long stall of this loop, our own lease may have run out.
        await self._renew_liveness()
        older_than = utcnow() - timedelta(seconds=self.settings.stale_after_seconds)
        released = await self.run_db(self.store.inbox_release_stale, older_than)
        released += await self.run_db(self.store.inbox_release_orphans, self.alive_prefix)
        if released:
            logger.warning("%s.inbox.released_stale count=%d", self.channel, released)

    # ------------------------------------------------------------------- inbox

    def _log_added(self, rows: Sequence[InboxEvent], added: Sequence[bool],
                   via: str | None = None) -> None:
        suffix = f" via={via}" if via else ""
        for row, new in zip(rows, added, strict=True):
            logger.info("%s.inbox.%s event_id=%s person=%s%s", self.channel,
                        "added" if new else "duplicate", row.event_id,
                        ref(f"{self.channel}:{row.sender_id}"), suffix)

    def conversation_id(self, local_id: str) -> str:
        """``<channel>:<local id>``, as Rasa and the desk know the person."""
        return conversations.make(self.channel, local_id)

    async def accept_rows(self, rows: list[InboxEvent], *, costs: Sequence[Any] = (),
                          cursor: tuple[str, str] | None = None) -> int:
        """Store inbox rows (with their costs and a cursor, in one transaction) and wake the
        workers; how many are new."""
        if not rows and not costs and cursor is None:
            return 0
        added = await self.run_db(self.store.inbox_add_many, rows, cursor=cursor,
                                  costs=list(costs))
        self._log_added(rows, added)
        if any(added):
            self.wake_workers()
        return sum(added)

    def accept_rows_from_thread(self, rows: list[InboxEvent], *,
                                costs: Sequence[Any] = ()) -> int:
        """:meth:`accept_rows` for an ingress thread: a blocking store call, then wake the
        workers on the runtime's loop."""
        if not rows and not costs:
            return 0
        added = self.store.inbox_add_many(rows, costs=list(costs))
        self._log_added(rows, added)
        if any(added):
            self.wake_workers_threadsafe()
        return sum(added)

    async def _worker_loop(self, index: int) -> None:
        swept = asyncio.get_running_loop().time()
        while not self._stopping:
            if index == 0 and asyncio.get_running_loop().time() - swept > STALE_SWEEP_SECONDS:
                swept = asyncio.get_running_loop().time()
                await self._release_stale()
            try:
                item = await self.run_db(self.store.inbox_claim_next, self.worker_name)
            except Exception:  # noqa: BLE001 - e.g. the database is briefly unavailable
                logger.exception("%s.inbox.claim_error", self.channel)
                await asyncio.sleep(POLL_SECONDS)
                continue
            if item is None:
                await self._inbox_wake.wait(POLL_SECONDS if index == 0 else IDLE_POLL_SECONDS)
                continue
            self._inbox_wake.ring()  # there may be more: an idle worker looks
            await self._handle(item)

    async def _handle(self, item: InboxItem) -> None:
        channel = self.channel
        try:
            if item.kind == self.message_kind:
                if await self._handle_message(item):
                    logger.info("%s.inbox.done id=%s event_id=%s", channel, item.id,
                                item.event_id)
                else:
                    logger.warning("%s.inbox.taken_over id=%s event_id=%s", channel,
                                   item.id, item.event_id)
                return
            await self.handle_other(item)
        except asyncio.CancelledError:
            raise  # left processing; released once this process's liveness lease expires
        except Exception as exc:  # noqa: BLE001 - the boundary: one bad item must not stop us
            logger.exception("%s.inbox.error id=%s event_id=%s", channel, item.id,
                             item.event_id)
            if item.kind == self.message_kind:
                await self._turn_failed(item, type(exc).__name__)
            else:
                await self._finish(item, error=type(exc).__name__)
            return
        await self._finish(item)
        logger.info("%s.inbox.done id=%s event_id=%s", channel, item.id, item.event_id)

    async def _turn_failed(self, item: InboxItem, error: str) -> None:
        """A message whose turn failed: back to the queue (in its place) after a pause, or,
        after ``TURN_ATTEMPTS`` attempts, done with a message asking the person to write
        again. Nothing was sent for the failed turn: its replies are only queued on commit.
        If the database refuses even this, the item stays ``processing``, released later."""
        try:
            if item.attempts < TURN_ATTEMPTS:
                await asyncio.sleep(min(TURN_RETRY_SECONDS * 2 ** (item.attempts - 1), 60.0))
                await self.run_db(self.store.inbox_retry, item.id, self.worker_name, error)
                self._inbox_wake.ring()
                return
            logger.error("%s.inbox.given_up id=%s event_id=%s attempts=%d error=%s",
                         self.channel, item.id, item.event_id, item.attempts, error)
            output = self.output(turn=True)
            await output.add_reply(self.conversation_id(item.sender_id), TURN_FAILED_TEXT)
            await output.commit(item.id)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            logger.exception("%s.inbox.finish_error id=%s", self.channel, item.id)

    async def _finish(self, item: InboxItem, error: str | None = None) -> None:
        """Record the outcome; if the database refuses, the item stays ``processing`` and is
        released as stale later (at worst handled twice, never lost)."""
        try:
            if error is None:
                await self.run_db(self.store.inbox_done, item.id)
            else:
                await self.run_db(self.store.inbox_failed, item.id, error)
        except Exception:  # noqa: BLE001
            logger.exception("%s.inbox.finish_error id=%s", self.channel, item.id)

    @staticmethod
    def message_id(item: InboxItem) -> str:
        """The platform's id of a message item (event ids are ``<kind>:<platform id>``)."""
        return item.event_id.removeprefix(f"{item.kind}:")

    async def _handle_message(self, item: InboxItem) -> bool:
        """Run the turn of a message and commit it (item done, replies queued); False if
        another worker took the item over meanwhile. An item claimed again after a crash
        whose turn Rasa had already saved is not run again: its replies are read back."""
        payload = item.payload or {}
        output = self.output(turn=True)
        message_id = self.message_id(item)
        conversation_id = self.conversation_id(item.sender_id)
        saved = (await self._saved_turn(conversation_id, message_id) if item.attempts > 1
                 else None)
        kind = f"{self.channel}.{item.kind}"
        if saved is not None:
            logger.warning("%s.replayed event_id=%s person=%s messages=%d", kind,
                           item.event_id, ref(conversation_id), len(saved))
            for bot_message in saved:
                await output.send_response(conversation_id, bot_message)
            return await output.commit(item.id)
        text = payload.get("text") or ""
        refused = self.refusal(text)
        if refused is not None:  # e.g. over the platform's own limit, as on the web chat
            logger.info("%s.too_long event_id=%s length=%d", kind, item.event_id, len(text))
            # Not a turn of Rasa's: the options last shown stay valid.
            await output.add_reply(conversation_id, refused)
            return await output.commit(item.id)
        message_text = await self.message_text(item, text)
        if not message_text.strip():
            logger.info("%s.empty event_id=%s", kind, item.event_id)
            return await output.commit(item.id)
        message = UserMessage(message_text, output, sender_id=conversation_id,
                              input_channel=self.input_channel, message_id=message_id,
                              metadata=self.message_metadata(item))
        logger.info("%s.to_rasa event_id=%s person=%s", kind, item.event_id,
                    ref(conversation_id))
        await self.on_new_message(message)
        return await output.commit(item.id)

    # --------------------------------------------------------- saved conversations

    @property
    def tracker_store(self) -> Any:
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        return getattr(agent, "tracker_store", None)

    async def last_wrote_here(self, conversation_id: str) -> bool:
        """Whether the person's latest message in the saved conversation came by this channel
        (or none is saved). A failed read is logged, and taken as yes."""
        tracker_store = self.tracker_store
        if tracker_store is None:
            return True
        try:
            tracker = await tracker_store.retrieve(conversation_id)
        except Exception:  # noqa: BLE001 - the channel's state is then read as before
            logger.exception("%s.options.tracker_failed person=%s", self.channel,
                             ref(conversation_id))
            return True
        for event in reversed(list(tracker.events) if tracker is not None else []):
            if getattr(event, "type_name", None) == "user":
                return getattr(event, "input_channel", None) in (None, self.input_channel)
        return True

    async def urgency_slot(self, conversation_id: str) -> str | None:
        """The conversation's urgency slot as Rasa saved it (the triage sets a provisional tier
        from the first facts, the handover the final one); None if unknown. A failed read is
        logged and means no urgency, never a lost reply."""
        tracker_store = self.tracker_store
        if tracker_store is None:
            return None
        try:
            tracker = await tracker_store.retrieve(conversation_id)
        except Exception:  # noqa: BLE001 - a priority is never worth losing a reply
            logger.exception("%s.priority.slot_failed person=%s", self.channel,
                             ref(conversation_id))
            return None
        return None if tracker is None else tracker.get_slot("urgence")

    async def _saved_turn(self, conversation_id: str, message_id: str) -> list[dict] | None:
        """The assistant's messages in answer to ``message_id`` if Rasa saved that turn."""
        tracker_store = self.tracker_store
        if tracker_store is None:
            return None
        tracker = await tracker_store.retrieve_full_tracker(conversation_id)
        return None if tracker is None else turn_messages(tracker.events, message_id)


def _log_crash(channel: str, task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s.task.crashed task=%s", channel, task.get_coroutine().__qualname__,
                     exc_info=task.exception())
