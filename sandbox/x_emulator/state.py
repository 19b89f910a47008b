"""In-memory state of the emulated X: users, DMs, tweets, webhooks, faults and logs."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from .activity import INTAKE_EVENT_TYPES, ActivityHub
from .config import EmulatorConfig
from .entities import Entity, extract_entities
from .ids import SnowflakeGenerator, iso_millis
from .ratelimit import RateLimiter
from .usage import UsageMeter


@dataclass
class User:
    id: str
    username: str
    name: str
    created_at: float
    description: str = ""
    location: str = ""
    url: str = ""
    followers_count: int = 0
    following_count: int = 0
    protected: bool = False
    verified: bool = False


@dataclass
class DmEvent:
    id: str
    sender_id: str
    recipient_id: str
    text: str
    created_at: float
    dm_conversation_id: str
    attachments: list[str] = field(default_factory=list)  # media ids
    quick_reply_payload: str | None = None
    via_api: bool = False  # sent through the API with the app's credentials
    event_type: str = "MessageCreate"


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    created_at: float
    conversation_id: str
    entities: list[Entity]
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    retweet_of_id: str | None = None
    quote_of_id: str | None = None
    lang: str = "fr"
    via_api: bool = False


@dataclass
class Webhook:
    id: str
    url: str
    created_at: float
    valid: bool = True
    subscribed: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {"created_at": iso_millis(self.created_at), "id": self.id,
                "url": self.url, "valid": self.valid}


@dataclass
class Delivery:
    seq: int
    event_id: str
    kind: str  # "direct_message_events" | "tweet_create_events" | "xaa:<event type>"
    webhook_id: str
    url: str
    redelivery: bool
    started_at: float
    status: int | None = None
    error: str | None = None
    latency_ms: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "event_id": self.event_id, "kind": self.kind,
            "webhook_id": self.webhook_id, "url": self.url, "redelivery": self.redelivery,
            "started_at": iso_millis(self.started_at), "status": self.status,
            "error": self.error, "latency_ms": self.latency_ms,
        }


@dataclass
class StoredPayload:
    kind: str
    body: bytes  # exactly the bytes delivered, so a redelivery is byte-identical
    billed_as: str | None = None  # price kind of the event once delivered (usage.py)
    # X Activity API emissions go to these webhooks (None: the Account Activity webhooks).
    webhook_ids: tuple[str, ...] | None = None
    resource_id: str | None = None  # what is billed once a day (default: the event id)


@dataclass
class Fault:
    status: int
    path_prefix: str
    method: str | None = None
    remaining: int | None = None  # requests left to fail, or None for "until"
    until: float | None = None
    reset_in: int = 3  # seconds ahead for x-rate-limit-reset on a 429

    def applies(self, method: str, path: str, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return path.startswith(self.path_prefix)

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "path_prefix": self.path_prefix, "method": self.method,
                "remaining": self.remaining, "until": self.until}


@dataclass
class RequestRecord:
    at: float
    method: str
    path: str
    status: int
    auth: str | None

    def as_json(self) -> dict[str, Any]:
        return {"at": iso_millis(self.at), "method": self.method, "path": self.path,
                "status": self.status, "auth": self.auth}


def conversation_id_for(first: str, second: str) -> str:
    """One-to-one conversation id: both user ids, numerically ascending (see fixtures)."""
    low, high = sorted((first, second), key=int)
    return f"{low}-{high}"


class EmulatorState:
    """All mutable data. Methods are synchronous: the event loop serializes them."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.ids = SnowflakeGenerator(config.clock)
        self.limiter = RateLimiter(config.profile.limits, config.clock, config.time_scale)
        for key, limit in config.rate_limits.items():
            self.limiter.set_limit(key, limit)
        self.usage = UsageMeter(config.profile.prices, config.clock, config.time_scale)
        self.webhooks: dict[str, Webhook] = {}
        self.activity = ActivityHub(config.clock, self.ids, config.activity_retention_seconds)
        self._init_data()
        self._subscribe_at_start()

    def _subscribe_at_start(self) -> None:
        """The start-up webhook and subscriptions (``EmulatorConfig.subscribe``)."""
        cfg = self.config
        webhook = self.add_webhook(cfg.webhook_url) if cfg.webhook_url else None
        if cfg.subscribe == "aaa" and webhook is not None:
            webhook.subscribed.add(cfg.account_id)
        elif cfg.subscribe == "xaa":
            for event_type in INTAKE_EVENT_TYPES:
                self.activity.subscribe(event_type, cfg.account_id, "permanence",
                                        webhook.id if webhook else None)

    def _init_data(self) -> None:
        cfg = self.config
        self.users: dict[str, User] = {}
        self.dm_events: list[DmEvent] = []
        self.tweets: dict[str, Tweet] = {}
        self.payloads: dict[str, StoredPayload] = {}
        self.deliveries: list[Delivery] = []
        self.faults: list[Fault] = []
        self.dm_closed: set[str] = set()
        self.requests: collections.deque[RequestRecord] = collections.deque(maxlen=2000)
        self.nonces: dict[str, int] = {}
        self._delivery_seq = 0
        self.add_user(User(cfg.account_id, cfg.account_username, cfg.account_name,
                           created_at=self.clock()))

    def reset(self, *, webhooks: bool = False) -> None:
        """Forget everything but the account (and webhooks unless ``webhooks``)."""
        self._init_data()
        self.limiter.reset()
        self.usage.reset()
        self.activity.reset(subscriptions=webhooks)
        if webhooks:
            self.webhooks.clear()
            self._subscribe_at_start()

    # Users

    @property
    def account(self) -> User:
        return self.users[self.config.account_id]

    def add_user(self, user: User) -> User:
        self.users[user.id] = user
        return user

    def user_by_username(self, username: str) -> User | None:
        wanted = username.lstrip("@").casefold()
        return next((u for u in self.users.values() if u.username.casefold() == wanted), None)

    def ensure_user(self, user_id: str | None = None, username: str | None = None,
                    name: str | None = None) -> User:
        """Find a member of the public by id or username, creating or renaming as needed."""
        user = self.users.get(user_id) if user_id else None
        if user is None and username:
            user = self.user_by_username(username)
            if user is not None and user_id and user.id != user_id:
                raise ValueError(f"username @{username} already belongs to user {user.id}")
        if user is None:
            new_id = user_id or self.ids.next_id()
            user = self.add_user(User(new_id, username or f"user_{new_id[-6:]}",
                                      name or username or f"Utilisateur {new_id[-4:]}",
                                      created_at=self.clock()))
        else:
            if username and user.username != username:
                other = self.user_by_username(username)
                if other is not None and other.id != user.id:
                    raise ValueError(f"username @{username} already belongs to user {other.id}")
                user.username = username
            if name:
                user.name = name
        return user

    # Direct messages

    def add_inbound_dm(self, sender: User, text: str, quick_reply_payload: str | None = None
                       ) -> DmEvent:
        return self._add_dm(sender.id, self.account.id, text,
                            quick_reply_payload=quick_reply_payload)

    def add_outbound_dm(self, recipient_id: str, text: str, attachments: list[str]) -> DmEvent:
        return self._add_dm(self.account.id, recipient_id, text, attachments=attachments,
                            via_api=True)

    def _add_dm(self, sender_id: str, recipient_id: str, text: str, **extra) -> DmEvent:
        event = DmEvent(
            id=self.ids.next_id(), sender_id=sender_id, recipient_id=recipient_id, text=text,
            created_at=self.clock(),
            dm_conversation_id=conversation_id_for(sender_id, recipient_id), **extra)
        self.dm_events.append(event)
        return event

    def has_written_to_account(self, user_id: str) -> bool:
        return any(ev.sender_id == user_id and ev.recipient_id == self.account.id
                   for ev in self.dm_events)

    def dm_refusal(self, recipient_id: str) -> str | None:
        """Why the account may not DM ``recipient_id`` (None if it may)."""
        if recipient_id == self.account.id:
            return "self"
        if recipient_id in self.dm_closed:
            return "dm_closed"
        if not self.has_written_to_account(recipient_id):
            return "never_wrote"
        return None

    def account_dm_events(self, conversation_id: str | None = None) -> list[DmEvent]:
        """The account's DM events, newest first, optionally of one conversation."""
        events = [ev for ev in self.dm_events
                  if conversation_id is None or ev.dm_conversation_id == conversation_id]
        return sorted(events, key=lambda ev: int(ev.id), reverse=True)

    # Tweets

    def add_tweet(self, author: User, text: str, *, in_reply_to: Tweet | None = None,
                  retweet_of: Tweet | None = None, quote_of: Tweet | None = None,
                  via_api: bool = False) -> Tweet:
        tweet_id = self.ids.next_id()
        for entity in extract_entities(text):
            if entity.kind == "mention" and self.user_by_username(entity.value) is None:
                self.ensure_user(username=entity.value)
        tweet = Tweet(
            id=tweet_id, author_id=author.id, text=text, created_at=self.clock(),
            conversation_id=in_reply_to.conversation_id if in_reply_to else tweet_id,
            entities=extract_entities(text),
            in_reply_to_tweet_id=in_reply_to.id if in_reply_to else None,
            in_reply_to_user_id=in_reply_to.author_id if in_reply_to else None,
            retweet_of_id=retweet_of.id if retweet_of else None,
            quote_of_id=quote_of.id if quote_of else None,
            via_api=via_api)
        self.tweets[tweet.id] = tweet
        return tweet

    def tweets_newest_first(self) -> list[Tweet]:
        return sorted(self.tweets.values(), key=lambda t: int(t.id), reverse=True)

    def mentions_user(self, tweet: Tweet, user: User) -> bool:
        return any(e.kind == "mention" and e.value.casefold() == user.username.casefold()
                   for e in tweet.entities)

    def concerns_account(self, tweet: Tweet) -> bool:
        """Would X's Account Activity deliver this tweet to the account's webhook?"""
        account = self.account
        if tweet.author_id == account.id:
            return self.config.echo_own_events
        if self.mentions_user(tweet, account) or tweet.in_reply_to_user_id == account.id:
            return True
        original = self.tweets.get(tweet.retweet_of_id or tweet.quote_of_id or "")
        return original is not None and original.author_id == account.id

    # Outbox

    def outbox(self, since_id: int = 0) -> dict[str, list[dict[str, Any]]]:
        """What the account sent, oldest first; only the items with an id above ``since_id``
        (ids grow with time, so a poller reads only what is new)."""
        account_id = self.account.id
        dms = [{"id": ev.id, "recipient_id": ev.recipient_id, "text": ev.text,
                "created_at": iso_millis(ev.created_at),
                "dm_conversation_id": ev.dm_conversation_id, "attachments": ev.attachments}
               for ev in _newer(self.dm_events, since_id) if ev.sender_id == account_id]
        tweets = [{"id": t.id, "text": t.text, "in_reply_to_tweet_id": t.in_reply_to_tweet_id,
                   "in_reply_to_user_id": t.in_reply_to_user_id,
                   "created_at": iso_millis(t.created_at)}
                  for t in _newer(list(self.tweets.values()), since_id)
                  if t.author_id == account_id]
        return {"dms": dms, "tweets": tweets}

    # Webhooks

    def add_webhook(self, url: str) -> Webhook:
        webhook = Webhook(id=self.ids.next_id(), url=url, created_at=self.clock())
        self.webhooks[webhook.id] = webhook
        return webhook

    def webhooks_by_id(self, webhook_ids: tuple[str, ...]) -> list[Webhook]:
        """The valid webhooks among ``webhook_ids`` (X Activity API subscriptions)."""
        return [self.webhooks[webhook_id] for webhook_id in webhook_ids
                if webhook_id in self.webhooks and self.webhooks[webhook_id].valid]

    def delivery_targets(self) -> list[Webhook]:
        """Valid webhooks subscribed to the account, one per URL."""
        seen: set[str] = set()
        targets = []
        for webhook in self.webhooks.values():
            if webhook.valid and self.account.id in webhook.subscribed and webhook.url not in seen:
                seen.add(webhook.url)
                targets.append(webhook)
        return targets

    def new_delivery(self, event_id: str, kind: str, webhook: Webhook, redelivery: bool
                     ) -> Delivery:
        self._delivery_seq += 1
        delivery = Delivery(self._delivery_seq, event_id, kind, webhook.id, webhook.url,
                            redelivery, started_at=self.clock())
        self.deliveries.append(delivery)
        return delivery

    # Faults, nonces, request log

    def take_fault(self, method: str, path: str) -> Fault | None:
        now = self.clock()
        self.faults = [f for f in self.faults
                       if not (f.until is not None and now >= f.until)
                       and not (f.remaining is not None and f.remaining <= 0)]
        for fault in self.faults:
            if fault.applies(method, path, now):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def nonce_seen(self, nonce: str, timestamp: int) -> bool:
        """Remember ``nonce``; True if it was already used inside the skew window."""
        horizon = self.clock() - (self.config.timestamp_skew or 300) * 2
        self.nonces = {n: ts for n, ts in self.nonces.items() if ts >= horizon}
        if nonce in self.nonces:
            return True
        self.nonces[nonce] = timestamp
        return False

    def log_request(self, method: str, path: str, status: int, auth: str | None) -> None:
        self.requests.append(RequestRecord(self.clock(), method, path, status, auth))


def _newer(items: list[Any], since_id: int) -> list[Any]:
    """The items (in id order) whose id is above ``since_id``, found from the end."""
    start = len(items)
    while start > 0 and int(items[start - 1].id) > since_id:
        start -= 1
    return items[start:]
