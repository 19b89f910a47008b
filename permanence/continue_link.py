"""The link that lets a person on X continue the same conversation on the web chat (pure).

When the account's DM budget (X: 15 DMs per 15 minutes) would make a person wait longer than
``PERMANENCE_CONTINUE_AFTER_SECONDS`` (default 300) for the assistant's next answer, the DM
that does go out to them ends with one short French line (:data:`LINE`) and a personal link:

    <base>/chat?continue=<token>

``<base>`` is ``PERMANENCE_CONTINUE_BASE_URL``, else the first origin of
``PERMANENCE_PUBLIC_ORIGIN`` (the web chat's public address). ``<token>`` is
``<token id>.<expiry, epoch seconds>.<signature>``: a random id (22 URL-safe characters),
when it stops being valid (default 2 hours after it was issued,
``PERMANENCE_CONTINUE_TTL_SECONDS``) and the HMAC-SHA256, keyed by
``PERMANENCE_CONTINUE_SECRET``, of the id, the expiry and the conversation id (``x:<X user
id>``). The conversation id is not in the link (an X user id in a URL would say who wrote to
the firm): the store (``permanence/continue_store.py``) keeps it under the token id, and the
signature binds the two, so a token is only good for the conversation it was issued for. The
store also makes it single-use. :func:`find_continue_token` finds the token in a DM's text (for
tests and the bench's simulated people).

The feature is off unless the firm configures it (:func:`from_env`): setting
``PERMANENCE_CONTINUE_SECRET`` or ``PERMANENCE_CONTINUE_BASE_URL`` turns it on, and then both a
secret of at least 32 characters and a base URL are required (a clear error at start-up
otherwise). A link must point to the firm's real public web chat, and a token must be
unforgeable: neither has a safe default.

:func:`should_offer` is the decision, :func:`next_answer_wait` the estimate it is given: how
long the person's next answer would wait for the budget, counting the DMs queued ahead of it
(``permanence/x_budget.py`` ``Budget.estimated_wait``). Once per conversation: the store
remembers that the link was offered. The estimate is in real seconds, the window's length
learnt from X's headers: against an emulator at a time scale (``X_SANDBOX_TIME_SCALE=60``: a
15-minute window lasts 15 s), scale ``PERMANENCE_CONTINUE_AFTER_SECONDS`` likewise (5 for 5
minutes). To follow a link from a test or a bench: ``find_continue_token(dm_text)``, then a
socket.io ``session_request`` with ``{"continue": token}`` (``connectors/webchat.py``).

Never log a token or a conversation id (``permanence/logids.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from permanence.x_budget import Budget

SECRET_ENV = "PERMANENCE_CONTINUE_SECRET"  # noqa: S105 - a variable name
BASE_URL_ENV = "PERMANENCE_CONTINUE_BASE_URL"
AFTER_ENV = "PERMANENCE_CONTINUE_AFTER_SECONDS"
TTL_ENV = "PERMANENCE_CONTINUE_TTL_SECONDS"
PUBLIC_ORIGIN_ENV = "PERMANENCE_PUBLIC_ORIGIN"

DEFAULT_AFTER_SECONDS = 300.0
DEFAULT_TTL_SECONDS = 7200.0
MIN_SECRET_LENGTH = 32
VERSION = b"permanence-continue-v1"

LINE = ("Beaucoup de messages en ce moment : pour continuer sans attendre, écrivez-moi ici : "
        "{link} (lien personnel, à usage unique). Vous pouvez aussi rester sur X.")

_TOKEN = re.compile(r"([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
_IN_TEXT = re.compile(r"[?&]continue=([A-Za-z0-9_-]{22}\.[0-9]{1,12}\.[A-Za-z0-9_-]{43})"
                      r"(?![A-Za-z0-9_.-])")

# Why a token is refused (never shown to the person as such: they get one French message).
MALFORMED, UNKNOWN, SIGNATURE = "malformed", "unknown", "signature"
EXPIRED, USED = "expired", "used"


class Refused(ValueError):
    """A token that opens nothing; ``reason`` is one of the constants above."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Settings:
    secret: bytes
    base_url: str
    after_seconds: float = DEFAULT_AFTER_SECONDS
    ttl_seconds: float = DEFAULT_TTL_SECONDS

    def link(self, token: str) -> str:
        return f"{self.base_url}/chat?continue={token}"

    def __repr__(self) -> str:  # never the secret
        return (f"Settings(base_url={self.base_url!r}, after_seconds={self.after_seconds}, "
                f"ttl_seconds={self.ttl_seconds})")


