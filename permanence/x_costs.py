"""What the X API costs: X's pay-per-use prices, read from one file, and the charges of calls.

X bills the firm's account per call or per resource (``../shared/X-API-2026.md``, "Prices"):
a DM sent $0.015, a ``dm.received`` event delivered $0.010, a DM event read $0.010, a post
created $0.015 ($0.20 with a URL, $0.01 for a reply to a post that summoned the account)...
The prices are in **one** file, the ``prices_usd`` section of the X emulator's limits file
(``sandbox/x_emulator/limits/x-2026.yml``, with X's sources; the emulator bills from the same
section). Another file can be named with ``X_PRICES_FILE`` or the channel's ``prices_file``.

Writes are charged per request; reads and delivered events per resource, once per resource
per UTC day (X's "Deduplication"): such a charge carries a ``dedupe`` key, a hash of the
kind, the day and the resource id (a DM event or post id, never a person id), and the X
store records it once (``permanence/x_store.py``, table ``x_cost``).

Pure: no database, no network. ``load_prices`` reads a file; :class:`CostMeter` turns a call
into :class:`Charge` rows; ``permanence/costs.py`` sums them for the desk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LIMITS_DIR = ROOT / "sandbox" / "x_emulator" / "limits"
DEFAULT_PRICES_FILE = LIMITS_DIR / "x-2026.yml"
PRICES_ENV = "X_PRICES_FILE"

# X's price kinds (the emulator's limits files give exactly these).
DM_SENT = "dm_sent"                              # a DM send answered 201
DM_EVENT_READ = "dm_event_read"                  # a DM event returned by GET .../dm_events
DM_RECEIVED = "dm_received"                      # a person's DM delivered to the webhook
POST_MENTION_RECEIVED = "post_mention_received"  # a post about the account delivered
POST_CREATED = "post_created"                    # POST /2/tweets answered 201
POST_CREATED_WITH_URL = "post_created_with_url"  # ... its text has a URL ($0.20)
POST_CREATED_SUMMONED = "post_created_summoned"  # ... a reply to a post that summoned us
POST_READ = "post_read"                          # a post returned by recent search
OWNED_READ = "owned_read"                        # a post returned by the account's mentions
USER_READ = "user_read"                          # GET /2/users/me
PRICE_KINDS = (DM_SENT, DM_EVENT_READ, DM_RECEIVED, POST_MENTION_RECEIVED, POST_CREATED,
               POST_CREATED_WITH_URL, POST_CREATED_SUMMONED, POST_READ, OWNED_READ, USER_READ)
# Charged once per resource per UTC day; the others once per request.
DEDUPLICATED = frozenset({DM_EVENT_READ, DM_RECEIVED, POST_MENTION_RECEIVED, POST_READ,
                          OWNED_READ, USER_READ})
MICRO = 1_000_000  # prices are kept in millionths of a dollar: sums stay exact


class PricesError(ValueError):
    """The prices file cannot be read or does not give every price kind."""


@dataclass(frozen=True)
class Charge:
    """One billed unit: its kind, its price in millionths of a dollar, and for a
    deduplicated kind the key that makes it count once a day."""

    kind: str
    micro_usd: int
    dedupe: str | None = None


def prices_file(configured: str | None = None) -> Path:
    """The prices file: ``configured`` (the channel's ``prices_file``), else ``X_PRICES_FILE``,
    else the emulator's ``x-2026.yml``. A bare name (``x-2026``) is a file of the emulator's
    ``limits/``."""
    value = configured or os.environ.get(PRICES_ENV) or str(DEFAULT_PRICES_FILE)
    return _path(value, LIMITS_DIR)


def _path(value: str, directory: Path) -> Path:
    if "/" in value or value.endswith((".yml", ".yaml")):
        path = Path(value)
        return path if path.is_absolute() else (ROOT / path)
    return directory / f"{value}.yml"


def load_prices(path: str | os.PathLike[str] | None = None) -> dict[str, int]:
    """The ``prices_usd`` section of ``path`` (default :func:`prices_file`), in millionths of
    a dollar per kind. ``prices_usd: x-2026`` takes another file's prices. Every kind of
    :data:`PRICE_KINDS` must be given, and nothing else."""
    return _load(Path(path) if path is not None else prices_file(), set())


def _load(path: Path, seen: set[Path]) -> dict[str, int]:
    resolved = path.resolve()
    if resolved in seen:
        raise PricesError(f"{path}: prices_usd refers back to itself")
    seen.add(resolved)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PricesError(f"{path}: cannot read the prices ({type(exc).__name__})") from None
    section = raw.get("prices_usd") if isinstance(raw, dict) else None
    if isinstance(section, str):
        return _load(_path(section, path.parent), seen)
    if not isinstance(section, dict) or set(section) != set(PRICE_KINDS):
        raise PricesError(f"{path}: prices_usd must give exactly {', '.join(PRICE_KINDS)}")
    prices = {}
    for kind, value in section.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise PricesError(f"{path}: prices_usd.{kind} must be a non-negative number")
        prices[kind] = round(value * MICRO)
    return prices


def utc_day(now: datetime) -> str:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the day of a charge needs an aware datetime")
    return now.astimezone(timezone.utc).date().isoformat()


def dedupe_key(kind: str, day: str, resource_id: str) -> str:
    """The key of a once-a-day charge: a hash (the resource id is not stored)."""
    return hashlib.sha256(f"{kind}|{day}|{resource_id}".encode()).hexdigest()[:40]


class CostMeter:
    """Turns billable calls into charges at the configured prices (thread-safe: no state
    beyond the prices)."""

    def __init__(self, prices: Mapping[str, int]) -> None:
        missing = set(PRICE_KINDS) - set(prices)
        if missing:
            raise PricesError(f"no price for {', '.join(sorted(missing))}")
        self.prices = dict(prices)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str] | None = None) -> CostMeter:
        return cls(load_prices(path))

    def call(self, kind: str) -> list[Charge]:
        """A request charged as such (a DM sent, a post created)."""
        if kind in DEDUPLICATED:
            raise ValueError(f"{kind} is charged per resource: use resources()")
        return [Charge(kind, self.prices[kind])]

    def resources(self, kind: str, resource_ids: Iterable[str], now: datetime) -> list[Charge]:
        """Resources read or delivered, each charged once per UTC day (the store keeps one
        row per ``dedupe`` key)."""
        if kind not in DEDUPLICATED:
            raise ValueError(f"{kind} is charged per request: use call()")
        day = utc_day(now)
        keys = dict.fromkeys(dedupe_key(kind, day, str(resource)) for resource in resource_ids)
        return [Charge(kind, self.prices[kind], key) for key in keys]


def post_kind(text: str, summoned_reply: bool) -> str:
    """X's price kind of a post the account creates: with a URL $0.20 whatever else; a reply
    to a post that summoned the account $0.01; else $0.015."""
    if has_url(text):
        return POST_CREATED_WITH_URL
    return POST_CREATED_SUMMONED if summoned_reply else POST_CREATED


def has_url(text: str) -> bool:
    """Whether X would see a URL in ``text`` (a link with a scheme; the invitation's DM link
    is one)."""
    lowered = text.casefold()
    return "http://" in lowered or "https://" in lowered
