"""Mastodon's JSON entities (Account, Status, Notification, Instance v1/v2) and the HTML a
status's ``content`` has, built as Mastodon builds them (docs.joinmastodon.org/entities)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from .ratelimit import iso

# Mastodon's Account::MENTION_RE and Tag::HASHTAG_RE, simplified to ASCII names.
MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@([\w.-]+\w+))?", re.IGNORECASE)
HASHTAG_RE = re.compile(r"(?<![=/)\w])#(\w*[^\W\d_]\w*)")
URL_RE = re.compile(r"https?://[^\s<>\"]+")


@dataclass
class Person:
    id: str
    username: str
    domain: str | None  # None: an account of this instance
    display_name: str
    created_at: float
    blocks_account: bool = False  # the person blocked the firm's account
    gone: bool = False  # deleted or suspended

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass
class StatusRecord:
    id: str
    author: Person
    text: str  # the plain text as written
    visibility: str
    created_at: float
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    mentions: list[Person] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def account_json(person: Person, instance_domain: str) -> dict[str, Any]:
    host = person.domain or instance_domain
    url = f"https://{host}/@{person.username}"
    return {
        "id": person.id, "username": person.username, "acct": person.acct,
        "display_name": person.display_name, "locked": False, "bot": False,
        "discoverable": True, "group": False, "created_at": iso_day(person.created_at),
        "note": "", "url": url, "uri": f"https://{host}/users/{person.username}",
        "avatar": f"https://{instance_domain}/avatars/original/missing.png",
        "avatar_static": f"https://{instance_domain}/avatars/original/missing.png",
        "header": f"https://{instance_domain}/headers/original/missing.png",
        "header_static": f"https://{instance_domain}/headers/original/missing.png",
        "followers_count": 0, "following_count": 0, "statuses_count": 0,
        "last_status_at": None, "emojis": [], "fields": [],
    }


def iso_day(epoch: float) -> str:
    return iso(epoch)[:10] + "T00:00:00.000Z"


def content_html(text: str, mentions: dict[str, Person], instance_domain: str) -> str:
    """``text`` as Mastodon's ``content``: paragraphs, ``<br />``, linked mentions, hashtags
    and URLs, the rest escaped."""

    def inline(line: str) -> str:
        out, position = [], 0
        pattern = re.compile(f"{MENTION_RE.pattern}|{HASHTAG_RE.pattern}|{URL_RE.pattern}",
                             re.IGNORECASE)
        for match in pattern.finditer(line):
            out.append(html.escape(line[position:match.start()], quote=False))
            token = match.group(0)
            if token.startswith("@") and token.lower().lstrip("@") in mentions:
                person = mentions[token.lower().lstrip("@")]
                host = person.domain or instance_domain
                out.append(f'<span class="h-card" translate="no"><a href="https://{host}/@'
                           f'{person.username}" class="u-url mention">@<span>'
                           f'{html.escape(person.username)}</span></a></span>')
            elif token.startswith("#"):
                tag = token[1:]
                out.append(f'<a href="https://{instance_domain}/tags/{html.escape(tag.lower())}'
                           f'" class="mention hashtag" rel="tag">#<span>{html.escape(tag)}'
                           '</span></a>')
            elif token.startswith("http"):
                scheme, _, rest = token.partition("://")
                shown, hidden = rest[:30], rest[30:]
                out.append(f'<a href="{html.escape(token)}" target="_blank" rel="nofollow '
                           'noopener noreferrer" translate="no"><span class="invisible">'
                           f'{scheme}://</span><span class="{"ellipsis" if hidden else ""}">'
                           f'{html.escape(shown)}</span><span class="invisible">'
                           f'{html.escape(hidden)}</span></a>')
            else:  # an unknown account: left as text
                out.append(html.escape(token, quote=False))
            position = match.end()
        out.append(html.escape(line[position:], quote=False))
        return "".join(out)

    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return "".join("<p>" + "<br />".join(inline(line) for line in paragraph.split("\n"))
                   + "</p>" for paragraph in paragraphs if paragraph)


def status_json(status: StatusRecord, instance_domain: str) -> dict[str, Any]:
    author = status.author
    host = author.domain or instance_domain
    mentions = {p.acct.lower(): p for p in status.mentions}
    mentions.update({p.username.lower(): p for p in status.mentions if p.domain is None})
    return {
        "id": status.id, "created_at": iso(status.created_at),
        "in_reply_to_id": status.in_reply_to_id,
        "in_reply_to_account_id": status.in_reply_to_account_id,
        "sensitive": False, "spoiler_text": "", "visibility": status.visibility,
        "language": "fr", "uri": f"https://{host}/users/{author.username}/statuses/{status.id}",
        "url": f"https://{host}/@{author.username}/{status.id}",
        "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "edited_at": None,
        "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
        "pinned": False, "content": content_html(status.text, mentions, instance_domain),
        "filtered": [], "reblog": None,
        "application": {"name": "Web", "website": None},
        "account": account_json(author, instance_domain), "media_attachments": [],
        "mentions": [{"id": p.id, "username": p.username, "acct": p.acct,
                      "url": f"https://{p.domain or instance_domain}/@{p.username}"}
                     for p in status.mentions],
        "tags": [{"name": tag.lower(), "url": f"https://{instance_domain}/tags/{tag.lower()}"}
                 for tag in status.tags],
        "emojis": [], "card": None, "poll": None,
    }


def notification_json(notification_id: str, kind: str, created_at: float, status: StatusRecord,
                      instance_domain: str) -> dict[str, Any]:
    return {"id": notification_id, "type": kind, "created_at": iso(created_at),
            "group_key": f"ungrouped-{notification_id}",
            "account": account_json(status.author, instance_domain),
            "status": status_json(status, instance_domain)}


def instance_v1(config: Any, streaming_url: str) -> dict[str, Any]:
    return {
        "uri": config.domain, "title": config.title, "short_description": "",
        "description": "", "email": f"admin@{config.domain}", "version": config.version,
        "urls": {"streaming_api": streaming_url}, "stats": {"user_count": 1,
                                                            "status_count": 0,
                                                            "domain_count": 1},
        "thumbnail": None, "languages": ["fr"], "registrations": False,
        "approval_required": False, "invites_enabled": False,
        "configuration": _configuration(config),
        "contact_account": None, "rules": [],
    }


def instance_v2(config: Any, streaming_url: str) -> dict[str, Any]:
    return {
        "domain": config.domain, "title": config.title, "version": config.version,
        "source_url": "https://github.com/mastodon/mastodon", "description": "",
        "usage": {"users": {"active_month": 1}}, "thumbnail": {"url": ""},
        "languages": ["fr"], "api_versions": {"mastodon": 2},
        "configuration": {**_configuration(config), "urls": {"streaming": streaming_url}},
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": f"admin@{config.domain}", "account": None}, "rules": [],
    }


def _configuration(config: Any) -> dict[str, Any]:
    return {"statuses": {"max_characters": config.max_characters,
                         "max_media_attachments": 4, "characters_reserved_per_url": 23},
            "accounts": {"max_featured_tags": 10}}