@dataclass(frozen=True)
class Token:
    token: str  # what goes in the link
    token_id: str  # what the store keeps
    expires_at: datetime


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds") from None
    if not 0 < value <= 7 * 86_400:
        raise ValueError(f"{name} must be more than 0 and at most 7 days")
    return value


def _base_url(value: str, name: str) -> str:
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"{name}: not a base URL (scheme://host[:port][/path])")
    return value


def from_env(env: Mapping[str, str] | None = None) -> Settings | None:
    """The settings, or None when the firm has not turned the feature on (neither
    ``PERMANENCE_CONTINUE_SECRET`` nor ``PERMANENCE_CONTINUE_BASE_URL`` set). On, a missing
    or short secret, or no base URL at all, raises ValueError naming the variable."""
    env = os.environ if env is None else env
    secret = env.get(SECRET_ENV) or ""
    base = (env.get(BASE_URL_ENV) or "").strip()
    if not secret and not base:
        return None
    if not secret:
        raise ValueError(f"{SECRET_ENV} is not set: the link to continue on the web chat "
                         f"({BASE_URL_ENV} is set) needs a secret to sign its tokens")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters")
    if base:
        base = _base_url(base, BASE_URL_ENV)
    else:
        origins = [o.strip() for o in (env.get(PUBLIC_ORIGIN_ENV) or "").split(",") if o.strip()]
        if not origins:
            raise ValueError(f"{SECRET_ENV} is set but neither {BASE_URL_ENV} nor "
                             f"{PUBLIC_ORIGIN_ENV} says where the web chat is")
        base = _base_url(origins[0], PUBLIC_ORIGIN_ENV)
    return Settings(secret.encode(), base, _seconds(env, AFTER_ENV, DEFAULT_AFTER_SECONDS),
                    _seconds(env, TTL_ENV, DEFAULT_TTL_SECONDS))


# ------------------------------------------------------------------ tokens


def _signature(secret: bytes, token_id: str, expires: int, conversation_id: str) -> str:
    message = b"\x00".join((VERSION, token_id.encode(), str(expires).encode(),
                            conversation_id.encode()))
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def mint(secret: bytes, conversation_id: str, now: datetime,
         ttl_seconds: float = DEFAULT_TTL_SECONDS) -> Token:
    """A new token for ``conversation_id``, valid ``ttl_seconds`` from ``now``."""
    token_id = secrets.token_urlsafe(16)
    expires = int((now + timedelta(seconds=ttl_seconds)).timestamp())
    signature = _signature(secret, token_id, expires, conversation_id)
    return Token(f"{token_id}.{expires}.{signature}", token_id,
                 datetime.fromtimestamp(expires, timezone.utc))


def token_id_of(token: object) -> str:
    """The token's id (to look its conversation up); raises :class:`Refused` (``malformed``)."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise Refused(MALFORMED)
    return match.group(1)


def verify(secret: bytes, token: object, conversation_id: str, now: datetime) -> str:
    """The token's id if ``token`` was signed with ``secret`` for ``conversation_id`` and has
    not expired at ``now``; raises :class:`Refused` (``malformed``, ``signature``: forged or
    for another conversation, ``expired``). Whether it was used is the store's to say."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise Refused(MALFORMED)
    token_id, expires, signature = match.group(1), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(signature, _signature(secret, token_id, expires,
                                                     conversation_id)):
        raise Refused(SIGNATURE)
    if now.timestamp() >= expires:
        raise Refused(EXPIRED)
    return token_id


def find_continue_token(text: object) -> str | None:
    """The token of the first continue link in ``text`` (a DM), or None."""
    if not isinstance(text, str):
        return None
    match = _IN_TEXT.search(text)
    return match.group(1) if match else None


# ---------------------------------------------------------------- the decision


def next_answer_wait(budget: Budget, ahead: int, now: datetime) -> float | None:
    """Seconds the person's next answer would wait for the DM budget: ``ahead`` DMs queued
    before it, then it (None: the budget is not known yet)."""
    return budget.estimated_wait(max(ahead, 0) + 1, now)


def should_offer(wait_seconds: float | None, after_seconds: float, offered: bool) -> bool:
    """Offer the link when the wait is known and longer than ``after_seconds``, once."""
    return not offered and wait_seconds is not None and wait_seconds > after_seconds


def with_link(text: str, link: str) -> str:
    """The DM's text followed by the line with the link."""
    return f"{text}\n\n{LINE.format(link=link)}"
