"""JSON shapes: v2 API objects and v1.1 Account Activity (AAA) webhook payloads.

Key sets and order follow the fixtures (``fixtures/``): v2 objects list their keys in
alphabetical order as in the recorded bodies; v1.1 objects follow
``aaa_direct_message_events_docs.json`` and ``aaa_tweet_create_events_mention.json``.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from .entities import Entity, extract_entities
from .errors import invalid_request
from .ids import iso_millis, v1_created_at
from .state import DmEvent, EmulatorState, Tweet, User

DEFAULT_PROFILE_IMAGE = (
    "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png")
PUBLIC_SOURCE = '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>'

# Field names X accepts; the emulator fills the SUPPORTED ones and silently omits the others.
TWEET_FIELDS_SUPPORTED = frozenset({
    "author_id", "conversation_id", "created_at", "edit_history_tweet_ids", "entities", "id",
    "in_reply_to_user_id", "lang", "possibly_sensitive", "public_metrics",
    "referenced_tweets", "reply_settings", "text"})
TWEET_FIELDS_KNOWN = TWEET_FIELDS_SUPPORTED | {
    "attachments", "card_uri", "context_annotations", "display_text_range", "edit_controls",
    "geo", "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
    "promoted_metrics", "scopes", "source", "withheld", "article"}
USER_FIELDS_SUPPORTED = frozenset({
    "created_at", "description", "id", "location", "name", "profile_image_url", "protected",
    "public_metrics", "url", "username", "verified", "verified_type"})
USER_FIELDS_KNOWN = USER_FIELDS_SUPPORTED | {
    "affiliation", "confirmed_email", "connection_status", "entities", "is_identity_verified",
    "most_recent_tweet_id", "parody", "pinned_tweet_id", "profile_banner_url",
    "receives_your_dm", "subscription", "subscription_type", "subscribes_to_you",
    "verified_followers_count", "withheld"}
DM_EVENT_FIELDS_KNOWN = frozenset({
    "attachments", "created_at", "dm_conversation_id", "entities", "event_type", "id",
    "participant_ids", "referenced_tweets", "sender_id", "text"})
TWEET_EXPANSIONS_KNOWN = frozenset({
    "attachments.media_keys", "attachments.poll_ids", "author_id", "edit_history_tweet_ids",
    "entities.mentions.username", "geo.place_id", "in_reply_to_user_id",
    "referenced_tweets.id", "referenced_tweets.id.author_id"})
DM_EXPANSIONS_KNOWN = frozenset({
    "attachments.media_keys", "participant_ids", "referenced_tweets.id", "sender_id"})
USER_EXPANSIONS_KNOWN = frozenset({"pinned_tweet_id", "most_recent_tweet_id"})
DM_EVENT_TYPES = ("MessageCreate", "ParticipantsJoin", "ParticipantsLeave")


def parse_list_param(query: Any, name: str, known: Iterable[str]) -> set[str]:
    """A comma-separated query parameter, each value checked against ``known`` (else 400)."""
    raw = query.get(name)
    if raw is None:
        return set()
    values = [value for value in raw.split(",") if value]
    allowed = sorted(known)
    for value in values:
        if value not in allowed:
            raise invalid_request(
                f"The `{name}` query parameter value [{value}] is not one of "
                f"[{','.join(allowed)}]", name, value)
    return set(values)


# v2 objects


def user_v2(user: User, fields: set[str]) -> dict[str, Any]:
    full = {
        "created_at": iso_millis(user.created_at),
        "description": user.description,
        "id": user.id,
        "location": user.location or None,
        "name": user.name,
        "profile_image_url": DEFAULT_PROFILE_IMAGE,
        "protected": user.protected,
        "public_metrics": {"followers_count": user.followers_count,
                           "following_count": user.following_count,
                           "tweet_count": 0, "listed_count": 0, "like_count": 0},
        "url": user.url,
        "username": user.username,
        "verified": user.verified,
        "verified_type": "none",
    }
    wanted = {"id", "name", "username"} | fields
    return {key: value for key, value in full.items() if key in wanted and value is not None}


def entities_v2(entities: list[Entity], state: EmulatorState) -> dict[str, Any]:
    out: dict[str, list[dict[str, Any]]] = {}
    for entity in entities:
        if entity.kind == "hashtag":
            out.setdefault("hashtags", []).append(
                {"start": entity.start, "end": entity.end, "tag": entity.value})
        elif entity.kind == "mention":
            item: dict[str, Any] = {"start": entity.start, "end": entity.end,
                                    "username": entity.value}
            user = state.user_by_username(entity.value)
            if user is not None:
                item["id"] = user.id
            out.setdefault("mentions", []).append(item)
        else:
            out.setdefault("urls", []).append(
                {"start": entity.start, "end": entity.end, "url": entity.value,
                 "expanded_url": entity.value, "display_url": _display_url(entity.value)})
    return dict(sorted(out.items()))


def _display_url(url: str) -> str:
    shown = url.split("://", 1)[-1]
    return shown if len(shown) <= 26 else shown[:25] + "…"


def referenced_tweets(tweet: Tweet) -> list[dict[str, str]]:
    refs = []
    if tweet.retweet_of_id:
        refs.append({"type": "retweeted", "id": tweet.retweet_of_id})
    if tweet.quote_of_id:
        refs.append({"type": "quoted", "id": tweet.quote_of_id})
    if tweet.in_reply_to_tweet_id:
        refs.append({"type": "replied_to", "id": tweet.in_reply_to_tweet_id})
    return refs


def tweet_v2(tweet: Tweet, state: EmulatorState, fields: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "edit_history_tweet_ids": [tweet.id], "id": tweet.id, "text": tweet.text}
    if "author_id" in fields:
        data["author_id"] = tweet.author_id
    if "created_at" in fields:
        data["created_at"] = iso_millis(tweet.created_at)
    if "conversation_id" in fields:
        data["conversation_id"] = tweet.conversation_id
    if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id:
        data["in_reply_to_user_id"] = tweet.in_reply_to_user_id
    if "referenced_tweets" in fields and referenced_tweets(tweet):
        data["referenced_tweets"] = referenced_tweets(tweet)
    if "entities" in fields and tweet.entities:
        data["entities"] = entities_v2(tweet.entities, state)
    if "lang" in fields:
        data["lang"] = tweet.lang
    if "possibly_sensitive" in fields:
        data["possibly_sensitive"] = False
    if "reply_settings" in fields:
        data["reply_settings"] = "everyone"
    if "public_metrics" in fields:
        data["public_metrics"] = _public_metrics(tweet, state)
    return dict(sorted(data.items()))


def _public_metrics(tweet: Tweet, state: EmulatorState) -> dict[str, int]:
    others = state.tweets.values()
    return {
        "retweet_count": sum(1 for t in others if t.retweet_of_id == tweet.id),
        "reply_count": sum(1 for t in others if t.in_reply_to_tweet_id == tweet.id),
        "like_count": 0,
        "quote_count": sum(1 for t in others if t.quote_of_id == tweet.id),
        "bookmark_count": 0,
        "impression_count": 0,
    }


def dm_event_v2(event: DmEvent, state: EmulatorState, fields: set[str]) -> dict[str, Any]:
    full: dict[str, Any] = {
        "created_at": iso_millis(event.created_at),
        "dm_conversation_id": event.dm_conversation_id,
        "event_type": event.event_type,
        "id": event.id,
        "sender_id": event.sender_id,
        "text": event.text,
    }
    if event.attachments:
        full["attachments"] = {"media_keys": [f"3_{media_id}" for media_id in event.attachments]}
    entities = entities_v2(extract_entities(event.text), state)
    if entities:
        full["entities"] = entities
    wanted = {"event_type", "id", "text"} | fields
    return dict(sorted((k, v) for k, v in full.items() if k in wanted))


class Includes:
    """Collects ``includes.users`` / ``includes.tweets`` for an expansion."""

    def __init__(self, state: EmulatorState, user_fields: set[str], tweet_fields: set[str]):
        self.state = state
        self.user_fields = user_fields
        self.tweet_fields = tweet_fields
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}

    def add_user(self, user_id: str | None) -> None:
        user = self.state.users.get(user_id or "")
        if user is not None and user.id not in self.users:
            self.users[user.id] = user_v2(user, self.user_fields)

    def add_tweet(self, tweet_id: str | None) -> None:
        tweet = self.state.tweets.get(tweet_id or "")
        if tweet is not None and tweet.id not in self.tweets:
            self.tweets[tweet.id] = tweet_v2(tweet, self.state, self.tweet_fields)

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        out = {}
        if self.users:
            out["users"] = list(self.users.values())
        if self.tweets:
            out["tweets"] = list(self.tweets.values())
        return out


# v1.1 objects (Account Activity)


def v1_entities(entities: list[Entity], state: EmulatorState, *, dm: bool = False
                ) -> dict[str, list[dict[str, Any]]]:
    hashtags, urls, mentions = [], [], []
    for entity in entities:
        indices = [entity.start, entity.end]
        if entity.kind == "hashtag":
            hashtags.append({"text": entity.value, "indices": indices})
        elif entity.kind == "url":
            urls.append({"url": entity.value, "expanded_url": entity.value,
                         "display_url": _display_url(entity.value), "indices": indices})
        else:
            user = state.user_by_username(entity.value)
            if user is None:
                continue  # X only lists mentions of existing accounts
            mentions.append({"screen_name": user.username, "name": user.name,
                             "id": int(user.id), "id_str": user.id, "indices": indices})
    if dm:
        return {"hashtags": hashtags, "symbols": [], "user_mentions": mentions, "urls": urls}
    return {"hashtags": hashtags, "urls": urls, "user_mentions": mentions, "symbols": []}


def dm_user_v1(user: User) -> dict[str, Any]:
    """An entry of the ``users`` map of a ``direct_message_events`` payload."""
    entry: dict[str, Any] = {
        "id": user.id,
        "created_timestamp": str(int(user.created_at * 1000)),
        "name": user.name,
        "screen_name": user.username,
    }
    if user.location:
        entry["location"] = user.location
    if user.description:
        entry["description"] = user.description
    if user.url:
        entry["url"] = user.url
    entry.update({
        "protected": user.protected,
        "verified": user.verified,
        "followers_count": user.followers_count,
        "friends_count": user.following_count,
        "statuses_count": 0,
        "profile_image_url_https": DEFAULT_PROFILE_IMAGE,
    })
    return entry


def tweet_user_v1(user: User, state: EmulatorState) -> dict[str, Any]:
    """The ``user`` object of a v1.1 tweet (keys as in the recorded mention payload)."""
    statuses = sum(1 for t in state.tweets.values() if t.author_id == user.id)
    return {
        "id": int(user.id), "id_str": user.id, "name": user.name, "screen_name": user.username,
        "location": user.location or None, "url": user.url or None,
        "description": user.description or None, "protected": user.protected,
        "verified": user.verified, "followers_count": user.followers_count,
        "friends_count": user.following_count, "listed_count": 0, "translator_type": "none",
        "favourites_count": 0, "statuses_count": statuses,
        "created_at": v1_created_at(user.created_at), "utc_offset": None, "time_zone": None,
        "geo_enabled": False, "lang": None, "contributors_enabled": False,
        "is_translator": False, "profile_background_color": "F5F8FA",
        "profile_background_image_url": "", "profile_background_image_url_https": "",
        "profile_background_tile": False, "profile_link_color": "1DA1F2",
        "profile_sidebar_border_color": "C0DEED", "profile_sidebar_fill_color": "DDEEF6",
        "profile_text_color": "333333", "profile_use_background_image": True,
        "profile_image_url": DEFAULT_PROFILE_IMAGE.replace("https://", "http://"),
        "profile_image_url_https": DEFAULT_PROFILE_IMAGE,
        # profile_banner_url: X omits it for accounts without a banner, as here.
        "default_profile": True, "default_profile_image": True, "following": None,
        "follow_request_sent": None, "notifications": None,
    }


def tweet_v1(tweet: Tweet, state: EmulatorState) -> dict[str, Any]:
    parent = state.tweets.get(tweet.in_reply_to_tweet_id or "")
    parent_author = state.users.get(parent.author_id) if parent else None
    source = (f'<a href="{state.config.app_url}" rel="nofollow">{state.config.app_name}</a>'
              if tweet.via_api else PUBLIC_SOURCE)
    metrics = _public_metrics(tweet, state)
    out: dict[str, Any] = {
        "created_at": v1_created_at(tweet.created_at),
        "id": int(tweet.id), "id_str": tweet.id, "text": tweet.text, "source": source,
        "truncated": False,
        "in_reply_to_status_id": int(parent.id) if parent else None,
        "in_reply_to_status_id_str": parent.id if parent else None,
        "in_reply_to_user_id": int(parent_author.id) if parent_author else None,
        "in_reply_to_user_id_str": parent_author.id if parent_author else None,
        "in_reply_to_screen_name": parent_author.username if parent_author else None,
        "user": tweet_user_v1(state.users[tweet.author_id], state),
        "geo": None, "coordinates": None, "place": None, "contributors": None,
    }
    original = state.tweets.get(tweet.retweet_of_id or "")
    if original is not None:
        out["retweeted_status"] = tweet_v1(original, state)
    quoted = state.tweets.get(tweet.quote_of_id or "")
    if quoted is not None:
        out["quoted_status_id"] = int(quoted.id)
        out["quoted_status_id_str"] = quoted.id
        out["quoted_status"] = tweet_v1(quoted, state)
    out.update({
        "is_quote_status": tweet.quote_of_id is not None,
        "quote_count": metrics["quote_count"], "reply_count": metrics["reply_count"],
        "retweet_count": metrics["retweet_count"], "favorite_count": 0,
        "entities": v1_entities(tweet.entities, state),
        "favorited": False, "retweeted": False, "filter_level": "low", "lang": tweet.lang,
        "timestamp_ms": str(int(tweet.created_at * 1000)),
    })
    return out


def dm_event_v1(event: DmEvent, state: EmulatorState) -> dict[str, Any]:
    message_data: dict[str, Any] = {
        "text": event.text,
        "entities": v1_entities(extract_entities(event.text), state, dm=True),
    }
    if event.quick_reply_payload is not None:
        message_data["quick_reply_response"] = {
            "type": "options", "metadata": event.quick_reply_payload}
    if event.attachments:
        media_id = event.attachments[0]
        message_data["attachment"] = {
            "type": "media", "media": {"id": int(media_id), "id_str": media_id}}
    message_create: dict[str, Any] = {
        "target": {"recipient_id": event.recipient_id},
        "sender_id": event.sender_id,
    }
    if event.via_api:
        message_create["source_app_id"] = state.config.app_id
    message_create["message_data"] = message_data
    return {
        "type": "message_create",
        "id": event.id,
        "created_timestamp": str(int(event.created_at * 1000)),
        "message_create": message_create,
    }


def aaa_dm_payload(event: DmEvent, state: EmulatorState) -> dict[str, Any]:
    """``direct_message_events`` payload, as X posts it to the account's webhook."""
    payload: dict[str, Any] = {
        "for_user_id": state.account.id,
        "direct_message_events": [dm_event_v1(event, state)],
    }
    if event.via_api:
        cfg = state.config
        payload["apps"] = {cfg.app_id: {"id": cfg.app_id, "name": cfg.app_name,
                                        "url": cfg.app_url}}
    payload["users"] = {
        user_id: dm_user_v1(state.users[user_id])
        for user_id in (event.sender_id, event.recipient_id)
    }
    return payload


