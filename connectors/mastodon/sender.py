"""``MastodonSender``: the generic sender (``channels/sender.py``) sending through the
runtime's :class:`MastodonAdapter`, with one ``Idempotency-Key`` per outbox reply: a reply
sent again (its answer timed out, or its process died mid-send) gets the status Mastodon
already created, never a second one (Mastodon keeps a key an hour). Until the runtime knows the
account (the adapter is connected), a reply waits (``RetryAfter``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from channels.outcomes import Delivery, RetryAfter
from channels.sender import ChannelSender
from channels.store import OutboxItem, Store
from permanence import conversations

NOT_READY_SECONDS = 5.0


def idempotency_key(item: OutboxItem) -> str:
    """One key per outbox reply, the same on every attempt: a digest of its id, recipient,
    place in the person's order and creation time (to the microsecond). The id alone is not
    enough: a deleted row's id is reused (an erasure's confirmation is deleted once sent)."""
    created = item.created_at.isoformat() if item.created_at else ""
    raw = f"{item.id}|{item.recipient_id}|{item.seq}|{created}"
    return "permanence-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


class MastodonSender(ChannelSender):
    channel = conversations.MASTODON

    def __init__(self, settings: Any, store: Store, adapter: Callable[[], Any]) -> None:
        super().__init__(settings, store)
        self._adapter = adapter

    async def deliver(self, item: OutboxItem) -> Delivery:
        adapter = self._adapter()
        if adapter is None:
            return Delivery(RetryAfter(NOT_READY_SECONDS, "not_ready"), {}, None)
        return await adapter.send(item.recipient_id, item.text,
                                  idempotency_key=idempotency_key(item))
