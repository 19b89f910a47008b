"""X's webhook and v2 API formats, parsed into small frozen dataclasses.

This is the only module that knows how X shapes its JSON, so that a format change (the
Account Activity API is being replaced by the X Activity API) touches one file. Formats read:

- Account Activity (AAA, v1.1 objects, also used by the v2 AAA webhooks): an object with
  ``for_user_id``, ``direct_message_events`` (``message_create`` events) with a ``users`` map,
  ``tweet_create_events`` (v1.1 tweets), and other keys that are ignored (``favorite_events``,
  ``follow_events``, ``direct_message_indicate_typing_events``, ...).
- X Activity API (XAA) envelope ``{"data": {"event_type", "filter", "payload", "includes"}}``:
  ``dm.received`` / ``dm.sent`` (their payload is the AAA DM payload, with ``users`` entries
  wrapped in ``data``) and ``post.mention.create`` (a v2 tweet); other event types are ignored
  by ``parse_webhook``. ``chat.received`` (an encrypted X Chat message, unreadable without X's
  Chat XDK) is read by ``encrypted_chats``: its id and time only, never its ciphertext.
- v2 ``GET /2/dm_events`` pages (``MessageCreate`` events) and v2 tweet pages (mentions,
  recent search) with ``includes.users``. Request the fields listed in ``DM_EVENT_FIELDS``,
  ``TWEET_FIELDS`` and the matching expansions: without them the pages cannot be parsed.
  Polling mode builds its requests here too (``dm_events_request``, ``mentions_request``,
  ``search_request``) and reads whole pages (``parse_dm_events_page``, ``parse_tweets_page``:
  the events, the ids bounding the page and the token of the next, older, page).
- Snowflake ids: X's ids grow with time (milliseconds since X's epoch, shifted by 22 bits),
  which polling uses to compare ids with times (``snowflake_at``, ``snowflake_time``).

Every parser returns every event of a batch, in order, minus the account's own DMs and
tweets (X echoes them). A body of the wrong shape raises ``MalformedPayload``, a ValueError
whose message names the offending path and JSON type, never the content (it is confidential).
Ids are checked to be decimal strings (or integers) because they end up in API URL paths.
Texts are returned as X sent them (no HTML unescaping).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

# Fields the v2 requests must ask for so that their answers can be parsed here.
DM_EVENT_FIELDS = ("id", "text", "event_type", "sender_id", "dm_conversation_id", "created_at")
DM_EVENT_EXPANSIONS = ("sender_id",)
TWEET_FIELDS = ("id", "text", "author_id", "created_at", "entities", "referenced_tweets",
                "note_tweet")
# referenced_tweets.id: the quoted post comes in includes.tweets, with its author (a quote of
# one of the account's posts summons it).
TWEET_EXPANSIONS = ("author_id", "referenced_tweets.id")
USER_FIELDS = ("username",)
# v2 lists read by polling mode: the largest page X serves, and how far back recent search goes.
MAX_PAGE_RESULTS = 100
SEARCH_RECENT_WINDOW = timedelta(days=7)
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657  # 2010-11-04T01:42:54.657Z
SNOWFLAKE_TIME_SHIFT = 22

XAA_DM_EVENTS = frozenset({"dm.received", "dm.sent"})
XAA_MENTION_EVENTS = frozenset({"post.mention.create"})
XAA_CHAT_RECEIVED = "chat.received"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MAX_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last datetime Python has
_MAX_ID = 2**64 - 1
_ID = re.compile(r"[0-9]{1,20}")
_MILLIS = re.compile(r"[0-9]{1,15}")
_ONE_TO_ONE = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")
_CHAT_ID = re.compile(r"-?[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_V1_DATE = re.compile(
    r"[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) "
    r"([+-])([0-9]{2})([0-9]{2}) ([0-9]{4})")
_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    start=1)}
# Entities found in the text when X did not send them (v2 without tweet.fields=entities).
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w&])[#\uff03](\w*[^\W\d]\w*)")
_MENTION = re.compile(r"(?<![A-Za-z0-9_@\uff20])[@\uff20]([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")


class MalformedPayload(ValueError):
    """The body does not have the shape X documents (the connector answers 400)."""


@dataclass(frozen=True)
class InboundDM:
    """A direct message to the account."""

    event_id: str
    sender_id: str
    recipient_id: str
    text: str
    created_at_ms: int | None
    screen_name: str | None
    quick_reply_payload: str | None


@dataclass(frozen=True)
class InboundTweet:
    """A public post (mention, reply, hashtag search hit). ``mentions`` are usernames."""

    tweet_id: str
    author_id: str
    username: str | None
    text: str
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]
    in_reply_to_status_id: str | None
    is_retweet: bool
    created_at: datetime | None
    # The author of the post this one quotes, when X says (v1.1 ``quoted_status``, v2
    # ``includes.tweets``); None for a post that quotes nothing.
    quoted_author_id: str | None = None


Inbound = InboundDM | InboundTweet


@dataclass(frozen=True)
class EncryptedChat:
    """An encrypted X Chat message to the account (``chat.received``): what can be known
    without X's Chat XDK and the account's keys. ``event_id`` is the message event's id
    (``payload.id``; else the delivery's ``event_uuid``), the same however often X delivers
    it. Neither the sender nor the ciphertext is kept."""

    event_id: str
    created_at_ms: int | None


@dataclass(frozen=True)
class SentDM:
    """A direct message the account sent (read back from ``GET /2/dm_events``)."""

    event_id: str
    recipient_id: str
    text: str
    created_at_ms: int | None


@dataclass(frozen=True)
class Page:
    """One page of a v2 list, newest first.

    ``inbound``: the DMs to the account or the tweets not written by it, in the page's order.
    ``sent``: the account's own DMs (DM pages only). ``newest_id`` / ``oldest_id`` bound every
    item of the page, skipped ones included (None for an empty page); ``next_token`` asks
    for the next, older, page (None on the last one). ``item_ids``: the id of every item of
    the page, skipped ones included (what X bills a read for).
    """

    inbound: tuple[Inbound, ...]
    sent: tuple[SentDM, ...]
    newest_id: str | None
    oldest_id: str | None
    next_token: str | None
    item_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListRequest:
    """A v2 GET: the route and its query parameters (to send as they are)."""

    route: str
    params: Mapping[str, str]


# Public entry points


def decode_body(raw: bytes) -> Any:
    """The JSON value of a webhook body; MalformedPayload if it is not UTF-8 JSON.

    NaN/Infinity, nesting too deep for the decoder and integers too long for Python are
    refused too. Verify the signature over ``raw`` before calling this.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload("body: not UTF-8") from exc
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedPayload("body: not JSON") from exc


def parse_webhook(body: Any, account_id: str) -> list[Inbound]:
    """Every DM and tweet of an AAA body or an XAA envelope, minus the account's own.

    Events addressed to another user (``for_user_id`` or XAA ``filter.user_id``) give [].
    """
    root = _obj(body, "body")
    data = root.get("data")
    if isinstance(data, dict) and "event_type" in data:
        return _parse_xaa(data, account_id)
    return _parse_aaa(root, account_id)


def is_xaa_envelope(body: Any) -> bool:
    """True for an X Activity API envelope (``{"data": {"event_type": ...}}``), False for
    an Account Activity body (or anything else)."""
    data = body.get("data") if isinstance(body, dict) else None
    return isinstance(data, dict) and "event_type" in data


def encrypted_chats(body: Any, account_id: str) -> list[EncryptedChat]:
    """The ``chat.received`` event of an XAA envelope for the account ([] for any other
    body, or one for another user). Raises MalformedPayload for a chat event of the wrong
    shape."""
    if not is_xaa_envelope(body):
        return []
    data = body["data"]
    if data.get("event_type") != XAA_CHAT_RECEIVED:
        return []
    matched = data.get("filter")
    if matched is not None:
        user_id = _obj(matched, "data.filter").get("user_id")
        if user_id is not None and _id(user_id, "data.filter.user_id") != account_id:
            return []
    payload = _obj(data.get("payload"), "data.payload")
    sender = payload.get("sender_id")
    if sender is not None and _id(sender, "data.payload.sender_id") == account_id:
        return []  # the account's own message
    event_id = _first(payload, "id") or data.get("event_uuid")
    if not isinstance(event_id, str) or not _CHAT_ID.fullmatch(event_id):
        raise MalformedPayload("data.payload.id: expected an event id")
    created = payload.get("created_at_msec")
    created_ms = None if created is None else _millis(created, "data.payload.created_at_msec")
    return [EncryptedChat(event_id, created_ms)]


def parse_dm_events(body: Any, account_id: str) -> list[InboundDM]:
    """The ``MessageCreate`` events of a v2 ``GET /2/dm_events`` (or conversation) page.

    Other event types (``ParticipantsJoin``/``Leave``) and group conversations are skipped:
    the assistant only talks one to one. Usernames come from ``includes.users``.
    """
    page = parse_dm_events_page(body, account_id)
    return [dm for dm in page.inbound if isinstance(dm, InboundDM)]


def parse_dm_events_page(body: Any, account_id: str) -> Page:
    """A whole ``GET /2/dm_events`` page: the DMs to the account, the account's own DMs, the
    ids bounding the page and ``meta.next_token``."""
    root = _obj(body, "body")
    data = root.get("data")
    items = [] if data is None else _list(data, "data")
    users = _v2_users(root.get("includes"), "includes")
    inbound: list[Inbound] = []
    sent: list[SentDM] = []
    for index, item in enumerate(items):
        message = _v2_message(item, f"data[{index}]", users)
        if message is None:
            continue
        if message.sender_id == account_id:
            sent.append(SentDM(message.event_id, message.recipient_id, message.text,
                               message.created_at_ms))
        elif message.recipient_id == account_id:
            inbound.append(message)
    return _page(root, items, inbound, sent)


def parse_tweets(body: Any, account_id: str) -> list[InboundTweet]:
    """The tweets of a v2 page (mentions, recent search, or one tweet), minus the account's."""
    root = _obj(body, "body")
    data = root.get("data")
    if data is None:
        return []
    users = _v2_users(root.get("includes"), "includes")
    authors = _v2_tweet_authors(root.get("includes"), "includes")
    items = [(data, "data")] if isinstance(data, dict) else [
        (item, f"data[{index}]") for index, item in enumerate(_list(data, "data"))]
    tweets = [_v2_tweet(item, where, users, authors) for item, where in items]
    return [tweet for tweet in tweets if tweet.author_id != account_id]


def parse_tweets_page(body: Any, account_id: str) -> Page:
    """A whole page of mentions or recent search: its tweets minus the account's, the ids
    bounding the page and ``meta.next_token``."""
    root = _obj(body, "body")
    data = root.get("data")
    items = [] if data is None else _list(data, "data")
    tweets = parse_tweets(root, account_id)
    return _page(root, items, list(tweets), [])


def dm_events_request(pagination_token: str | None = None) -> ListRequest:
    """``GET /2/dm_events``: the account's most recent DM events, ``MessageCreate`` only."""
    params = {
        "dm_event.fields": ",".join(DM_EVENT_FIELDS),
        "event_types": "MessageCreate",
        "expansions": ",".join(DM_EVENT_EXPANSIONS),
        "user.fields": ",".join(USER_FIELDS),
        "max_results": str(MAX_PAGE_RESULTS),
    }
    if pagination_token:
        params["pagination_token"] = pagination_token
    return ListRequest("/2/dm_events", params)


def conversation_events_request(participant_id: str) -> ListRequest:
    """``GET /2/dm_conversations/with/:id/dm_events``: the last DM events with one person."""
    return ListRequest(f"/2/dm_conversations/with/{_id(participant_id, 'participant_id')}"
                       "/dm_events", dm_events_request().params)


def mentions_request(account_id: str, since_id: str | int | None = None,
                     pagination_token: str | None = None) -> ListRequest:
    """``GET /2/users/:id/mentions``, newer than ``since_id`` (exclusive)."""
    params = _tweet_list_params(since_id)
    if pagination_token:
        params["pagination_token"] = pagination_token
    return ListRequest(f"/2/users/{_id(account_id, 'account_id')}/mentions", params)


def search_request(hashtags: Iterable[str], since_id: str | int | None = None,
                   next_token: str | None = None) -> ListRequest:
    """``GET /2/tweets/search/recent`` for original posts with one of ``hashtags``."""
    params = {"query": hashtag_query(hashtags), **_tweet_list_params(since_id)}
    if next_token:
        params["next_token"] = next_token
    return ListRequest("/2/tweets/search/recent", params)


def hashtag_query(hashtags: Iterable[str]) -> str:
    """A search query for any of ``hashtags``, retweets left out: ``(#a OR #b) -is:retweet``."""
    tags = sorted({tag.strip().lstrip("#\uff03") for tag in hashtags} - {""})
    if not tags or any(not re.fullmatch(r"\w+", tag) for tag in tags):
        raise ValueError("hashtags must be words (letters, digits, underscore)")
    return "(" + " OR ".join(f"#{tag}" for tag in tags) + ") -is:retweet"


def snowflake_at(moment: datetime) -> int:
    """The smallest id X could give to something created at ``moment`` (aware datetime)."""
    millis = (moment - _EPOCH) // timedelta(milliseconds=1)
    return max(millis - SNOWFLAKE_EPOCH_MS, 0) << SNOWFLAKE_TIME_SHIFT


def snowflake_time(snowflake: str | int) -> datetime:
    """When the id ``snowflake`` was made (to the millisecond)."""
    millis = (int(snowflake) >> SNOWFLAKE_TIME_SHIFT) + SNOWFLAKE_EPOCH_MS
    return _EPOCH + timedelta(milliseconds=millis)


def event_time(event: Inbound) -> datetime:
    """When X says ``event`` was created: a DM's ``created_timestamp`` (AAA, XAA) or
    ``created_at`` (v2), a tweet's ``timestamp_ms`` / ``created_at`` (v1.1) or ``created_at``
    (v2); without one (the XAA envelope carries no time of its own), the time in the event's
    snowflake id, which X stamps at creation."""
    if isinstance(event, InboundDM):
        if event.created_at_ms is not None:
            return _EPOCH + timedelta(milliseconds=event.created_at_ms)
        return snowflake_time(event.event_id)
    if event.created_at is not None:
        return event.created_at
    return snowflake_time(event.tweet_id)


def summons(tweet: InboundTweet, account_id: str, account_username: str) -> bool:
    """True if the tweet's author summoned the account: an @mention of it, or a quote of one
    of its posts. Since 2026-02-23 X accepts an automated reply only to such a post
    (``../shared/X-API-2026.md``, "Public posts"). Retweets and the account's own tweets never
    summon it."""
    if tweet.author_id == account_id or tweet.is_retweet:
        return False
    handle = _fold_handle(account_username)
    if handle and any(_fold_handle(mention) == handle for mention in tweet.mentions):
        return True
    return bool(account_id) and tweet.quoted_author_id == account_id


def is_for_us(
    tweet: InboundTweet, account_id: str, account_username: str, hashtags: Iterable[str]
) -> bool:
    """True if the tweet summons the account (:func:`summons`) or carries one of
    ``hashtags``.

    Hashtags and the username compare case-insensitively, with or without '#'/'@'.
    Retweets and the account's own tweets are never for us.
    """
    if tweet.author_id == account_id or tweet.is_retweet:
        return False
    if summons(tweet, account_id, account_username):
        return True
    if isinstance(hashtags, str):
        hashtags = [hashtags]
    wanted = {_fold_tag(tag) for tag in hashtags} - {""}
    return any(_fold_tag(tag) in wanted for tag in tweet.hashtags)


# Formats


def _parse_aaa(root: Mapping[str, Any], account_id: str) -> list[Inbound]:
    for_user = root.get("for_user_id")
    if for_user is not None and _id(for_user, "for_user_id") != account_id:
        return []
    out: list[Inbound] = []
    # A known key is validated even when null: X never sends null there.
    if "direct_message_events" in root:
        events = root["direct_message_events"]
        users = _v1_users(root.get("users"), "users")
        out.extend(_aaa_dms(events, "direct_message_events", users, account_id))
    if "tweet_create_events" in root:
        tweets = root["tweet_create_events"]
        for index, item in enumerate(_list(tweets, "tweet_create_events")):
            tweet = _v1_tweet(item, f"tweet_create_events[{index}]")
            if tweet.author_id != account_id:
                out.append(tweet)
    return out


def _parse_xaa(data: Mapping[str, Any], account_id: str) -> list[Inbound]:
    event_type = _str(data.get("event_type"), "data.event_type")
    matched = data.get("filter")
    if matched is not None:
        user_id = _obj(matched, "data.filter").get("user_id")
        if user_id is not None and _id(user_id, "data.filter.user_id") != account_id:
            return []
    if event_type in XAA_DM_EVENTS:
        payload = _obj(data.get("payload"), "data.payload")
        users = _v1_users(payload.get("users"), "data.payload.users")
        events = payload.get("direct_message_events")
        return list(_aaa_dms(events, "data.payload.direct_message_events", users, account_id))
    if event_type in XAA_MENTION_EVENTS:
        users = _v2_users(data.get("includes"), "data.includes")
        authors = _v2_tweet_authors(data.get("includes"), "data.includes")
        tweet = _v2_tweet(data.get("payload"), "data.payload", users, authors)
        return [] if tweet.author_id == account_id else [tweet]
    return []


def _aaa_dms(
    events: Any, where: str, users: Mapping[str, str | None], account_id: str
) -> list[InboundDM]:
    out = []
    for index, event in enumerate(_list(events, where)):
        dm = _v1_dm(event, f"{where}[{index}]", users, account_id)
        if dm is not None:
            out.append(dm)
    return out


def _v1_dm(
    value: Any, where: str, users: Mapping[str, str | None], account_id: str
) -> InboundDM | None:
    event = _obj(value, where)
    kind = event.get("type", "message_create")
    if _str(kind, f"{where}.type") != "message_create":
        return None
    event_id = _id(event.get("id"), f"{where}.id")
    created = event.get("created_timestamp")
    created_ms = None if created is None else _millis(created, f"{where}.created_timestamp")
    create = _obj(event.get("message_create"), f"{where}.message_create")
    target = _obj(create.get("target"), f"{where}.message_create.target")
    recipient_id = _id(target.get("recipient_id"), f"{where}.message_create.target.recipient_id")
    sender_id = _id(create.get("sender_id"), f"{where}.message_create.sender_id")
    message = _obj(create.get("message_data"), f"{where}.message_create.message_data")
    text = _text(message.get("text"), f"{where}.message_create.message_data.text")
    quick_reply = None
    response = message.get("quick_reply_response")
    if response is not None:
        path = f"{where}.message_create.message_data.quick_reply_response"
        quick_reply = _opt_str(_obj(response, path).get("metadata"), f"{path}.metadata")
    if sender_id == account_id or recipient_id != account_id:
        return None  # the account's own DM (echo), or not addressed to it
    return InboundDM(event_id, sender_id, recipient_id, text, created_ms,
                     users.get(sender_id), quick_reply)


def _page(root: Mapping[str, Any], items: list[Any], inbound: list[Inbound],
          sent: list[SentDM]) -> Page:
    ids = [int(_id(_obj(item, f"data[{index}]").get("id"), f"data[{index}].id"))
           for index, item in enumerate(items)]
    meta = root.get("meta")
    token = None if meta is None else _opt_str(_obj(meta, "meta").get("next_token"),
                                                "meta.next_token")
    return Page(tuple(inbound), tuple(sent),
                str(max(ids)) if ids else None, str(min(ids)) if ids else None, token or None,
                tuple(str(item_id) for item_id in ids))


def _tweet_list_params(since_id: str | int | None) -> dict[str, str]:
    params = {
        "tweet.fields": ",".join(TWEET_FIELDS),
        "expansions": ",".join(TWEET_EXPANSIONS),
        "user.fields": ",".join(USER_FIELDS),
        "max_results": str(MAX_PAGE_RESULTS),
    }
    if since_id is not None:
        params["since_id"] = _id(since_id, "since_id")
    return params


def _v2_message(value: Any, where: str, users: Mapping[str, str | None]) -> InboundDM | None:
    """A one-to-one ``MessageCreate`` event, whoever sent it (None for other events)."""
    event = _obj(value, where)
    if _str(event.get("event_type"), f"{where}.event_type") != "MessageCreate":
        return None
    event_id = _id(event.get("id"), f"{where}.id")
    sender_id = _id(event.get("sender_id"), f"{where}.sender_id (dm_event.fields=sender_id)")
    conversation = _str(event.get("dm_conversation_id"),
                        f"{where}.dm_conversation_id (dm_event.fields=dm_conversation_id)")
    text = _text(event.get("text"), f"{where}.text")
    created = event.get("created_at")
    created_ms = None if created is None else _iso_millis(created, f"{where}.created_at")
    pair = _ONE_TO_ONE.fullmatch(conversation)
    if pair is None:
        if _ID.fullmatch(conversation):
            return None  # a group conversation
        raise MalformedPayload(f"{where}.dm_conversation_id: not a conversation id")
    low, high = pair.groups()
    if sender_id not in (low, high):
        raise MalformedPayload(f"{where}.sender_id: not a participant of the conversation")
    recipient_id = high if sender_id == low else low
    return InboundDM(event_id, sender_id, recipient_id, text, created_ms,
                     users.get(sender_id), None)


def _v1_tweet(value: Any, where: str) -> InboundTweet:
    tweet = _obj(value, where)
    tweet_id = _id(_first(tweet, "id_str", "id"), f"{where}.id_str")
    user = _obj(tweet.get("user"), f"{where}.user")
    author_id = _id(_first(user, "id_str", "id"), f"{where}.user.id_str")
    username = _opt_str(user.get("screen_name"), f"{where}.user.screen_name")
    source: Mapping[str, Any] = tweet
    extended = tweet.get("extended_tweet")
    if extended is not None:  # a tweet over 140 characters: the full text is here
        source = _obj(extended, f"{where}.extended_tweet")
        text = _text(source.get("full_text"), f"{where}.extended_tweet.full_text")
    else:
        text = _text(_first(tweet, "text", "full_text"), f"{where}.text")
    hashtags, mentions = _v1_entities(source.get("entities"), f"{where}.entities", text)
    in_reply_to = _first(tweet, "in_reply_to_status_id_str", "in_reply_to_status_id")
    reply_id = None if in_reply_to is None else _id(in_reply_to, f"{where}.in_reply_to_status_id")
    retweeted = tweet.get("retweeted_status")
    if retweeted is not None:
        _obj(retweeted, f"{where}.retweeted_status")
    is_retweet = retweeted is not None or text.startswith("RT @")
    quoted_author = None
    quoted = tweet.get("quoted_status")
    if quoted is not None:
        quoted_user = _obj(_obj(quoted, f"{where}.quoted_status").get("user"),
                           f"{where}.quoted_status.user")
        quoted_author = _id(_first(quoted_user, "id_str", "id"),
                            f"{where}.quoted_status.user.id_str")
    return InboundTweet(tweet_id, author_id, username, text, hashtags, mentions, reply_id,
                        is_retweet, _v1_created_at(tweet, where), quoted_author)


def _v2_tweet(value: Any, where: str, users: Mapping[str, str | None],
              authors: Mapping[str, str] | None = None) -> InboundTweet:
    tweet = _obj(value, where)
    tweet_id = _id(tweet.get("id"), f"{where}.id")
    author_id = _id(tweet.get("author_id"), f"{where}.author_id (tweet.fields=author_id)")
    source: Mapping[str, Any] = tweet
    note = tweet.get("note_tweet")
    if note is not None:  # a long post: the full text is here
        source = _obj(note, f"{where}.note_tweet")
        text = _text(source.get("text"), f"{where}.note_tweet.text")
    else:
        text = _text(tweet.get("text"), f"{where}.text")
    hashtags, mentions = _v2_entities(source.get("entities"), f"{where}.entities", text)
    reply_id = None
    quoted_author = None
    is_retweet = text.startswith("RT @")
    references = tweet.get("referenced_tweets")
    if references is not None:
        for index, item in enumerate(_list(references, f"{where}.referenced_tweets")):
            path = f"{where}.referenced_tweets[{index}]"
            reference = _obj(item, path)
            kind = _str(reference.get("type"), f"{path}.type")
            ref_id = _id(reference.get("id"), f"{path}.id")
            if kind == "retweeted":
                is_retweet = True
            elif kind == "replied_to":
                reply_id = ref_id
            elif kind == "quoted":
                quoted_author = (authors or {}).get(ref_id)
    created = tweet.get("created_at")
    created_at = None if created is None else _iso_datetime(created, f"{where}.created_at")
    return InboundTweet(tweet_id, author_id, users.get(author_id), text, hashtags, mentions,
                        reply_id, is_retweet, created_at, quoted_author)


def _v2_tweet_authors(value: Any, where: str) -> dict[str, str]:
    """``includes.tweets`` (the posts referenced, ``expansions=referenced_tweets.id``): id ->
    author id, for those that carry one."""
    if value is None:
        return {}
    tweets = _obj(value, where).get("tweets")
    if tweets is None:
        return {}
    out: dict[str, str] = {}
    for index, entry in enumerate(_list(tweets, f"{where}.tweets")):
        path = f"{where}.tweets[{index}]"
        item = _obj(entry, path)
        author = item.get("author_id")
        if author is not None:
            out[_id(item.get("id"), f"{path}.id")] = _id(author, f"{path}.author_id")
    return out


def _v1_entities(value: Any, where: str, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if value is None:
        return _entities_from_text(text)
    entities = _obj(value, where)
    hashtags = _entity_values(entities.get("hashtags"), f"{where}.hashtags", "text")
    mentions = _entity_values(entities.get("user_mentions"), f"{where}.user_mentions",
                              "screen_name")
    return hashtags, mentions


def _v2_entities(value: Any, where: str, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if value is None:
        return _entities_from_text(text)
    entities = _obj(value, where)
    hashtags = _entity_values(entities.get("hashtags"), f"{where}.hashtags", "tag")
    mentions = _entity_values(entities.get("mentions"), f"{where}.mentions", "username")
    return hashtags, mentions


def _entity_values(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(_str(_obj(item, f"{where}[{index}]").get(key), f"{where}[{index}].{key}")
                 for index, item in enumerate(_list(value, where)))


def _entities_from_text(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Hashtags and mentions as X would mark them (simplified twitter-text), outside URLs."""
    bare = _URL.sub(lambda match: " " * len(match.group(0)), text)
    return (tuple(m.group(1) for m in _HASHTAG.finditer(bare)),
            tuple(m.group(1) for m in _MENTION.finditer(bare)))


def _v1_users(value: Any, where: str) -> dict[str, str | None]:
    """The ``users`` map of DM payloads: id -> screen name (AAA) or username (XAA, in data)."""
    if value is None:
        return {}
    out: dict[str, str | None] = {}
    for key, entry in _obj(value, where).items():
        path = f"{where}.{key if _ID.fullmatch(key) else '<key>'}"
        user = _user_object(entry, path)
        out[key] = _opt_str(_first(user, "screen_name", "username"), f"{path}.username")
    return out


def _v2_users(value: Any, where: str) -> dict[str, str | None]:
    """``includes.users`` (a list of v2 users, possibly wrapped in ``data``): id -> username."""
    if value is None:
        return {}
    users = _obj(value, where).get("users")
    if users is None:
        return {}
    out: dict[str, str | None] = {}
    for index, entry in enumerate(_list(users, f"{where}.users")):
        path = f"{where}.users[{index}]"
        user = _user_object(entry, path)
        out[_id(user.get("id"), f"{path}.id")] = _opt_str(user.get("username"),
                                                          f"{path}.username")
    return out


def _user_object(value: Any, where: str) -> Mapping[str, Any]:
    user = _obj(value, where)
    wrapped = user.get("data")
    return wrapped if isinstance(wrapped, dict) else user


# Dates


def _v1_created_at(tweet: Mapping[str, Any], where: str) -> datetime | None:
    millis = tweet.get("timestamp_ms")
    if millis is not None:
        return _EPOCH + timedelta(milliseconds=_millis(millis, f"{where}.timestamp_ms"))
    created = tweet.get("created_at")
    if created is None:
        return None
    match = _V1_DATE.fullmatch(_str(created, f"{where}.created_at"))
    if match is None or match.group(1) not in _MONTHS:
        raise MalformedPayload(f"{where}.created_at: not a v1.1 date")
    month, day, hour, minute, second, sign, off_h, off_m, year = match.groups()
    try:
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
        stamp = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute),
                         int(second), tzinfo=timezone(offset))
        return stamp.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise MalformedPayload(f"{where}.created_at: not a v1.1 date") from exc


def _iso_datetime(value: Any, where: str) -> datetime:
    text = _str(value, where)
    if len(text) > 40:
        raise MalformedPayload(f"{where}: not an ISO 8601 date")
    if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read "Z"
        text = text[:-1] + "+00:00"
    try:
        stamp = datetime.fromisoformat(text)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        return stamp.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise MalformedPayload(f"{where}: not an ISO 8601 date") from exc


def _iso_millis(value: Any, where: str) -> int:
    return (_iso_datetime(value, where) - _EPOCH) // timedelta(milliseconds=1)


# Typed access with path-bearing errors


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _wrong(where: str, expected: str, value: Any) -> MalformedPayload:
    return MalformedPayload(f"{where}: expected {expected}, got {_kind(value)}")


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _wrong(where, "an object", value)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _wrong(where, "an array", value)
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _wrong(where, "a string", value)
    return value


def _opt_str(value: Any, where: str) -> str | None:
    return None if value is None else _str(value, where)


def _text(value: Any, where: str) -> str:
    """A message text: a string that is valid Unicode (no lone surrogate from bad JSON)."""
    text = _str(value, where)
    if _SURROGATE.search(text):
        raise MalformedPayload(f"{where}: invalid Unicode (lone surrogate)")
    return text


def _id(value: Any, where: str) -> str:
    """An X id: a decimal string of at most 20 digits, or a non-negative 64-bit integer."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_ID:
        return str(value)
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    raise _wrong(where, "an id (decimal digits)", value)


def _millis(value: Any, where: str) -> int:
    """Milliseconds since the epoch, as a string of digits or an integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        millis = value
    elif isinstance(value, str) and _MILLIS.fullmatch(value):
        millis = int(value)
    else:
        raise _wrong(where, "milliseconds since the epoch", value)
    if not 0 <= millis <= _MAX_MILLIS:
        raise MalformedPayload(f"{where}: timestamp out of range")
    return millis


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present with a non-null value, else None."""
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return value
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _fold_handle(value: str) -> str:
    return value.strip().lstrip("@\uff20").casefold()


def _fold_tag(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lstrip("#").casefold()
