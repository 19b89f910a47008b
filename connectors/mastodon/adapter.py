"""The Mastodon adapter (``channels/adapter.py``'s contract): the platform side of the
Mastodon channel, for the firm's account on one instance. Nothing durable here.

Intake: Mastodon signs no webhook for an account's direct messages, so nothing is pushed:
``verify_webhook`` is always False, and events come from the user stream
(``connectors/mastodon/stream.py``, whose notifications ``parse_webhook`` parses) or from
``poll`` (the account's ``mention`` notifications after a cursor, and the watched hashtags'
timelines). Mastodon.py is synchronous: every call runs in a thread, one at a time.

Mastodon (>= 4.3) filters unsolicited private mentions by default: :meth:`connect` sets the
account's policy to accept them, or the first message of every person would wait in the
filtered notifications, unseen.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mastodon import MastodonAPIError, MastodonError

from channels.outcomes import Delivery, GiveUp
from channels.store import InboxEvent
from connectors.mastodon import render as rendering
from connectors.mastodon.client import Client, make_client
from connectors.mastodon.config import MastodonSettings
from connectors.mastodon.payloads import (
    InboundStatus,
    MalformedPayload,
    inbox_rows,
    parse_notification,
    parse_status,
)
from connectors.mastodon.send import ACCOUNT_GONE, outcome_of, post_status
from connectors.mastodon.stream import streaming_base
from permanence import conversations

logger = logging.getLogger(__name__)

PAGE = 80  # the largest page of notifications Mastodon serves
TAG_PAGE = 40
KNOWN_PEOPLE = 10_000  # people whose handle and last status are kept in memory


@dataclass(frozen=True)
class Recipient:
    acct: str
    last_status_id: str | None


class MastodonAdapter:
    """Mastodon as a :class:`channels.adapter.ChannelAdapter`, for one account."""

    name = conversations.MASTODON

    def __init__(self, settings: MastodonSettings, client: Client, account_id: str,
                 account_acct: str, max_characters: int = rendering.DEFAULT_MAX_CHARACTERS,
                 streaming_url: str | None = None) -> None:
        self.settings = settings
        self.client = client
        self.account_id = account_id
        self.account_acct = account_acct
        self.max_characters = max_characters
        self.streaming_url = streaming_url or settings.base_url
        self._people: OrderedDict[str, Recipient] = OrderedDict()

    @classmethod
    async def connect(cls, settings: MastodonSettings, client: Client | None = None
                      ) -> MastodonAdapter:
        """Who the account is, the instance's limits and streaming server, and the policy
        that lets strangers' private mentions through (raises if the token is refused)."""
        client = client or make_client(settings)
        me = await _call(client, "account_verify_credentials")
        instance = await _call(client, "instance_v1")
        statuses = ((instance.get("configuration") or {}).get("statuses") or {})
        max_characters = int(statuses.get("max_characters") or rendering.DEFAULT_MAX_CHARACTERS)
        adapter = cls(settings, client, str(me["id"]), str(me["acct"]), max_characters,
                      streaming_base((instance.get("urls") or {}).get("streaming_api"),
                                     settings.base_url))
        await adapter.accept_private_mentions()
        return adapter

    async def accept_private_mentions(self) -> None:
        try:
            policy = await _call(self.client, "notifications_policy")
        except MastodonAPIError as exc:  # Mastodon < 4.3: no policy, nothing is filtered
            logger.info("mastodon.policy.unavailable status=%s", exc.args[1:2])
            return
        if policy.get("for_private_mentions") != "accept":
            logger.warning("mastodon.policy.private_mentions was=%s now=accept",
                           policy.get("for_private_mentions"))
            await _call(self.client, "update_notifications_policy",
                        for_private_mentions="accept")

    # intake

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        return False  # Mastodon pushes nothing signed for an account: stream or poll

    def parse_webhook(self, raw: bytes) -> list[InboxEvent]:
        """The rows of one streamed notification (the ``data`` of ``event: notification``)."""
        try:
            body = json.loads(raw)
        except ValueError:
            raise MalformedPayload("not JSON") from None
        status = parse_notification(body)
        return self._rows([status] if status else [])

    async def poll(self, client: Any, cursor: str | None
                   ) -> tuple[list[InboxEvent], str | None]:
        """One round: the mentions after the cursor (oldest first, at most a page), and the
        watched hashtags' posts after theirs. The cursor is JSON: ``{"n": <notification
        id>, "t": {tag: <status id>}}``; without one, the newest page only (no history)."""
        state = json.loads(cursor) if cursor else {"n": None, "t": {}}
        since = {"min_id": state["n"]} if state.get("n") else {}
        page = await _call(self.client, "notifications", types=["mention"], limit=PAGE, **since)
        statuses = [s for s in (parse_notification(n) for n in reversed(page)) if s]
        # Read once, even empty, the cursor is pinned: "0" is "from the start", not "newest".
        state["n"] = str(page[0]["id"]) if page else state.get("n") or "0"
        for tag in self.settings.hashtags:
            since = {"min_id": state["t"][tag]} if state["t"].get(tag) else {}
            posts = await _call(self.client, "timeline_hashtag", tag, limit=TAG_PAGE, **since)
            statuses.extend(parse_status(p) for p in reversed(posts))
            state["t"][tag] = str(posts[0]["id"]) if posts else state["t"].get(tag) or "0"
        return self._rows(statuses), json.dumps(state, sort_keys=True)

    def _rows(self, statuses: list[InboundStatus]) -> list[InboxEvent]:
        for status in statuses:
            if status.account_id != self.account_id and status.mentions_account(self.account_id):
                self.remember(status.account_id, status.acct, status.status_id)
        return inbox_rows(statuses, self.account_id, self.settings.hashtags)

    def remember(self, account_id: str, acct: str, last_status_id: str | None) -> None:
        """Whom to address and which status to answer (the person's last one to us)."""
        self._people[account_id] = Recipient(acct, last_status_id)
        self._people.move_to_end(account_id)
        while len(self._people) > KNOWN_PEOPLE:
            self._people.popitem(last=False)

    # output

    async def send(self, recipient_id: str, text: str,
                   idempotency_key: str | None = None) -> Delivery:
        """One direct status to the person, in reply to their last status when known (a
        person who blocked the account, or deleted it, then gets nothing: 404, GiveUp).
        ``idempotency_key``: the same key sent again (a retry after a timeout, a restart)
        gets the status Mastodon already created, never a second one."""
        recipient = self._people.get(recipient_id)
        if recipient is None:
            try:
                account = await _call(self.client, "account", recipient_id)
            except MastodonError as exc:
                outcome = outcome_of(exc, self.client.api.ratelimit_reset)
                if isinstance(outcome, GiveUp):
                    outcome = GiveUp(outcome.reason_code, ACCOUNT_GONE)
                return Delivery(outcome, dict(self.client.last_headers), self.client.last_status)
            recipient = Recipient(str(account["acct"]), None)
            self.remember(recipient_id, recipient.acct, None)
        return await _locked(self.client, post_status, self.client,
                             rendering.addressed(recipient.acct, text),
                             recipient.last_status_id, "direct", idempotency_key)

    async def invite(self, post: InboundStatus, visibility: str,
                     idempotency_key: str | None = None) -> Delivery:
        """The public invitation, in reply to a post that mentions the account."""
        text = rendering.invitation_text(post.acct, self.account_acct)
        return await _locked(self.client, post_status, self.client, text, post.status_id,
                             visibility, idempotency_key)

    def render(self, messages: Sequence[Mapping[str, Any]]) -> list[str]:
        return rendering.render(messages, self.max_characters)

    def is_own_echo(self, event: Any) -> bool:
        if isinstance(event, InboundStatus):
            return event.account_id == self.account_id
        if isinstance(event, InboxEvent):
            return event.sender_id == self.account_id
        return False


async def _locked(client: Client, function: Any, *args: Any, **kwargs: Any) -> Any:
    def run() -> Any:
        with client.lock:
            return function(*args, **kwargs)

    return await asyncio.to_thread(run)


async def _call(client: Client, method: str, *args: Any, **kwargs: Any) -> Any:
    return await _locked(client, client.call, method, *args, **kwargs)
