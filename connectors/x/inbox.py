"""What of a webhook batch goes into the inbox, and under which id (one place for both the
Rasa process and a separate ingress process)."""

from __future__ import annotations

from connectors.x.config import XSettings
from connectors.x.payloads import Inbound, InboundDM, InboundTweet, is_for_us
from permanence.x_store import InboxEvent

# Where the Rasa process publishes the account it acts for, for a separate ingress process.
ACCOUNT_CURSOR = "x.account"


def dm_event_id(event_id: str) -> str:
    return f"dm:{event_id}"


def tweet_event_id(tweet_id: str) -> str:
    return f"tweet:{tweet_id}"


def inbox_rows(events: list[Inbound], settings: XSettings, account_id: str,
               account_username: str) -> list[InboxEvent]:
    """The DMs, and the tweets meant for us, of one batch (a tweet's text is never kept: the
    public answer never depends on it)."""
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
            }))
    return rows
