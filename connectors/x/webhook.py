"""What the X webhook answers, whichever server receives it (Rasa's, or the ingress thread).

``check_crc`` and ``check_post`` do everything but storing, so the sanic route (``channel.py``)
and the ingress (``ingress.py``) answer alike:

- ``check_crc``: 429 beyond the server's CRC rate (``CrcLimiter``), 400 without a token or
  with a token not of X's shape (``signatures.crc_token_refusal``: the answer is the HMAC X
  signs webhook bodies with, so it is never computed over a text that could be a body), else
  the ``response_token``.
- ``check_post``: size, signature over the raw body, parsing, then the events outside the age
  window left out (``inbox.fresh_events``): a well-signed body whose events are all stale still
  gets 200, so that X does not retry it, and stores nothing. An encrypted X Chat message
  (``chat.received``) is acknowledged too, and counted, never read (``Verdict.chats``). An
  Account Activity body received from 2027-01-01, that API's end of life, is logged as a
  warning (``activity.aaa_warning``; the clock is ``permanence/clock.py``'s, injectable).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from connectors.x.activity import aaa_warning
from connectors.x.config import XSettings
from connectors.x.inbox import fresh_events
from connectors.x.payloads import (
    EncryptedChat,
    Inbound,
    MalformedPayload,
    decode_body,
    encrypted_chats,
    is_xaa_envelope,
    parse_webhook,
)
from connectors.x.signatures import (
    SIGNATURE_HEADER,
    crc_response_token,
    crc_token_refusal,
    verify_webhook_signature,
)
from permanence import clock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """The HTTP answer, and the events to store before giving it when status is 200.

    ``stale``: how many well-signed events were left out for their age. ``delivered``: every
    event of the body (the stale ones too), what X bills for once it gets the 200.
    ``chats``: encrypted X Chat messages, to count (``inbox.record_chats``)."""

    status: int
    body: dict
    events: list[Inbound] = field(default_factory=list)
    stale: int = 0
    delivered: list[Inbound] = field(default_factory=list)
    chats: list[EncryptedChat] = field(default_factory=list)


class CrcLimiter:
    """A token bucket: ``burst`` CRC answers at once, then ``per_second`` on average.

    One per server (Rasa's route, the ingress thread, the ingress process). Thread-safe; the
    clock is injectable for tests (seconds, monotonic)."""

    def __init__(self, per_second: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second and burst must be positive")
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: XSettings) -> CrcLimiter:
        return cls(settings.crc_per_second, settings.crc_burst)

    def take(self) -> bool:
        """True, and one token fewer, if a token is left; else False."""
        with self._lock:
            now = self._clock()
            elapsed = max(now - self._last, 0.0)
            self._last = now
            self._tokens = min(self.burst, self._tokens + elapsed * self.per_second)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


def check_crc(settings: XSettings, token: str | None, limiter: CrcLimiter) -> Verdict:
    if not limiter.take():
        logger.warning("x.crc.rate_limited")
        return Verdict(429, {"error": "too many CRC requests"})
    refusal = crc_token_refusal(token)
    if refusal == "missing":
        logger.info("x.crc.missing_token")
        return Verdict(400, {"error": "crc_token is required"})
    if refusal is not None:
        logger.warning("x.crc.refused reason=%s", refusal)
        return Verdict(400, {"error": "crc_token is not an X CRC token"})
    logger.info("x.crc.answered")
    return Verdict(200, {"response_token": crc_response_token(settings.consumer_secret,
                                                               token or "")})


def check_post(settings: XSettings, raw: bytes, headers: Mapping[str, str],
               account_id: str | None, now: datetime | None = None,
               today: Callable[[], datetime] = clock.now) -> Verdict:
    declared = headers.get("content-length", "")
    if len(raw) > settings.max_body_bytes or (
            declared.isdigit() and int(declared) > settings.max_body_bytes):
        logger.info("x.webhook.too_large bytes=%d", len(raw))
        return Verdict(413, {"error": "body too large"})
    if not verify_webhook_signature(settings.consumer_secret, raw,
                                    headers.get(SIGNATURE_HEADER)):
        logger.warning("x.signature.invalid")
        return Verdict(403, {"error": "invalid signature"})
    if not account_id:
        logger.warning("x.webhook.not_ready")
        return Verdict(503, {"error": "starting"})
    try:
        body = decode_body(raw)
        events = parse_webhook(body, account_id)
        chats = encrypted_chats(body, account_id)
    except MalformedPayload as exc:
        logger.info("x.webhook.malformed where=%s", str(exc)[:120])
        return Verdict(400, {"error": "malformed body"})
    if not is_xaa_envelope(body):
        warning = aaa_warning(today())
        if warning:
            logger.warning("x.aaa.after_end %s", warning)
    fresh, stale = fresh_events(events, settings, now or datetime.now(timezone.utc))
    if stale:
        logger.warning("x.webhook.stale_events count=%d of=%d", stale, len(events))
    return Verdict(200, {"status": "ok"}, fresh, stale, delivered=events, chats=chats)
