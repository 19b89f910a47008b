"""The X adapter (``channels/adapter.py``'s contract): the platform side of the X channel.

It delegates to the modules that know X (``signatures``, ``payloads``, ``inbox``, ``render``,
``send``) and keeps nothing durable. The generic runtime uses it to send (``channels/sender.py``,
through ``connectors/x/sender.py``) and to render a turn (``render_messages``, through
``XOutput``); the webhook routes, the poller and the stream reader still call X's modules
directly (``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from channels.outcomes import Delivery
from channels.store import InboxEvent
from connectors.x import render
from connectors.x.client import XApiClient
from connectors.x.config import XSettings
from connectors.x.inbox import inbox_rows
from connectors.x.payloads import (
    InboundDM,
    InboundTweet,
    decode_body,
    dm_events_request,
    parse_dm_events_page,
    parse_webhook,
)
from connectors.x.send import send_dm
from connectors.x.signatures import SIGNATURE_HEADER, verify_webhook_signature
from permanence import conversations


def render_messages(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """A turn's messages as DMs: buttons as numbered options, images as links, each text cut
    to X's length and consecutive ones packed (``XOutput`` queues them so)."""
    parts: list[str] = []
    for message in messages:
        text = message.get("text") or ""
        if message.get("buttons"):
            text, _ = render.render_buttons(text, list(message["buttons"]))
        elif message.get("image"):
            text = render.render_image(message["image"], text or None)
        parts.extend(render.split_text(text))
    return render.pack(parts)


class XAdapter:
    """X as a :class:`channels.adapter.ChannelAdapter`, for one account."""

    name = conversations.X

    def __init__(self, settings: XSettings, client: XApiClient, account_id: str,
                 account_username: str = "") -> None:
        self.settings = settings
        self.client = client
        self.account_id = account_id
        self.account_username = account_username

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        return verify_webhook_signature(self.settings.consumer_secret, raw,
                                        headers.get(SIGNATURE_HEADER))

    def parse_webhook(self, raw: bytes) -> list[InboxEvent]:
        """The inbox rows of an authentic body (``MalformedPayload`` if it is not X's)."""
        events = parse_webhook(decode_body(raw), self.account_id)
        return inbox_rows(events, self.settings, self.account_id, self.account_username)

    async def poll(self, client: Any, cursor: str | None
                   ) -> tuple[list[InboxEvent], str | None]:
        """One page of the account's DM events from ``cursor`` (a pagination token): the DMs
        to the account and the next page's token."""
        request = dm_events_request(cursor)
        response = await (client or self.client).request(
            "GET", request.route, params=dict(request.params), user_auth=True)
        page = parse_dm_events_page(await response.json(content_type=None), self.account_id)
        rows = inbox_rows(list(page.inbound), self.settings, self.account_id,
                          self.account_username)
        return rows, page.next_token

    async def send(self, recipient_id: str, text: str) -> Delivery:
        return await send_dm(self.client, recipient_id, text)

    def render(self, messages: Sequence[Mapping[str, Any]]) -> list[str]:
        return render_messages(messages)

    def is_own_echo(self, event: Any) -> bool:
        if isinstance(event, InboundDM):
            return event.sender_id == self.account_id
        if isinstance(event, InboundTweet):
            return event.author_id == self.account_id
        return False