def aaa_tweet_payload(tweet: Tweet, state: EmulatorState) -> dict[str, Any]:
    """``tweet_create_events`` payload (mention, reply, retweet, or the account's own)."""
    payload: dict[str, Any] = {"for_user_id": state.account.id}
    if tweet.author_id != state.account.id:
        payload["user_has_blocked"] = False
    payload["tweet_create_events"] = [tweet_v1(tweet, state)]
    return payload


# X Activity API (XAA) payloads (x-api/activity/event-payloads.mdx)


def xaa_user(user: User) -> dict[str, Any]:
    """A user of a ``dm.*`` payload's ``users`` map or of ``includes.users``: v2 fields
    wrapped in ``data``, as in X's samples."""
    return {"data": user_v2(user, set(USER_FIELDS_SUPPORTED))}


def xaa_dm_payload(event: DmEvent, state: EmulatorState) -> dict[str, Any]:
    """The ``payload`` of ``dm.received`` / ``dm.sent``: the AAA DM event and its users."""
    return {
        "direct_message_events": [dm_event_v1(event, state)],
        "users": {user_id: xaa_user(state.users[user_id])
                  for user_id in (event.sender_id, event.recipient_id)},
    }


def xaa_mention(tweet: Tweet, state: EmulatorState) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``payload`` (a v2 post) and ``includes`` of ``post.mention.create``."""
    fields = set(TWEET_FIELDS_SUPPORTED) - {"public_metrics"}
    payload = tweet_v2(tweet, state, fields)
    payload["public_metrics"] = _public_metrics(tweet, state)
    users = [state.users[tweet.author_id]]
    users += [user for entity in tweet.entities if entity.kind == "mention"
              for user in [state.user_by_username(entity.value)] if user is not None]
    unique = {user.id: user for user in users}
    return (dict(sorted(payload.items())),
            {"users": [user_v2(user, set(USER_FIELDS_SUPPORTED)) for user in unique.values()]})


def encode_payload(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed and posted."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
