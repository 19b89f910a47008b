"""Mastodon's JSON (Notification, Status entities) into small frozen dataclasses, and those
into inbox rows. Pure: the only module that knows how Mastodon shapes a status.

A status's ``content`` is HTML: :func:`html_to_text` gives the text a person typed (paragraphs
and line breaks kept, entities unescaped, links as their full URL), and
:func:`strip_leading_mentions` removes the ``@account`` mentions a direct message starts with.
A body of the wrong shape raises :class:`MalformedPayload`, whose message names the path and
the JSON type, never the content (it is confidential).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, Literal

from channels.store import InboxEvent

MAX_CONTENT_CHARS = 1_000_000  # HTML longer than this is refused, not parsed
VISIBILITIES = ("public", "unlisted", "private", "direct")
Kind = Literal["dm", "mention", "hashtag", "other"]
_ID = re.compile(r"[0-9A-Za-z]{1,40}")
_LEADING_MENTION = re.compile(r"\s*@[A-Za-z0-9_]+(?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[\w.-]+\w)?")
_ODD = re.compile("[\x00\ud800-\udfff]")
_BLOCKS = ("p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6")


class MalformedPayload(ValueError):
    """Not the shape Mastodon documents."""


@dataclass(frozen=True)
class InboundStatus:
    """A status that reached the account (a direct message, a mention, a hashtag post)."""

    status_id: str
    account_id: str  # the author's id on the account's instance
    acct: str  # ``user`` (same instance) or ``user@domain``
    text: str  # plain text, the leading mentions removed
    visibility: str
    mentions: tuple[str, ...]  # ids of the accounts mentioned
    hashtags: tuple[str, ...]  # lower case, without #
    in_reply_to_id: str | None
    created_at: datetime | None
    url: str | None
    notification_id: str | None = None

    def mentions_account(self, account_id: str) -> bool:
        return account_id in self.mentions


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """The text of a status's HTML: ``<br>`` a line break, a paragraph a blank line, entities
    unescaped, tags dropped (a link's text is its URL: Mastodon hides parts of it in spans)."""
    if len(content) > MAX_CONTENT_CHARS:
        raise MalformedPayload("status.content: too long")
    parser = _Text()
    parser.feed(content)
    parser.close()
    text = "".join(parser.parts).replace("\r\n", "\n").replace("\r", "\n")
    text = _ODD.sub("\ufffd", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def strip_leading_mentions(text: str) -> str:
    """``"@firm @lawyer@x.fr Bonjour"`` -> ``"Bonjour"`` (mentions inside the text stay)."""
    position = 0
    while True:
        match = _LEADING_MENTION.match(text, position)
        if match is None or (match.end() < len(text) and not text[match.end()].isspace()):
            break
        position = match.end()
    return text[position:].strip()


def _get(obj: Any, key: str, kind: type | tuple[type, ...], path: str, optional=False) -> Any:
    if not isinstance(obj, dict):
        raise MalformedPayload(f"{path}: expected an object, got {type(obj).__name__}")
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedPayload(f"{path}.{key}: unexpected {type(value).__name__}")
    return value


def _id(obj: Any, key: str, path: str, optional: bool = False) -> str | None:
    value = _get(obj, key, (str, int), path, optional)
    if value is None:
        return None
    if not _ID.fullmatch(str(value)):
        raise MalformedPayload(f"{path}.{key}: not an id")
    return str(value)


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_status(obj: Any, path: str = "status") -> InboundStatus:
    account = _get(obj, "account", dict, path)
    visibility = _get(obj, "visibility", str, path)
    if visibility not in VISIBILITIES:
        raise MalformedPayload(f"{path}.visibility: unknown value")
    mentions = _get(obj, "mentions", list, path, optional=True) or []
    tags = _get(obj, "tags", list, path, optional=True) or []
    url = obj.get("url")
    return InboundStatus(
        status_id=_id(obj, "id", path), account_id=_id(account, "id", f"{path}.account"),
        acct=_get(account, "acct", str, f"{path}.account"),
        text=strip_leading_mentions(html_to_text(_get(obj, "content", str, path))),
        visibility=visibility,
        mentions=tuple(_id(m, "id", f"{path}.mentions[]") for m in mentions),
        hashtags=tuple(str(_get(t, "name", str, f"{path}.tags[]")).lower() for t in tags),
        in_reply_to_id=_id(obj, "in_reply_to_id", path, optional=True),
        created_at=_time(obj.get("created_at")), url=url if isinstance(url, str) else None)


def parse_notification(obj: Any) -> InboundStatus | None:
    """The status of a ``mention`` notification; None for every other type (follows,
    favourites...), which the channel does not handle."""
    kind = _get(obj, "type", str, "notification")
    if kind != "mention":
        return None
    status = parse_status(_get(obj, "status", dict, "notification"), "notification.status")
    return InboundStatus(**{**status.__dict__,
                            "notification_id": _id(obj, "id", "notification")})


def classify(status: InboundStatus, account_id: str, watched: tuple[str, ...]) -> Kind:
    """``dm``: a direct status mentioning the account; ``mention``: any other status that
    mentions it; ``hashtag``: a public or unlisted status with a watched hashtag and no
    mention of the account; ``other``: the account's own statuses and the rest."""
    if status.account_id == account_id:
        return "other"
    if status.mentions_account(account_id):
        return "dm" if status.visibility == "direct" else "mention"
    if status.visibility in ("public", "unlisted") and set(status.hashtags) & set(watched):
        return "hashtag"
    return "other"


def dm_event_id(status_id: str) -> str:
    return f"dm:{status_id}"


def post_event_id(status_id: str) -> str:
    return f"post:{status_id}"


def inbox_rows(statuses: list[InboundStatus], account_id: str, watched: tuple[str, ...]
               ) -> list[InboxEvent]:
    """The rows of the statuses meant for us, in order. A public post's text is never kept
    (the public answer never depends on it). The store's kind of a public post is ``tweet``
    (its two kinds are ``dm`` and ``tweet``)."""
    rows = []
    for status in statuses:
        kind = classify(status, account_id, watched)
        created = status.created_at.isoformat() if status.created_at else None
        if kind == "dm":
            rows.append(InboxEvent(dm_event_id(status.status_id), "dm", status.account_id, {
                "text": status.text, "acct": status.acct, "status_id": status.status_id,
                "created_at": created}))
        elif kind in ("mention", "hashtag"):
            rows.append(InboxEvent(post_event_id(status.status_id), "tweet", status.account_id, {
                "status_id": status.status_id, "acct": status.acct, "kind": kind,
                "visibility": status.visibility, "hashtags": list(status.hashtags),
                "url": status.url, "created_at": created}))
    return rows
