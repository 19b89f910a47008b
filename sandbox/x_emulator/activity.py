"""The X Activity API (XAA) of the emulator: subscriptions, event envelopes, the stream hub.

An event of the emulated X (a DM to the account, a post that @mentions it, an encrypted chat)
is *emitted* once per matching subscription (same ``event_type``, ``filter.user_id``): each
emission is one envelope with its own ``event_uuid`` and the subscription's ``tag``, shaped as
in X's ``x-api/activity/event-payloads.mdx``, and goes

- to every open stream (``GET /2/activity/stream``, ``routes_activity.py``), whatever the
  subscription's webhook (X: "in addition to the stream if it is open");
- to the subscription's webhook when it has one and it is valid, signed like X's other
  webhooks (``delivery.py``).

The hub keeps the emissions of the last ``activity_retention_seconds`` (X: 5 minutes, the
largest ``backfill_minutes``) for the backfill of a new connection. A control call can cut the
open streams and refuse new ones (``/_control/stream``), to test reconnection.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from .ids import iso_millis

logger = logging.getLogger(__name__)

# POST /2/activity/subscriptions: event_type enum of openapi.json.
EVENT_TYPES = frozenset({
    "profile.update.bio", "profile.update.profile_picture", "profile.update.banner_picture",
    "profile.update.screenname", "profile.update.geo", "profile.update.url",
    "profile.update.verified_badge", "profile.update.affiliate_badge", "profile.update.handle",
    "news.new", "follow.follow", "follow.unfollow", "spaces.start", "spaces.end",
    "broadcast.start", "broadcast.end", "broadcast.chat", "chat.received", "chat.sent",
    "chat.conversation.join", "chat.conversation_join", "chat.conversation.member_added",
    "chat.conversation.member_removed", "chat.conversation.admin_added",
    "chat.conversation.admin_removed", "chat.update.group_name", "chat.update.restrictions",
    "dm.sent", "dm.received", "dm.indicate_typing", "dm.read", "post.create", "post.delete",
    "post.mention.create", "post.reply.create", "post.quote.create", "post.repost.create",
    "like.create", "mute.mute", "mute.unmute", "block.block", "block.unblock"})
# x-api/activity/introduction.mdx, "Private events": only for a user who authorized the app.
PRIVATE_PREFIXES = ("chat.", "dm.", "like.", "mute.", "block.", "broadcast.chat",
                    "post.mention.", "post.reply.", "post.quote.", "post.repost.")
FILTER_KEYS = frozenset({"user_id", "direction", "keyword"})
# The subscriptions `--subscribe xaa` creates at start-up (what `make x-register` creates).
INTAKE_EVENT_TYPES = ("dm.received", "post.mention.create")


def is_private(event_type: str) -> bool:
    return event_type.startswith(PRIVATE_PREFIXES)


def canonical(event_type: str) -> str:
    """openapi.json: ``chat.conversation_join`` is a deprecated alias, answered canonically."""
    return "chat.conversation.join" if event_type == "chat.conversation_join" else event_type


@dataclass
class ActivitySubscription:
    id: str
    event_type: str
    user_id: str | None
    created_at: float
    updated_at: float
    tag: str | None = None
    webhook_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"created_at": iso_millis(self.created_at),
                               "event_type": self.event_type}
        out["filter"] = {"user_id": self.user_id} if self.user_id else {}
        out["subscription_id"] = self.id
        if self.tag is not None:
            out["tag"] = self.tag
        out["updated_at"] = iso_millis(self.updated_at)
        if self.webhook_id is not None:
            out["webhook_id"] = self.webhook_id
        return out


@dataclass(frozen=True)
class Emission:
    """One envelope of one event for one subscription: the exact bytes of a stream line
    (without its ``\\r\\n``) and of a webhook body."""

    at: float
    event_uuid: str
    event_type: str
    body: bytes
    subscription: ActivitySubscription
    billed_as: str | None  # usage.py price kind, charged once per resource_id and day
    resource_id: str


@dataclass(eq=False)
class StreamConnection:
    """An open ``GET /2/activity/stream``: emissions to write, ``None`` to cut it."""

    queue: asyncio.Queue = field(default_factory=asyncio.Queue)


class ActivityHub:
    """Subscriptions, recent emissions and open streams. Synchronous: the loop serializes it."""

    def __init__(self, clock: Any, ids: Any, retention_seconds: float) -> None:
        self.clock = clock
        self.ids = ids
        self.retention_seconds = retention_seconds
        self.subscriptions: dict[str, ActivitySubscription] = {}
        self.recent: collections.deque[Emission] = collections.deque()
        self.streams: set[StreamConnection] = set()
        self.refusing = False
        self.connections_total = 0

    # subscriptions

    def subscribe(self, event_type: str, user_id: str | None, tag: str | None = None,
                  webhook_id: str | None = None) -> ActivitySubscription:
        now = self.clock()
        subscription = ActivitySubscription(self.ids.next_id(), canonical(event_type), user_id,
                                            now, now, tag, webhook_id)
        self.subscriptions[subscription.id] = subscription
        return subscription

    def newest_first(self) -> list[ActivitySubscription]:
        return sorted(self.subscriptions.values(), key=lambda s: int(s.id), reverse=True)

    def forget_webhook(self, webhook_id: str) -> None:
        """A deleted webhook: its subscriptions deliver to the stream only."""
        for subscription in self.subscriptions.values():
            if subscription.webhook_id == webhook_id:
                subscription.webhook_id = None

    # emissions

    def emit(self, event_type: str, user_id: str, payload: dict[str, Any],
             includes: dict[str, Any] | None, billed_as: str | None,
             resource_id: str) -> list[Emission]:
        """One envelope per matching subscription, kept for backfill and queued to every open
        stream; the caller posts those whose subscription has a webhook."""
        self.prune()
        emissions = []
        for subscription in self.subscriptions.values():
            if subscription.event_type != event_type or subscription.user_id != user_id:
                continue
            data: dict[str, Any] = {"event_uuid": new_event_uuid(),
                                    "filter": {"user_id": user_id}, "event_type": event_type}
            if subscription.tag is not None:
                data["tag"] = subscription.tag
            data["payload"] = payload
            if includes:
                data["includes"] = includes
            body = encode({"data": data})
            emission = Emission(self.clock(), data["event_uuid"], event_type, body,
                                subscription, billed_as, resource_id)
            self.recent.append(emission)
            for stream in self.streams:
                stream.queue.put_nowait(emission)
            emissions.append(emission)
        log = logger.info if emissions else logger.debug
        log("x_sandbox.activity.emitted event_type=%s resource_id=%s emissions=%d streams=%d",
            event_type, resource_id, len(emissions), len(self.streams))
        return emissions

    def backlog(self, minutes: int) -> list[Emission]:
        """The emissions of the last ``minutes`` (within retention), oldest first."""
        self.prune()
        since = self.clock() - minutes * 60
        return [emission for emission in self.recent if emission.at >= since]

    def prune(self) -> None:
        horizon = self.clock() - self.retention_seconds
        while self.recent and self.recent[0].at < horizon:
            self.recent.popleft()

    # streams

    def connect(self) -> StreamConnection:
        connection = StreamConnection()
        self.streams.add(connection)
        self.connections_total += 1
        return connection

    def disconnect(self, connection: StreamConnection) -> None:
        self.streams.discard(connection)

    def drop_streams(self) -> int:
        """Cut every open stream (as a network failure would); how many were open."""
        for stream in self.streams:
            stream.queue.put_nowait(None)
        return len(self.streams)

    def reset(self, *, subscriptions: bool) -> None:
        self.recent.clear()
        if subscriptions:
            self.subscriptions.clear()

    def describe(self) -> dict[str, Any]:
        return {"subscriptions": [s.as_json() for s in self.newest_first()],
                "streams_open": len(self.streams), "streams_refused": self.refusing,
                "stream_connections_total": self.connections_total}


def new_event_uuid() -> str:
    """X's ``event_uuid`` samples are signed 64-bit decimals; positive ones here, so that the
    control API's ``redeliver`` (ids of digits) can name them."""
    return str(secrets.randbits(63) or 1)


def encode(body: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, one line (the exact bytes streamed and signed)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def opaque(size: int) -> str:
    """Random base64, standing in for X Chat's encoded (encrypted) fields."""
    return base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def chat_payload(sender_id: str, account_id: str, created_at: float) -> dict[str, Any]:
    """A ``chat.received`` payload shaped as X's sample (event-payloads.mdx, "Chat events"):
    conversation identity and encoded crypto material, no readable text."""
    return {
        "conversation_token": opaque(48),
        "id": str(uuid.uuid4()),
        "created_at_msec": str(int(created_at * 1000)),
        "sender_id": sender_id,
        "conversation_id": f"{sender_id}:{account_id}",
        "conversation_key_version": str(int(created_at * 1000) - 1),
        "encoded_event": opaque(96),
        "conversation_key_change_event": opaque(64),
        "message_event_signature": {
            "public_key_version": str(int(created_at * 1000) - 2),
            "signature": opaque(64).rstrip("="),
            "signature_version": "7",
            "signing_public_key": opaque(91),
        },
    }
