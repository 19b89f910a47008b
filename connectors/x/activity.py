"""The X Activity API (XAA) on the wire: subscriptions, the persistent stream, reconnecting.

Pure: no I/O, no clock read (every function that needs the time takes it). The event
envelopes themselves are read by ``connectors/x/payloads.py`` (``parse_webhook``,
``encrypted_chats``), the one module that knows what an event carries. Sources: X's
documentation repository ``xdevplatform/docs`` (``x-api/activity/introduction.mdx``,
``quickstart.mdx``, ``event-payloads.mdx``, ``openapi.json``,
``x-api/fundamentals/handling-disconnections.mdx``), summarised in ``X-API-2026.md``.

**Subscriptions.** ``POST /2/activity/subscriptions`` with
``{"event_type": "dm.received", "filter": {"user_id": "<id>"}, "webhook_id": "<id>"}``
(``webhook_id`` optional: without it the events only go to the stream; with it they go to that
webhook *and* to the stream when one is open). Private events (DMs, mentions, chats) need the
user context of the filtered user. ``GET /2/activity/subscriptions`` lists them
(``{"data": [{"subscription_id", "event_type", "filter", "webhook_id"?, "tag"?, ...}],
"meta": {"total_subscriptions", "next_token"?}}``); ``PUT /2/activity/subscriptions/:id``
changes only ``tag`` and ``webhook_id``; a new filter or event type is a new subscription. The
created subscription comes back as ``data.subscription`` (``openapi.json``) or as ``data``
(``quickstart.mdx``): both are read.

**The stream.** ``GET /2/activity/stream`` (app Bearer token; at most 2 connections) answers
200 and then never ends: one JSON object per line (``\\r\\n``), each an event envelope
``{"data": {...}}`` or a problem ``{"errors": [...]}``, and a blank line at least every 20
seconds (the keep-alive). ``backfill_minutes`` (0 to 5) asks for the events of the last minutes
again: that is how a reconnection resumes without loss; the durable inbox drops what was already
stored (unique event ids). A gap longer than X's backfill is caught up by reading the lists
once (``resume``).

**Reconnecting** (``handling-disconnections.mdx``): at once after an established connection
ends; then, on network errors, 250 ms more each attempt up to 16 s; on HTTP errors, 5 s
doubling up to 320 s; on 429, 1 minute doubling, and never before X's reset.

**The Account Activity API (AAA)** reaches its end of life on 2027-01-01
(``aaa-to-xaa-migration.mdx``): ``aaa_warning`` says so from that day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from connectors.x.payloads import MalformedPayload, decode_body

SUBSCRIPTIONS_ROUTE = "/2/activity/subscriptions"
STREAM_ROUTE = "/2/activity/stream"
WEBHOOKS_ROUTE = "/2/webhooks"
# What the assistant answers: legacy DMs and posts that @mention the account.
INTAKE_EVENT_TYPES = ("dm.received", "post.mention.create")
# Encrypted DMs (X Chat): unreadable without X's Chat XDK; subscribed only to count them.
CHAT_EVENT_TYPES = ("chat.received",)
SUBSCRIPTION_TAG = "permanence"
BACKFILL_MAX_MINUTES = 5
KEEP_ALIVE_SECONDS = 20.0
# A reconnection asks for this much more backfill than the gap (clocks, events in flight).
RESUME_MARGIN = timedelta(seconds=10)
NETWORK_STEP_SECONDS, NETWORK_MAX_SECONDS = 0.25, 16.0
HTTP_FIRST_SECONDS, HTTP_MAX_SECONDS = 5.0, 320.0
RATE_LIMIT_FIRST_SECONDS, RATE_LIMIT_MAX_SECONDS = 60.0, 900.0
AAA_END = datetime(2027, 1, 1, tzinfo=timezone.utc)
AAA_END_WARNING = ("the Account Activity API reached its end of life on 2027-01-01: X may stop "
                   "delivering DMs this way at any time; run `make x-register` (X Activity "
                   "API subscriptions) and use mode: stream or webhook with XAA")

Failure = Literal["network", "http", "rate_limited"]


# ------------------------------------------------------------------------ subscriptions


@dataclass(frozen=True)
class Wanted:
    """A subscription the firm needs: an event type for a user, to a webhook or the stream
    only (``webhook_id`` None)."""

    event_type: str
    user_id: str
    webhook_id: str | None = None


@dataclass(frozen=True)
class Subscription:
    """A subscription as X lists it."""

    subscription_id: str
    event_type: str
    user_id: str | None
    webhook_id: str | None
    tag: str | None


@dataclass(frozen=True)
class Plan:
    """What to do so that every wanted subscription exists: ``create`` the missing ones,
    ``update`` (subscription id, webhook id) the ones that deliver to another webhook or to
    the stream only, and ``keep`` the rest."""

    create: tuple[Wanted, ...]
    update: tuple[tuple[str, str], ...]
    keep: tuple[Subscription, ...]

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.update)


def wanted_subscriptions(user_id: str, webhook_id: str | None,
                         event_types: Iterable[str] = INTAKE_EVENT_TYPES) -> list[Wanted]:
    return [Wanted(event_type, _digits(user_id, "user_id"),
                   None if webhook_id is None else _digits(webhook_id, "webhook_id"))
            for event_type in event_types]


def create_body(wanted: Wanted, tag: str = SUBSCRIPTION_TAG) -> dict[str, Any]:
    """The JSON body of ``POST /2/activity/subscriptions``."""
    body: dict[str, Any] = {"event_type": wanted.event_type,
                            "filter": {"user_id": wanted.user_id}, "tag": tag}
    if wanted.webhook_id is not None:
        body["webhook_id"] = wanted.webhook_id
    return body


def update_body(webhook_id: str) -> dict[str, Any]:
    """The JSON body of ``PUT /2/activity/subscriptions/:id`` that sends it to a webhook."""
    return {"webhook_id": _digits(webhook_id, "webhook_id")}


def parse_subscriptions(body: Any) -> tuple[list[Subscription], str | None]:
    """A page of ``GET /2/activity/subscriptions``: its subscriptions and ``meta.next_token``."""
    root = _obj(body, "body")
    data = root.get("data")
    items = [] if data is None else _list(data, "data")
    subscriptions = [_subscription(item, f"data[{index}]") for index, item in enumerate(items)]
    meta = root.get("meta")
    token = None if meta is None else _obj(meta, "meta").get("next_token")
    if token is not None and not isinstance(token, str):
        raise MalformedPayload("meta.next_token: expected a string")
    return subscriptions, token or None


def parse_created(body: Any) -> Subscription:
    """The answer of ``POST`` (or ``PUT``) ``/2/activity/subscriptions``."""
    data = _obj(_obj(body, "body").get("data"), "data")
    inner = data.get("subscription")
    if inner is not None:
        return _subscription(inner, "data.subscription")
    return _subscription(data, "data")


def plan_subscriptions(wanted: Iterable[Wanted], existing: Iterable[Subscription]) -> Plan:
    """Compare what is wanted with what X lists. An existing subscription of the same event
    type and user serves a wanted one: for the stream whatever its webhook (X sends to the
    stream too), for a webhook only if it names that webhook (else it is updated to)."""
    existing = list(existing)
    create: list[Wanted] = []
    update: list[tuple[str, str]] = []
    keep: list[Subscription] = []
    for want in wanted:
        same = [s for s in existing
                if s.event_type == want.event_type and s.user_id == want.user_id]
        if want.webhook_id is None:
            served = same[:1]
        else:
            served = [s for s in same if s.webhook_id == want.webhook_id][:1]
        if served:
            keep.extend(served)
        elif same:
            update.append((same[0].subscription_id, want.webhook_id or ""))
        else:
            create.append(want)
    return Plan(tuple(create), tuple(update), tuple(keep))


def _subscription(value: Any, where: str) -> Subscription:
    item = _obj(value, where)
    matched = item.get("filter")
    user_id = None if matched is None else _obj(matched, f"{where}.filter").get("user_id")
    return Subscription(
        subscription_id=_digits(item.get("subscription_id"), f"{where}.subscription_id"),
        event_type=_str(item.get("event_type"), f"{where}.event_type"),
        user_id=None if user_id is None else _digits(user_id, f"{where}.filter.user_id"),
        webhook_id=(None if item.get("webhook_id") is None
                    else _digits(item["webhook_id"], f"{where}.webhook_id")),
        tag=None if item.get("tag") is None else _str(item["tag"], f"{where}.tag"),
    )


# ---------------------------------------------------------------------------- the stream


class LineTooLong(MalformedPayload):
    """The stream sent more than ``max_bytes`` without a line break."""


class LineSplitter:
    """Cuts the bytes of the stream into lines, whatever the chunks (a line may arrive in
    pieces, several lines in one). ``\\r\\n`` and ``\\n`` both end a line; the line is given
    without them."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        data = self._pending + chunk
        *lines, self._pending = data.split(b"\n")
        if len(self._pending) > self.max_bytes:
            self._pending = b""
            raise LineTooLong(f"stream: a line over {self.max_bytes} bytes")
        return [line.removesuffix(b"\r") for line in lines]


