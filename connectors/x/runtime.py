"""``XRuntime``: the X channel's composition of the generic runtime (``channels/runtime.py``).

The generic runtime owns the store, the inbox workers feeding Rasa in order per person, the
liveness leases, the replay of a saved turn, the doorbell and the sender's thread
(``channels/sender.py``); this class adds what X needs:

- the API client and the account: ``users/me`` is read (retrying) before the workers start,
  and published in the store for a separate ingress process (``connectors/x/ingress.py``);
- the ways events come: the webhook (``connectors/x/channel.py``), an ingress thread
  (``ingress_port``), the poller (``mode: polling``, ``connectors/x/polling.py``) or the stream
  reader (``mode: stream``, ``connectors/x/stream.py``); each stores the DMs and the tweets
  meant for us with :meth:`accept`; an encrypted X Chat message is only counted;
- a DM's text for Rasa: the payload of the option chosen (quick reply, number or title of the
  options last shown on X: :meth:`message_text`);
- public posts (``connectors/x/posts.py``): one that summons the account gets one neutral
  public invitation to DM per person and period; one that only carries the hashtag is listed on
  the desk for the lawyer to answer by hand;
- the sender (``connectors/x/sender.py``: X's DM budget and pacing, the look-up of a DM sent
  before a crash, the link to continue on the web chat), the desk's DM budget and costs.

Costs: every billable call (``permanence/x_costs.py``: a DM sent, a DM or post delivered by the
webhook or the stream, a read, a post created) is recorded in ``x_cost`` at the configured
prices; the desk shows them per session and per month (``permanence/costs.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from rasa.core.channels.channel import UserMessage

from channels.runtime import ChannelRuntime
from channels.store import InboxEvent, InboxItem, utcnow
from connectors.x import render
from connectors.x.client import XApiClient
from connectors.x.config import XSettings
from connectors.x.inbox import (
    ACCOUNT_CURSOR,
    delivered_charges,
    inbox_rows,
    record_chats,
)
from connectors.x.ingress import WebhookIngress
from connectors.x.output import XOutput, options_cursor
from connectors.x.payloads import EncryptedChat, Inbound
from connectors.x.polling import Poller
from connectors.x.posts import PublicPosts
from connectors.x.sender import BUDGET, OutboxSender
from connectors.x.stream import StreamReader
from permanence import (
    budgets,
    continue_link,
    continue_store,
    conversations,
    costs,
    erasure,
    public_posts,
    x_costs,
)

logger = logging.getLogger(__name__)

ALIVE_LEASE_PREFIX = "x.alive."  # ChannelRuntime.alive_prefix for the channel x


class XRuntime(ChannelRuntime):
    """The X channel's store, client and background tasks in one server process."""

    channel = conversations.X
    message_kind = "dm"

    def __init__(self, settings: XSettings,
                 on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        super().__init__(settings, on_new_message)
        self.settings: XSettings = settings
        self.account_id = settings.account_id
        self.account_username = settings.account_username
        self.client: XApiClient | None = None
        self.meter = settings.cost_meter()
        self.posts = PublicPosts(self)
        self.ingress: WebhookIngress | None = None
        self.poller: Poller | None = None
        self.streamer: StreamReader | None = None
        # The link to continue on the web chat (off unless configured; a half configuration
        # fails here, when the server is built).
        self.continue_settings = continue_link.from_env()
        self._links_store: Any = None

    @property
    def ready(self) -> bool:
        """True once the store is open and the account is known (webhooks can be accepted)."""
        return self.store is not None and bool(self.account_id and self.account_username)

    # ------------------------------------------------------------ the runtime's hooks

    async def open(self) -> None:
        # Erasure and retention reach the X store (permanence/erasure.py).
        erasure.register(erasure.X_STORE, self.store.erase_conversation, prune=self.store.prune)
        self.client = self.settings.api_client()
        if self.continue_settings:
            self._links_store = await self.run_db(continue_store.shared)

    def make_sender(self) -> OutboxSender:
        return OutboxSender(self.settings, self.store, lambda: self.account_id, self.meter,
                            self.continue_settings, self._links_store)

    async def started(self) -> None:
        # The desk shows the DM budget and what waits for it (permanence/budgets.py), what X
        # costs (permanence/costs.py) and the posts to answer by hand (public_posts.py).
        budgets.register(budgets.X, self._budget_report)
        costs.register(costs.X, self.store.cost_totals)
        public_posts.register(public_posts.X, self.posts.source)
        if self.settings.ingress_port:
            self.ingress = WebhookIngress(self)
            await self.run_db(self.ingress.start)
        logger.info("x.mode worker=%s mode=%s", self.worker_name, self.settings.mode)

    async def prepare(self) -> None:
        """Learn the account (``users/me``, retrying while X or the network is down) and
        publish it for a separate ingress process."""
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

    def start_sources(self) -> None:
        if self.settings.mode == "polling":
            self.poller = Poller(self)
            self.spawn(self.poller.run())
        if self.settings.mode == "stream":
            self.streamer = StreamReader(self)
            self.spawn(self.streamer.run())

    async def stop_sources(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        if self.streamer is not None:
            await self.streamer.stop()
        if self.ingress is not None:
            await self.run_db(self.ingress.stop)
            self.ingress = None

    async def stopping(self) -> None:
        budgets.unregister(budgets.X, self._budget_report)
        if self.store is not None:
            costs.unregister(costs.X, self.store.cost_totals)
        public_posts.unregister(public_posts.X, self.posts.source)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    def output(self, *, turn: bool = False) -> XOutput:
        return XOutput(self, turn=turn)

    def message_metadata(self, item: InboxItem) -> dict[str, Any]:
        return {"screen_name": (item.payload or {}).get("screen_name")}

    async def message_text(self, item: InboxItem, text: str) -> str:
        """What Rasa gets for a DM: the payload of the option chosen (quick reply, number or
        title of the options last shown to this person on X), else the text as typed. Options
        shown on X before the person went on writing elsewhere (the web chat, by the link to
        continue there) are no longer the question: « 1 » is then just « 1 ». A typed text
        cannot be an intent: leading '/' are removed."""
        raw = await self.run_db(self.store.cursor_get, options_cursor(item.sender_id))
        try:
            options = json.loads(raw) if raw else []
        except ValueError:
            options = []
        if not isinstance(options, list) or not options:
            return await super().message_text(item, text)
        # Only when options were shown: read where the person last wrote (one tracker read).
        if not await self.last_wrote_here(self.conversation_id(item.sender_id)):
            return await super().message_text(item, text)
        payloads = {option.get("payload") for option in options if isinstance(option, dict)}
        quick_reply_payload = (item.payload or {}).get("quick_reply_payload")
        if quick_reply_payload and quick_reply_payload in payloads:
            return quick_reply_payload
        chosen = render.map_reply(text, options)
        if chosen is not None:
            return chosen
        return await super().message_text(item, text)

    async def handle_other(self, item: InboxItem) -> None:
        if item.kind == "tweet":
            await self.posts.handle(item)
        else:
            await super().handle_other(item)

    # ---------------------------------------------------------------- the desk

    def _budget_report(self) -> dict[str, Any]:
        """The account's DM budget and the replies waiting for it (synchronous)."""
        store = self.store
        if store is None:
            raise RuntimeError("the x channel is not running (no store)")
        return store.budget_status(BUDGET, None, self.settings.budget_margin_seconds)

    async def charge(self, charges: list[x_costs.Charge]) -> None:
        """Record what X bills for a call; a failure is logged, never the call's failure."""
        if not charges:
            return
        try:
            await self.run_db(self.store.costs_add, charges)
        except Exception:  # noqa: BLE001 - the call happened; its cost is only missing
            logger.exception("x.costs.record_failed kind=%s", charges[0].kind)

    # ---------------------------------------------------------------- inbox

    def _rows(self, events: list[Inbound]) -> list[InboxEvent]:
        return inbox_rows(events, self.settings, self.account_id or "",
                          self.account_username or "")

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
        charges = delivered_charges(self.meter, events if delivered is None else delivered,
                                    utcnow())
        return await self.accept_rows(self._rows(events), costs=charges, cursor=cursor)

    def accept_from_thread(self, events: list[Inbound], *,
                           delivered: list[Inbound] | None = None,
                           chats: Sequence[EncryptedChat] = ()) -> int:
        """``accept`` for the ingress thread: a blocking store call, then wake the workers on
        Rasa's loop."""
        if chats:
            record_chats(self.store, chats, self.settings, utcnow())
        charges = delivered_charges(self.meter, events if delivered is None else delivered,
                                    utcnow())
        return self.accept_rows_from_thread(self._rows(events), costs=charges)

