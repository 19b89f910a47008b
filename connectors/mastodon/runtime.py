"""``MastodonRuntime``: the Mastodon channel's composition of the generic runtime
(``channels/runtime.py``: the store, the inbox workers feeding Rasa in order per person, the
liveness leases, the replay of a saved turn, the sender's thread). What Mastodon adds:

- the account: ``MastodonAdapter.connect`` (who the account is, the instance's limits and
  streaming server, the policy that lets strangers' private mentions through), retried while
  the instance or the network is down, before the workers start;
- the intake: the poller (``channels/poller.py``'s ``AdapterPoller``: the mentions and the
  watched hashtags after the stored cursor, every ``poll_seconds``, one process at a time) and,
  with ``MASTODON_INTAKE=stream`` (the default), the user stream read under a lease
  (``connectors/mastodon/intake.py``), with one poll after each reconnection;
- a direct status is a message (inbox kind ``dm``), a public post a ``tweet`` item (the
  store's two kinds) handled by ``connectors/mastodon/posts.py``;
- a message's text for Rasa: the payload of the option chosen by number or title, as on X;
- the sender (``connectors/mastodon/sender.py``: an ``Idempotency-Key`` per reply), replies
  threaded under the person's last status (remembered by the adapter from the inbox item);
- erasure: the store's rows of a ``mastodon:<account id>`` conversation.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from rasa.core.channels.channel import UserMessage

from channels.poller import AdapterPoller
from channels.runtime import ChannelRuntime
from channels.store import InboxItem, options_cursor
from connectors.mastodon import posts
from connectors.mastodon import render as rendering
from connectors.mastodon.adapter import MastodonAdapter
from connectors.mastodon.config import MastodonSettings
from connectors.mastodon.intake import StreamIntake
from connectors.mastodon.output import MastodonOutput
from connectors.mastodon.sender import MastodonSender
from connectors.x.render import map_reply
from permanence import conversations, erasure
from permanence.logids import ref

logger = logging.getLogger(__name__)

ERASURE_NAME = "mastodon_store"
POLL_LEASE = "mastodon.poll"
POLL_CURSOR = "mastodon.poll"
MAX_CONNECT_DELAY_SECONDS = 60.0


class MastodonRuntime(ChannelRuntime):
    """The Mastodon channel's store, adapter and background tasks in one server process."""

    channel = conversations.MASTODON
    message_kind = "dm"

    def __init__(self, settings: MastodonSettings,
                 on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        super().__init__(settings, on_new_message)
        self.settings: MastodonSettings = settings
        self.adapter: MastodonAdapter | None = None
        self.poller: AdapterPoller | None = None
        self.stream: StreamIntake | None = None

    @property
    def ready(self) -> bool:
        return self.store is not None and self.adapter is not None

    def render(self, messages: Sequence[Mapping[str, Any]]) -> list[str]:
        limit = self.adapter.max_characters if self.adapter else rendering.DEFAULT_MAX_CHARACTERS
        return rendering.render(messages, limit)

    # ------------------------------------------------------------ the runtime's hooks

    async def open(self) -> None:
        erasure.register(ERASURE_NAME, self.erase_conversation, prune=self.store.prune)

    def erase_conversation(self, conversation_id: str) -> int:
        """The store's rows of a Mastodon conversation (0 for another channel's)."""
        if conversations.channel_of(conversation_id) != conversations.MASTODON:
            return 0
        store = self.store
        if store is None:
            raise RuntimeError("the mastodon channel is not running (no store)")
        return store.erase_person(conversations.local_id(conversation_id, self.channel))

    def make_sender(self) -> MastodonSender:
        return MastodonSender(self.settings, self.store, lambda: self.adapter)

    async def prepare(self) -> None:
        delay = 1.0
        while self.adapter is None:
            try:
                self.adapter = await MastodonAdapter.connect(self.settings)
            except Exception as exc:  # noqa: BLE001 - keep trying: the instance may be down
                logger.warning("mastodon.account.unavailable error=%s retry_in=%.0fs",
                               type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_CONNECT_DELAY_SECONDS)
        logger.info("mastodon.account account=%s intake=%s max_characters=%d",
                    ref(f"mastodon:{self.adapter.account_id}"), self.settings.intake,
                    self.adapter.max_characters)

    def start_sources(self) -> None:
        settings = self.settings
        self.poller = AdapterPoller(self, self.adapter, lease_name=POLL_LEASE,
                                    cursor_name=POLL_CURSOR, interval=settings.poll_seconds,
                                    ttl_seconds=settings.lease_seconds)
        self.spawn(self.poller.run())
        if settings.intake == "stream":
            self.stream = StreamIntake(self, self.poller)
            self.spawn(self.stream.run())

    async def stop_sources(self) -> None:
        for source in (self.stream, self.poller):
            if source is not None:
                await source.stop()

    async def stopping(self) -> None:
        erasure.unregister(ERASURE_NAME)

    def output(self, *, turn: bool = False) -> MastodonOutput:
        return MastodonOutput(self, turn=turn)

    async def message_text(self, item: InboxItem, text: str) -> str:
        """The payload of the option chosen (its number or title, among the options last
        shown to this person here), else the text as typed. Also: the person's handle and
        last status, for the replies (threaded under it)."""
        payload = item.payload or {}
        if self.adapter is not None and payload.get("acct"):
            self.adapter.remember(item.sender_id, str(payload["acct"]),
                                  payload.get("status_id"))
        raw = await self.run_db(self.store.cursor_get, options_cursor(item.sender_id))
        try:
            options = json.loads(raw) if raw else []
        except ValueError:
            options = []
        if (isinstance(options, list) and options
                and await self.last_wrote_here(self.conversation_id(item.sender_id))):
            chosen = map_reply(text, options)
            if chosen is not None:
                return chosen
        return await super().message_text(item, text)

    async def handle_other(self, item: InboxItem) -> None:
        if item.kind == "tweet":
            await posts.handle(self, item)
        else:
            await super().handle_other(item)
