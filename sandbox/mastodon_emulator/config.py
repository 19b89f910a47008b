"""Emulator configuration: the token, the emulated account and instance, the limits file and
the knobs tests turn. Rate limits come from a file (``limits/<name>.yml`` or a path), never
from code."""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import yaml

LIMITS_DIR = Path(__file__).parent / "limits"
DEFAULT_LIMITS = "mastodon-default"
LIMIT_KEYS = ("account", "ip", "statuses")
# Not a secret: it only opens the emulator.
DEFAULT_ACCESS_TOKEN = "sandbox-mastodon-token"
TOKEN_ENV = "MASTODON_SANDBOX_TOKEN"


class LimitsError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: int


def load_limits(name_or_path: str = DEFAULT_LIMITS) -> dict[str, Window]:
    """``limits/<name>.yml`` or a path: exactly the keys of ``LIMIT_KEYS``, positive numbers."""
    is_path = "/" in name_or_path or name_or_path.endswith((".yml", ".yaml"))
    path = Path(name_or_path) if is_path else LIMITS_DIR / f"{name_or_path}.yml"
    if not path.is_file():
        raise LimitsError(f"no limits file {path}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    limits = raw.get("limits") if isinstance(raw, dict) else None
    if not isinstance(limits, dict) or set(limits) != set(LIMIT_KEYS):
        raise LimitsError(f"{path}: limits must list exactly {', '.join(LIMIT_KEYS)}")
    windows = {}
    for key, item in limits.items():
        if not isinstance(item, dict) or set(item) != {"limit", "seconds"}:
            raise LimitsError(f"{path}: limits.{key} has exactly limit and seconds")
        for value in item.values():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise LimitsError(f"{path}: limits.{key}: positive integers only")
        windows[key] = Window(item["limit"], item["seconds"])
    return windows


@dataclass
class EmulatorConfig:
    access_token: str = DEFAULT_ACCESS_TOKEN
    # The instance and the firm's account on it.
    domain: str = "permanence.example"
    title: str = "Permanence sandbox"
    version: str = "4.3.2"
    account_id: str = "109000000000000001"
    account_username: str = "permanence"
    account_display_name: str = "Permanence juridique"
    max_characters: int = 500
    # Limits file (a name of limits/ or a path), and test overrides: key -> limit.
    limits: str = DEFAULT_LIMITS
    rate_limits: dict[str, int] = field(default_factory=dict)
    # 60: a 5-minute window lasts 5 s, the 3-hour one 3 minutes.
    time_scale: float = 1.0
    # Mastodon's streaming server writes ":thump" this often when nothing else is sent.
    stream_heartbeat_seconds: float = 15.0
    # The account's notification policy for private mentions (Mastodon >= 4.3 filters
    # unsolicited ones by default: "filter").
    for_private_mentions: str = "filter"
    clock: Callable[[], float] = time.time
    windows: dict[str, Window] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.time_scale > 0:
            raise ValueError("time_scale must be positive")
        if not self.stream_heartbeat_seconds > 0:
            raise ValueError("stream_heartbeat_seconds must be positive")
        unknown = set(self.rate_limits) - set(LIMIT_KEYS)
        if unknown:
            raise ValueError(f"unknown rate-limit keys: {sorted(unknown)}")
        self.windows = load_limits(self.limits)
        for key, limit in self.rate_limits.items():
            self.windows[key] = Window(limit, self.windows[key].seconds)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> EmulatorConfig:
        env = os.environ if environ is None else environ
        values = {"access_token": env.get(TOKEN_ENV) or DEFAULT_ACCESS_TOKEN}
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    def replace(self, **changes) -> EmulatorConfig:
        return dataclasses.replace(self, **changes)
