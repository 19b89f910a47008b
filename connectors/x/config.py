"""The X channel's settings, read from the ``connectors.x.XInput:`` section of the credentials.

See ``credentials.x.yml``. Secrets are never shown in ``repr`` or logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.x.client import X_API_ORIGIN, XApiClient, check_api_base_url
from permanence.x_costs import CostMeter, PricesError, prices_file

REQUIRED_SECRETS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
MODES = ("webhook", "polling", "stream")
DEFAULT_HASHTAGS = ("droitautweet",)
# The public invitation carries the link to DM the account only when asked: X bills a post
# with a URL $0.20 instead of $0.01 (X-API-2026.md). Credentials key, else this variable.
DM_LINK_ENV = "X_INVITATION_DM_LINK"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
_ID = re.compile(r"[0-9]{1,20}")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")


class XConfigError(ValueError):
    """The credentials section of the X channel is incomplete or wrong."""


def _text(credentials: Mapping[str, Any], key: str) -> str | None:
    value = credentials.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise XConfigError(f"x channel: `{key}` must be a string")
    value = str(value).strip()
    return value or None


@dataclass(frozen=True)
class XSettings:
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    mode: str = "webhook"
    hashtags: tuple[str, ...] = DEFAULT_HASHTAGS
    api_base_url: str = X_API_ORIGIN
    account_id: str | None = None
    account_username: str | None = None
    invitation_period_hours: float = 24.0
    # Whether the public invitation carries the link to DM the account (a post with a URL:
    # $0.20 on X's pay-per-use prices, against $0.01 for a reply without).
    invitation_dm_link: bool = False
    # X's prices (permanence/x_costs.py): a limits file with a prices_usd section.
    prices_file: str = field(default_factory=lambda: str(prices_file()))
    # Conversations handled at once (one person's messages are always handled in order).
    workers: int = 16
    # Replies sent at once, to different people (one person's replies always go in order).
    senders: int = 4
    # The DM budget (permanence/x_budget.py): after a spent window's reset, the senders wait
    # this long more before sending (the clocks of X and of this server may differ).
    budget_margin_seconds: float = 1.0
    # The DM budget's pace (permanence/x_budget.py, Budget.paced_until): a reply to someone
    # already answered goes no faster than the window's average rate beyond this many DMs, so
    # that newcomers find DMs for their first answers during a rush; None (`off`): unpaced.
    budget_pace_burst: int | None = 3
    # When set, webhooks are also served on this loopback port by a thread of their own, so that
    # acknowledging X never waits behind inference on Rasa's event loop (connectors/x/ingress.py).
    ingress_port: int | None = None
    ingress_host: str = "127.0.0.1"
    max_body_bytes: int = 1_000_000
    # An inbox item claimed longer ago than this is taken to belong to a dead process.
    stale_after_seconds: float = 300.0
    # A server process that has not renewed its liveness lease for this long is taken for dead:
    # the messages it was handling go back to the queue (kill -9, power loss).
    liveness_seconds: float = 30.0
    # Polling mode (connectors/x/polling.py). DMs: GET /2/dm_events allows 15 requests per
    # 15 minutes since 2026 (one a minute); mentions and hashtag search 450 each (one every 2 s).
    poll_interval_seconds: float = 60.0
    poll_tweets_interval_seconds: float = 10.0
    # Only one process polls (or reads the stream): the holder of a database lease that lasts
    # this long unless renewed; another process takes over at most this long after it died.
    poll_lease_seconds: float = 30.0
    # Stream mode (connectors/x/stream.py): reconnect when nothing, not even X's keep-alive
    # (every 20 s at most), arrived for this long; after an HTTP error, wait this long first
    # (doubling up to 320 s, X's handling-disconnections.mdx).
    stream_idle_seconds: float = 30.0
    stream_retry_seconds: float = 5.0
    # A reply X refused with a 5xx (or lost to the network) is sent again after this long,
    # doubling at each failure (permanence/x_store.py: backoff_delay).
    send_retry_seconds: float = 5.0
    # On the very first start, DMs and tweets of the last this-many seconds are answered (the
    # stream: at most the 5 minutes X keeps).
    poll_backfill_seconds: float = 600.0
    # An event X dated more than this long ago is not answered, whichever way it came (a
    # webhook replayed after retention pruned its dedupe row, a poller back after days); nor
    # one dated more than max_event_skew_seconds ahead of this server's clock.
    max_event_age_seconds: float = 86_400.0
    max_event_skew_seconds: float = 300.0
    # The CRC route (GET /webhooks/x/webhook) of each server answers a burst of crc_burst
    # requests, then crc_per_second on average (429 beyond); X sends one an hour.
    crc_per_second: float = 1.0
    crc_burst: int = 10

    def cost_meter(self) -> CostMeter:
        """What the channel's calls cost, at the prices of ``prices_file``."""
        return CostMeter.from_file(self.prices_file)

    def api_client(self) -> XApiClient:
        """A client of the X API with these credentials, sent to ``api_base_url``; create it
        inside the event loop that will use it (its HTTP session belongs to that loop)."""
        return XApiClient(
            api_base_url=self.api_base_url,
            consumer_key=self.consumer_key,
            consumer_secret=self.consumer_secret,
            access_token=self.access_token,
            access_token_secret=self.access_token_secret,
            bearer_token=self.bearer_token,
        )

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> XSettings:
        credentials = credentials or {}
        secrets = {key: _text(credentials, key) for key in REQUIRED_SECRETS}
        missing = [key for key, value in secrets.items() if not value]
        if missing:
            raise XConfigError(
                "x channel: missing credentials " + ", ".join(missing)
                + " (set them under `connectors.x.XInput:` in the credentials file, "
                "see credentials.x.yml)")
        mode = _text(credentials, "mode") or "webhook"
        if mode not in MODES:
            raise XConfigError(f"x channel: `mode` must be one of {', '.join(MODES)}")
        hashtags = credentials.get("hashtags", list(DEFAULT_HASHTAGS))
        if isinstance(hashtags, str):
            hashtags = [part for part in re.split(r"[\s,]+", hashtags) if part]
        if not isinstance(hashtags, list) or not all(isinstance(t, str) for t in hashtags):
            raise XConfigError("x channel: `hashtags` must be a list of strings")
        try:
            api_base_url = check_api_base_url(_text(credentials, "api_base_url") or X_API_ORIGIN)
        except ValueError as exc:
            raise XConfigError(f"x channel: {exc}") from None
        account_id = _text(credentials, "account_id")
        if account_id is not None and not _ID.fullmatch(account_id):
            raise XConfigError("x channel: `account_id` must be a numeric X id")
        username = _text(credentials, "account_username")
        if username is not None:
            username = username.lstrip("@")
            if not _USERNAME.fullmatch(username):
                raise XConfigError("x channel: `account_username` is not an X username")
        try:
            period = float(credentials.get("invitation_period_hours", 24))
            workers = int(credentials.get("workers", cls.workers))
            senders = int(credentials.get("senders", cls.senders))
        except (TypeError, ValueError):
            raise XConfigError("x channel: `invitation_period_hours`, `workers` and `senders` "
                               "must be numbers") from None
        if period <= 0 or workers < 1 or senders < 1:
            raise XConfigError("x channel: `invitation_period_hours`, `workers` and `senders` "
                               "must be positive")
        durations = {key: _seconds(credentials, key) for key in _DURATIONS}
        max_age = durations["max_event_age_seconds"] or cls.max_event_age_seconds
        backfill = durations["poll_backfill_seconds"] or cls.poll_backfill_seconds
        if mode == "stream" and not _text(credentials, "bearer_token"):
            raise XConfigError("x channel: mode stream needs `bearer_token` (X serves "
                               "GET /2/activity/stream to the app's bearer token only)")
        if mode in ("polling", "stream") and backfill > max_age:
            raise XConfigError("x channel: `poll_backfill_seconds` must not exceed "
                               "`max_event_age_seconds` (older events are never answered)")
        pace = credentials.get("budget_pace_burst", cls.budget_pace_burst)
        if pace is False or str(pace).strip().casefold() in ("off", "none", "no"):
            pace = None
        elif pace is not None:
            try:
                pace = int(pace)
            except (TypeError, ValueError):
                pace = -1
            if pace < 0:
                raise XConfigError("x channel: `budget_pace_burst` must be a number of DMs "
                                   "(0 or more) or `off`")
        try:
            crc_burst = int(credentials.get("crc_burst", cls.crc_burst))
            crc_rate = float(credentials.get("crc_per_second", cls.crc_per_second))
        except (TypeError, ValueError):
            raise XConfigError("x channel: `crc_burst` and `crc_per_second` must be "
                               "numbers") from None
        if crc_burst < 1 or not 0 < crc_rate < float("inf"):
            raise XConfigError("x channel: `crc_burst` and `crc_per_second` must be positive")
        dm_link = _flag(credentials.get("invitation_dm_link",
                                        os.environ.get(DM_LINK_ENV)), "invitation_dm_link")
        prices = str(prices_file(_text(credentials, "prices_file")))
        try:
            CostMeter.from_file(prices)
        except PricesError as exc:
            raise XConfigError(f"x channel: `prices_file`: {exc}") from None
        ingress_port = _text(credentials, "ingress_port")
        if ingress_port and not (ingress_port.isdigit() and 0 < int(ingress_port) < 65536):
            raise XConfigError("x channel: `ingress_port` must be a TCP port number")
        return cls(
            **secrets,
            bearer_token=_text(credentials, "bearer_token"),
            mode=mode,
            hashtags=tuple(tag.lstrip("#") for tag in hashtags if tag.strip("# ")),
            api_base_url=api_base_url,
            account_id=account_id,
            account_username=username,
            invitation_period_hours=period,
            invitation_dm_link=dm_link,
            prices_file=prices,
            workers=workers,
            senders=senders,
            ingress_port=int(ingress_port) if ingress_port else None,
            ingress_host=_text(credentials, "ingress_host") or "127.0.0.1",
            crc_burst=crc_burst,
            crc_per_second=crc_rate,
            budget_pace_burst=pace,
            **{key: value for key, value in durations.items() if value is not None},
        )


# Optional durations in seconds, each positive.
_DURATIONS = ("stale_after_seconds", "liveness_seconds", "poll_interval_seconds",
              "poll_tweets_interval_seconds", "poll_lease_seconds", "poll_backfill_seconds",
              "max_event_age_seconds", "max_event_skew_seconds", "budget_margin_seconds",
              "stream_idle_seconds", "stream_retry_seconds", "send_retry_seconds")


def _flag(value: Any, key: str) -> bool:
    """A yes/no setting: a YAML boolean, or true/false, yes/no, on/off, 1/0 (unset: no)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise XConfigError(f"x channel: `{key}` must be true or false")


def _seconds(credentials: Mapping[str, Any], key: str) -> float | None:
    value = credentials.get(key)
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise XConfigError(f"x channel: `{key}` must be a number of seconds") from None
    if isinstance(value, bool) or not seconds > 0 or seconds == float("inf"):
        raise XConfigError(f"x channel: `{key}` must be a positive number of seconds")
    return seconds
