"""Outgoing alert for P0 cases, for when nobody is watching the desk (LEGAL.md §4.8).

When ``PERMANENCE_ALERT_WEBHOOK_URL`` is set, a handed-off P0 case is POSTed there as JSON:
ids, tier, domain, channel and the estimated deadline, never the person's facts or words. With
``PERMANENCE_ALERT_WEBHOOK_SECRET`` the body is signed: header ``X-Permanence-Signature:
sha256=<hex HMAC-SHA256(secret, body)>``. A failing receiver is logged and never breaks the
conversation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3.0
SIGNATURE_HEADER = "X-Permanence-Signature"


def alert_payload(sender_id: str, channel: str | None, slots: dict[str, Any]) -> dict[str, Any]:
    """What the alert says: enough to find the case, nothing of its content."""
    return {
        "event": "urgent_case",
        "tier": slots.get("urgence"),
        "conversation_id": sender_id,
        "channel": channel,
        "domaine": slots.get("domaine"),
        "echeance_estimee": slots.get("echeance_estimee"),
        "echeance_regle": slots.get("echeance_regle"),
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def send_alert(payload: dict[str, Any]) -> bool:
    """POST the alert if a URL is configured; True when the receiver answered 2xx."""
    url = os.environ.get("PERMANENCE_ALERT_WEBHOOK_URL")
    if not url:
        return False
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    secret = os.environ.get("PERMANENCE_ALERT_WEBHOOK_SECRET")
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    try:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(url, data=body, headers=headers) as response:
                ok = 200 <= response.status < 300
                log = logger.info if ok else logger.warning
                log("alert.sent status=%d conversation=%s", response.status,
                    payload.get("conversation_id"))
                return ok
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        logger.warning("alert.failed error=%s conversation=%s", type(error).__name__,
                       payload.get("conversation_id"))
        return False
