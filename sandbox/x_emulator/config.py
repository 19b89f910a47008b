"""Emulator configuration: credentials, the emulated account and the knobs tests turn."""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

from .fixtures import load_fixture
from .profiles import DEFAULT_PROFILE, LIMIT_KEYS, Profile, load_profile

# Sandbox credentials used when the environment does not provide any. They only
# open the emulator; they are not secrets.
DEFAULT_CONSUMER_KEY = "sandbox-consumer-key"
DEFAULT_CONSUMER_SECRET = "sandbox-consumer-secret"
DEFAULT_ACCESS_TOKEN = "sandbox-access-token"
DEFAULT_ACCESS_TOKEN_SECRET = "sandbox-access-token-secret"
DEFAULT_BEARER_TOKEN = "sandbox-bearer-token"

# Environment variable -> config field, with the sandbox default above.
ENV_CREDENTIALS = {
    "X_CONSUMER_KEY": ("consumer_key", DEFAULT_CONSUMER_KEY),
    "X_CONSUMER_SECRET": ("consumer_secret", DEFAULT_CONSUMER_SECRET),
    "X_ACCESS_TOKEN": ("access_token", DEFAULT_ACCESS_TOKEN),
    "X_ACCESS_TOKEN_SECRET": ("access_token_secret", DEFAULT_ACCESS_TOKEN_SECRET),
    "X_BEARER_TOKEN": ("bearer_token", DEFAULT_BEARER_TOKEN),
}

SUBSCRIBE_CHOICES = ("aaa", "xaa", "none")

# Rate limits and prices are not in code: they come from a limits file (profiles.py), by
# default limits/x-2026.yml (X at the end of 2026); limits/legacy-2022.yml has the generous
# limits of the recorded fixtures.


def _fixture_account() -> dict[str, str]:
    return load_fixture("users_me.json")["data"]


@dataclass
class EmulatorConfig:
    """Everything the emulator needs; all fields have sandbox defaults."""

    consumer_key: str = DEFAULT_CONSUMER_KEY
    consumer_secret: str = DEFAULT_CONSUMER_SECRET
    access_token: str = DEFAULT_ACCESS_TOKEN
    access_token_secret: str = DEFAULT_ACCESS_TOKEN_SECRET
    bearer_token: str = DEFAULT_BEARER_TOKEN
    # The emulated account (the firm). Defaults to the user of users_me.json.
    account_id: str = field(default_factory=lambda: _fixture_account()["id"])
    account_username: str = field(default_factory=lambda: _fixture_account()["username"])
    account_name: str = field(default_factory=lambda: _fixture_account()["name"])
    # Webhook registered and subscribed at start-up (no CRC: the bot may not be up yet).
    webhook_url: str | None = None
    # How the account is subscribed at start-up: "aaa" (the webhook above, Account Activity),
    # "xaa" (X Activity API subscriptions dm.received and post.mention.create for the account,
    # to the webhook above if any, and to the stream), or "none".
    subscribe: str = "aaa"
    # GET /2/activity/stream: a blank line this often (X: at least every 20 s), at most this
    # many connections (X: 2), events kept this long for backfill_minutes (X: 5 minutes).
    stream_keepalive_seconds: float = 20.0
    stream_max_connections: int = 2
    activity_retention_seconds: float = 300.0
    # The app that owns the credentials (source_app_id of DMs sent through the API).
    app_id: str = "1000000001"
    app_name: str = "Permanence sandbox"
    app_url: str = "https://example.invalid/permanence"
    # Limits file: a profile name of limits/ ("x-2026", "legacy-2022") or a path to a .yml.
    limits: str = DEFAULT_PROFILE
    # Test overrides: limit key -> limit of every window of that key (15-minute and 24-hour).
    rate_limits: dict[str, int] = field(default_factory=dict)
    # 60: a 15-minute window lasts 15 s, the 24-hour one 24 min (and the billing day too).
    time_scale: float = 1.0
    # OAuth 1.0a: reject timestamps further than this from now (None: no check)
    # and nonces already seen inside that window.
    timestamp_skew: int | None = 300
    # Webhook POSTs and CRC GETs give up after this many seconds (X: 10 s).
    delivery_timeout: float = 10.0
    # X delivers the account's own DMs and tweets to its webhook too.
    echo_own_events: bool = True
    # X answers 403 to a tweet whose text duplicates one of the account's tweets.
    reject_duplicate_tweets: bool = True
    max_webhooks: int = 5
    # X (self-serve tiers, since 2026-02-23) refuses a reply to a post whose author did not
    # summon the account (403), as the X channel expects (it answers hashtag-only posts by
    # the lawyer's hand). False lets tests reply to any post.
    summoned_replies_only: bool = True
    clock: Callable[[], float] = time.time
    profile: Profile = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.rate_limits) - set(LIMIT_KEYS)
        if unknown:
            raise ValueError(f"unknown rate-limit keys: {sorted(unknown)}")
        if not (isinstance(self.time_scale, (int, float)) and self.time_scale > 0):
            raise ValueError("time_scale must be a positive number")
        if self.subscribe not in SUBSCRIBE_CHOICES:
            raise ValueError(f"subscribe must be one of {', '.join(SUBSCRIBE_CHOICES)}")
        if not self.stream_keepalive_seconds > 0:
            raise ValueError("stream_keepalive_seconds must be positive")
        self.profile = load_profile(self.limits)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> EmulatorConfig:
        """Credentials from ``X_*`` variables (sandbox defaults otherwise), then overrides."""
        env = os.environ if environ is None else environ
        values = {name: env.get(var) or default for var, (name, default) in ENV_CREDENTIALS.items()}
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    def replace(self, **changes) -> EmulatorConfig:
        return dataclasses.replace(self, **changes)