@dataclass(frozen=True)
class StreamLine:
    """One line of the stream: a keep-alive, an event envelope (``body``, decoded JSON) or a
    problem X sends before it disconnects (``problem``: its ``title``, never other text)."""

    kind: Literal["keep_alive", "event", "error"]
    body: Any = None
    problem: str | None = None


def parse_stream_line(line: bytes) -> StreamLine:
    if not line.strip():
        return StreamLine("keep_alive")
    body = decode_body(line)
    root = _obj(body, "line")
    if isinstance(root.get("data"), dict):
        return StreamLine("event", body)
    errors = root.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0] if isinstance(errors[0], dict) else {}
        title = first.get("title") or first.get("type") or "error"
        return StreamLine("error", problem=str(title)[:80])
    raise MalformedPayload("line: neither data nor errors")


def stream_params(backfill_minutes: int) -> dict[str, str]:
    """The query of ``GET /2/activity/stream``."""
    if not 0 <= backfill_minutes <= BACKFILL_MAX_MINUTES:
        raise ValueError(f"backfill_minutes must be 0 to {BACKFILL_MAX_MINUTES}")
    return {"backfill_minutes": str(backfill_minutes)} if backfill_minutes else {}


@dataclass(frozen=True)
class Resume:
    """How to connect: the backfill to ask for, and, when the gap is longer than X keeps,
    the moment from which to read X's lists once (``catch_up_since``)."""

    backfill_minutes: int
    catch_up_since: datetime | None


