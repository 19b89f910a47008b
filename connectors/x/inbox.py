"""What of a webhook batch goes into the inbox, and under which id (one place for both the
Rasa process and a separate ingress process).

**Event age.** An event X dated more than ``max_event_age_seconds`` before now (default 24 h),
or more than ``max_event_skew_seconds`` after now (default 5 min), never goes into the inbox,
whichever way it came (``fresh_events``). The inbox's unique event ids drop X's redeliveries,
but retention prunes them (``Store.prune``); the window does not depend on them, so a
well-signed webhook body captured once cannot be played again once its row is gone. The
webhook still answers 200 for such a body (X must not retry it) and logs how many events it
left out. Polling applies the same window: its cursor already keeps it from reading an event
twice and its first-start backfill (``poll_backfill_seconds``, which may not exceed the window)
from reading old history, so the window only matters for a poller back after a long outage,
whose older messages are then left unanswered, as X's own webhook retries would have been.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from channels.store import InboxEvent, Store
from connectors.x.config import XSettings
from connectors.x.payloads import (
    EncryptedChat,
    Inbound,
    InboundDM,
    InboundTweet,
    event_time,
    is_for_us,
)
from permanence import x_costs
from permanence.logids import ref
from permanence.x_costs import Charge, CostMeter

logger = logging.getLogger(__name__)

# Where the Rasa process publishes the account it acts for, for a separate ingress process.
ACCOUNT_CURSOR = "x.account"


def dm_event_id(event_id: str) -> str:
    return f"dm:{event_id}"


def tweet_event_id(tweet_id: str) -> str:
    return f"tweet:{tweet_id}"


def chat_event_id(event_id: str) -> str:
    return f"chat:{event_id}"


def inbox_rows(events: list[Inbound], settings: XSettings, account_id: str,
               account_username: str) -> list[InboxEvent]:
    """The DMs, and the tweets meant for us, of one batch (a tweet's text is never kept: the
    public answer never depends on it; whether it quotes one of the account's posts is, since
    such a quote summons the account)."""
    rows = []
    for event in events:
        if isinstance(event, InboundDM):
            rows.append(InboxEvent(dm_event_id(event.event_id), "dm", event.sender_id, {
                "text": event.text,
                "screen_name": event.screen_name,
                "quick_reply_payload": event.quick_reply_payload,
            }))
        elif isinstance(event, InboundTweet) and is_for_us(
                event, account_id, account_username, settings.hashtags):
            rows.append(InboxEvent(tweet_event_id(event.tweet_id), "tweet", event.author_id, {
                "tweet_id": event.tweet_id,
                "username": event.username,
                "hashtags": list(event.hashtags),
                "mentions": list(event.mentions),
                "is_retweet": event.is_retweet,
                "quotes_account": bool(account_id) and event.quoted_author_id == account_id,
                "created_at": event.created_at.isoformat() if event.created_at else None,
            }))
    return rows


def delivered_charges(meter: CostMeter, events: Sequence[Inbound],
                      now: datetime) -> list[Charge]:
    """What X bills for the events of a webhook batch the server acknowledged: each person's
    DM a ``dm.received`` event, each post about the account a ``post.mention.create`` one,
    once per event per UTC day; stale events too (delivered all the same). ``events`` are the
    parsed events, the account's own echoes (not billed) already left out."""
    dms = [event.event_id for event in events if isinstance(event, InboundDM)]
    posts = [event.tweet_id for event in events if isinstance(event, InboundTweet)]
    return (meter.resources(x_costs.DM_RECEIVED, dms, now)
            + meter.resources(x_costs.POST_MENTION_RECEIVED, posts, now))


def age_refusal(created: datetime, now: datetime, max_age_seconds: float,
                max_skew_seconds: float) -> str | None:
    """Why an event created at ``created`` is not answered at ``now`` (``stale`` or
    ``future``), or None if it is within the window. Both datetimes are aware."""
    if created < now - timedelta(seconds=max_age_seconds):
        return "stale"
    if created > now + timedelta(seconds=max_skew_seconds):
        return "future"
    return None


def fresh_events(events: Sequence[Inbound], settings: XSettings,
                 now: datetime) -> tuple[list[Inbound], int]:
    """The events within the age window, in order, and how many were left out."""
    fresh = [event for event in events
             if age_refusal(event_time(event), now, settings.max_event_age_seconds,
                            settings.max_event_skew_seconds) is None]
    return fresh, len(events) - len(fresh)


def person_ref(x_user_id: str | None) -> str:
    """How an X user appears in logs: the keyed hash of the conversation id ``x:<id>``
    (``permanence.logids.ref``), never the id."""
    return ref(f"x:{x_user_id}") if x_user_id else ref(None)


def record_chats(store: Store, chats: Sequence[EncryptedChat], settings: XSettings,
                 now: datetime) -> int:
    """Count the encrypted X Chat messages (``chat.received``) of one delivery, each once,
    and say so in the log: their content cannot be read without X's Chat XDK and the
    account's keys, so nobody answers them. Nothing of them is kept but the event id and
    when it came (``x_chat_received``). How many are new."""
    fresh = [chat for chat in chats if chat.created_at_ms is None or age_refusal(
        datetime.fromtimestamp(chat.created_at_ms / 1000, timezone.utc), now,
        settings.max_event_age_seconds, settings.max_event_skew_seconds) is None]
    if not fresh:
        return 0
    added = store.chat_received_add([chat_event_id(chat.event_id) for chat in fresh], now)
    total = store.chat_received_count()
    for chat, new in zip(fresh, added, strict=True):
        if not new:
            logger.info("x.chat.duplicate event_id=%s", chat.event_id)
            continue
        logger.warning("x.chat.received event_id=%s unanswered_total=%d: an encrypted X Chat "
                       "message, unreadable without X's Chat XDK; not answered (ask people to "
                       "use legacy DMs or the web chat)", chat.event_id, total)
    return sum(added)
