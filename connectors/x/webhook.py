"""What the X webhook answers, whichever server receives it (Rasa's, or the ingress thread).

``check_post`` does everything but storing: size, signature over the raw body, parsing. It is
pure, so the sanic route (``channel.py``) and the ingress thread (``ingress.py``) answer alike.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.x.config import XSettings
from connectors.x.payloads import Inbound, MalformedPayload, decode_body, parse_webhook
from connectors.x.signatures import (
    SIGNATURE_HEADER,
    crc_response_token,
    verify_webhook_signature,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """The HTTP answer, and the events to store before giving it when status is 200."""

    status: int
    body: dict
    events: list[Inbound] = field(default_factory=list)


def check_crc(settings: XSettings, token: str | None) -> Verdict:
    if not token:
        logger.info("x.crc.missing_token")
        return Verdict(400, {"error": "crc_token is required"})
    logger.info("x.crc.answered")
    return Verdict(200, {"response_token": crc_response_token(settings.consumer_secret, token)})


def check_post(settings: XSettings, raw: bytes, headers: Mapping[str, str],
               account_id: str | None) -> Verdict:
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
        events = parse_webhook(decode_body(raw), account_id)
    except MalformedPayload as exc:
        logger.info("x.webhook.malformed where=%s", str(exc)[:120])
        return Verdict(400, {"error": "malformed body"})
    return Verdict(200, {"status": "ok"}, events)
