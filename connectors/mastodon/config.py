"""The Mastodon channel's settings, from the environment only (the token is a secret).

``MASTODON_BASE_URL`` (the instance, ``https://…``; ``http://`` only on loopback) and
``MASTODON_ACCESS_TOKEN`` (the firm's account, scopes ``read write``) go together: neither
means the channel is off (:func:`from_env` returns None), one without the other is an error
naming the missing key. ``MASTODON_HASHTAGS`` (comma-separated, without ``#``): the hashtags
watched; ``MASTODON_INVITATION_PERIOD_HOURS`` (24): at most one public invitation per person
and period; ``MASTODON_INTAKE`` (``stream``, or ``polling``); ``MASTODON_POLL_SECONDS`` (30).

The durable runtime's (``connectors/mastodon/runtime.py``), rarely changed:
``MASTODON_WORKERS`` (4) and ``MASTODON_SENDERS`` (2); ``MASTODON_LIVENESS_SECONDS`` (30: a
server silent this long is taken for dead, its messages handled again);
``MASTODON_SEND_RETRY_SECONDS`` (5: the first wait after a failed send, doubling);
``MASTODON_LEASE_SECONDS`` (30: one stream reader and one poller per database);
``MASTODON_STREAM_RETRY_SECONDS`` (1: the first wait after a broken stream, doubling).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

BASE_URL_ENV = "MASTODON_BASE_URL"
TOKEN_ENV = "MASTODON_ACCESS_TOKEN"  # noqa: S105 (the variable's name)
HASHTAGS_ENV = "MASTODON_HASHTAGS"
PERIOD_ENV = "MASTODON_INVITATION_PERIOD_HOURS"
INTAKE_ENV = "MASTODON_INTAKE"
POLL_ENV = "MASTODON_POLL_SECONDS"
WORKERS_ENV = "MASTODON_WORKERS"
SENDERS_ENV = "MASTODON_SENDERS"
LIVENESS_ENV = "MASTODON_LIVENESS_SECONDS"
SEND_RETRY_ENV = "MASTODON_SEND_RETRY_SECONDS"
LEASE_ENV = "MASTODON_LEASE_SECONDS"
STREAM_RETRY_ENV = "MASTODON_STREAM_RETRY_SECONDS"
INTAKES = ("stream", "polling")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_HASHTAG = re.compile(r"\w{1,100}")


class MastodonConfigError(ValueError):
    """The channel's settings are incomplete or wrong (the message names the key, never a
    value)."""


@dataclass(frozen=True)
class MastodonSettings:
    base_url: str
    access_token: str = field(repr=False)
    hashtags: tuple[str, ...] = ()
    invitation_period_hours: float = 24.0
    intake: str = "stream"
    poll_seconds: float = 30.0
    request_timeout: float = 30.0
    # the durable runtime's (channels/runtime.py, sender.py)
    workers: int = 4
    senders: int = 2
    liveness_seconds: float = 30.0
    stale_after_seconds: float = 300.0
    send_retry_seconds: float = 5.0
    lease_seconds: float = 30.0
    stream_retry_seconds: float = 1.0
    budget_margin_seconds: float = 1.0
    budget_pace_burst: int | None = None


def check_base_url(raw: str) -> str:
    """The instance's origin: https, or http on loopback (the emulator); no path or query."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise MastodonConfigError(f"{BASE_URL_ENV} must be an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise MastodonConfigError(f"{BASE_URL_ENV} must use https (http only on loopback)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise MastodonConfigError(f"{BASE_URL_ENV} must be the instance's origin only")
    return f"{parts.scheme}://{parts.netloc}"


def _positive(env: Mapping[str, str], key: str, default: float) -> float:
    raw = (env.get(key) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise MastodonConfigError(f"{key} must be a number") from None
    if not value > 0:
        raise MastodonConfigError(f"{key} must be positive")
    return value


def hashtags(raw: str) -> tuple[str, ...]:
    tags = [tag.strip().lstrip("#").lower() for tag in re.split(r"[,\s]+", raw) if tag.strip()]
    for tag in tags:
        if not _HASHTAG.fullmatch(tag):
            raise MastodonConfigError(f"{HASHTAGS_ENV}: not a hashtag")
    return tuple(dict.fromkeys(tags))


def from_env(environ: Mapping[str, str] | None = None) -> MastodonSettings | None:
    """The settings, None when the channel is not configured at all."""
    env = os.environ if environ is None else environ
    base_url = (env.get(BASE_URL_ENV) or "").strip()
    token = (env.get(TOKEN_ENV) or "").strip()
    if not base_url and not token:
        return None
    if not base_url or not token:
        missing = BASE_URL_ENV if not base_url else TOKEN_ENV
        raise MastodonConfigError(f"mastodon channel: {missing} is not set (the channel is "
                                  "half configured and does not start)")
    intake = (env.get(INTAKE_ENV) or "stream").strip()
    if intake not in INTAKES:
        raise MastodonConfigError(f"{INTAKE_ENV} must be one of {', '.join(INTAKES)}")
    return MastodonSettings(
        base_url=check_base_url(base_url), access_token=token,
        hashtags=hashtags(env.get(HASHTAGS_ENV) or ""),
        invitation_period_hours=_positive(env, PERIOD_ENV, 24.0), intake=intake,
        poll_seconds=_positive(env, POLL_ENV, 30.0),
        workers=int(_positive(env, WORKERS_ENV, 4)), senders=int(_positive(env, SENDERS_ENV, 2)),
        liveness_seconds=_positive(env, LIVENESS_ENV, 30.0),
        send_retry_seconds=_positive(env, SEND_RETRY_ENV, 5.0),
        lease_seconds=_positive(env, LEASE_ENV, 30.0),
        stream_retry_seconds=_positive(env, STREAM_RETRY_ENV, 1.0))
