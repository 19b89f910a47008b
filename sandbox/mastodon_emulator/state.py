"""What the emulated instance knows: people, statuses, the account's notifications, the open
streams, injected faults. Ids grow with time, as Mastodon's snowflake ids do."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig
from .entities import (
    HASHTAG_RE,
    MENTION_RE,
    Person,
    StatusRecord,
    notification_json,
    status_json,
)
from .ratelimit import RateLimiter

logger = logging.getLogger(__name__)


@dataclass
class Fault:
    status: int
    acct: str | None  # only sends to this person (mentioned, or the author replied to)
    path_prefix: str | None
    count: int
    reset_in: float


@dataclass
class Notification:
    id: str
    kind: str
    created_at: float
    status: StatusRecord
    filtered: bool


@dataclass
class Stream:
    kind: str  # "user", "user:notification" or "hashtag:<tag>"
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.limiter = RateLimiter(dict(config.windows), config.clock, config.time_scale)
        self.policy = {"for_not_following": "accept", "for_not_followers": "accept",
                       "for_new_accounts": "accept",
                       "for_private_mentions": config.for_private_mentions,
                       "for_limited_accounts": "filter"}
        self.streams: list[Stream] = []
        self.refuse_streams = False
        self._last_id = 0
        self.reset()

    def reset(self) -> None:
        self.account = Person(self.config.account_id, self.config.account_username, None,
                              self.config.account_display_name, self.config.clock())
        self.people: dict[str, Person] = {self.account.id: self.account}
        self.statuses: dict[str, StatusRecord] = {}
        self.notifications: list[Notification] = []
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.idempotency: dict[str, str] = {}
        self.limiter.reset()

    # ids and people

    def next_id(self) -> str:
        """A snowflake-like id: milliseconds << 16, always growing."""
        candidate = int(self.config.clock() * 1000) << 16
        self._last_id = max(candidate, self._last_id + 1)
        return str(self._last_id)

    def person(self, username: str, domain: str | None = None,
               display_name: str | None = None) -> Person:
        domain = None if not domain or domain == self.config.domain else domain.lower()
        for known in self.people.values():
            if known.username.lower() == username.lower() and known.domain == domain:
                return known
        created = Person(self.next_id(), username, domain, display_name or username,
                         self.config.clock())
        self.people[created.id] = created
        return created

    def find_acct(self, acct: str) -> Person | None:
        username, _, domain = acct.lstrip("@").partition("@")
        domain = None if not domain or domain.lower() == self.config.domain else domain.lower()
        return next((p for p in self.people.values() if p.username.lower() == username.lower()
                     and p.domain == domain), None)

    # statuses

    def create_status(self, author: Person, text: str, visibility: str,
                      in_reply_to: StatusRecord | None) -> StatusRecord:
        mentions = []
        for match in MENTION_RE.finditer(text):
            found = self.find_acct(match.group(0))
            if found is not None and found not in mentions:
                mentions.append(found)
        tags = list(dict.fromkeys(m.group(1) for m in HASHTAG_RE.finditer(text)))
        status = StatusRecord(self.next_id(), author, text, visibility, self.config.clock(),
                              in_reply_to.id if in_reply_to else None,
                              in_reply_to.author.id if in_reply_to else None, mentions, tags)
        self.statuses[status.id] = status
        logger.info("mastodon_sandbox.status id=%s visibility=%s", status.id, visibility)
        if author is self.account:
            self.publish("update", status_json(status, self.config.domain), ("user",))
        elif self.account in mentions:
            self._notify(status)
        if visibility == "public":
            for tag in tags:
                self.publish("update", status_json(status, self.config.domain),
                             (f"hashtag:{tag.lower()}",))
        return status

    def _notify(self, status: StatusRecord) -> Notification:
        """A mention of the account; an unsolicited private mention is filtered when the
        policy says so (Mastodon >= 4.3): one not replying to a status of the account."""
        replied = self.statuses.get(status.in_reply_to_id or "")
        solicited = replied is not None and replied.author is self.account
        filtered = (status.visibility == "direct" and not solicited
                    and self.policy["for_private_mentions"] != "accept")
        if status.visibility == "direct" and not solicited \
                and self.policy["for_private_mentions"] == "drop":
            return Notification("", "mention", status.created_at, status, True)
        notification = Notification(self.next_id(), "mention", status.created_at, status,
                                    filtered)
        self.notifications.append(notification)
        if not filtered:
            self.publish("notification", self.notification_json(notification),
                         ("user", "user:notification"))
        return notification

    def notification_json(self, notification: Notification) -> dict[str, Any]:
        return notification_json(notification.id, notification.kind, notification.created_at,
                                 notification.status, self.config.domain)

    def visible_to_account(self, status: StatusRecord) -> bool:
        if status.author.gone:
            return False
        if status.author.blocks_account:
            return False
        return (status.visibility in ("public", "unlisted") or status.author is self.account
                or self.account in status.mentions)

    # streams

    def publish(self, event: str, payload: Any, kinds: tuple[str, ...]) -> None:
        for stream in self.streams:
            if stream.kind in kinds:
                stream.queue.put_nowait((event, payload))

    def drop_streams(self) -> int:
        count = len(self.streams)
        for stream in self.streams:
            stream.queue.put_nowait(None)
        return count

    # faults

    def take_fault(self, method: str, path: str, accts: set[str],
                   acct_only: bool = False) -> Fault | None:
        """The next fault for this request: one for a person (``acct``) matches only a send
        to them (``acct_only``: the statuses handler asks once it knows who); one without
        matches every request under its path prefix."""
        for fault in self.faults:
            if fault.path_prefix and not path.startswith(fault.path_prefix):
                continue
            if (fault.acct is not None) != acct_only:
                continue
            if fault.acct is not None and (method != "POST" or fault.acct.lower() not in accts):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            return fault
        return None