def resume(seen: datetime | None, now: datetime, first_start_seconds: float) -> Resume:
    """``seen``: when the last line of the stream was stored (None on the very first start,
    which asks for ``first_start_seconds`` of backfill, at most what X keeps)."""
    if seen is None:
        minutes = math.ceil(max(first_start_seconds, 0.0) / 60)
        return Resume(min(minutes, BACKFILL_MAX_MINUTES), None)
    gap = max(now - seen, timedelta(0)) + RESUME_MARGIN
    minutes = math.ceil(gap / timedelta(minutes=1))
    if minutes <= BACKFILL_MAX_MINUTES:
        return Resume(max(minutes, 1), None)
    return Resume(BACKFILL_MAX_MINUTES, seen - RESUME_MARGIN)


def reconnect_delay(failure: Failure, attempt: int, http_first_seconds: float = HTTP_FIRST_SECONDS,
                    reset_in: float | None = None) -> float:
    """Seconds before connecting again after ``attempt`` failures in a row (1, 2, ...).

    ``http_first_seconds`` is the first wait after an HTTP error (X: 5 s; smaller in tests);
    ``reset_in``: seconds until ``x-rate-limit-reset`` after a 429."""
    if attempt < 1:
        return 0.0
    if failure == "network":
        return min(NETWORK_STEP_SECONDS * attempt, NETWORK_MAX_SECONDS)
    doubling = 2 ** min(attempt - 1, 16)
    if failure == "http":
        return min(http_first_seconds * doubling, HTTP_MAX_SECONDS)
    wait = min(RATE_LIMIT_FIRST_SECONDS * doubling, RATE_LIMIT_MAX_SECONDS)
    return max(wait, reset_in or 0.0)


# ---------------------------------------------------------------------------------- AAA


def aaa_ended(now: datetime) -> bool:
    return now >= AAA_END


def aaa_warning(now: datetime) -> str | None:
    """The warning to log when the Account Activity API is used at ``now``, or None."""
    return AAA_END_WARNING if aaa_ended(now) else None


# ------------------------------------------------------------------------------- helpers


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where}: expected an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedPayload(f"{where}: expected an array")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"{where}: expected a string")
    return value


def _digits(value: Any, where: str) -> str:
    """An X id (decimal digits, as X writes them in JSON strings): they go into URL paths."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not value.isdigit() or not value.isascii() or \
            len(value) > 20:
        raise MalformedPayload(f"{where}: expected an id (decimal digits)")
    return value

