"""The P0 alert: an outgoing webhook for the urgent cases, for when nobody watches the desk
(LEGAL.md §4.8).

When the desk opens a P0 case (:mod:`desk.hooks`, in the Rasa process) and
``PERMANENCE_ALERT_WEBHOOK_URL`` is set, the case is announced there once, as JSON::

    {"event": "urgent_case", "case_id": 12, "link": "<PERMANENCE_DESK_URL>/cases/12",
     "tier": "P0", "domain": "etrangers", "deadline": "2026-12-05"}

and nothing else: no person id, no handle, no channel, no fact, no deadline rule. With
``PERMANENCE_ALERT_WEBHOOK_SECRET`` the body is signed: header ``X-Permanence-Signature:
sha256=<hex HMAC-SHA256(secret, body)>`` (``scripts/alert_receiver.py`` verifies it).

- **Once per case.** The case's ``alerted_at`` is claimed (a conditional UPDATE) before the
  first try: a second handover of the same open case, a typed ``/restart`` replayed into the
  same case, or another process can never send it again. (At most once: a process killed
  between the claim and the POST loses that alert; the case is in the desk's queue anyway.)
- **Off the event loop.** The POST runs on a small thread pool of its own, after the case is
  committed; the person's turn never waits for the receiver.
- **Retries.** :data:`ATTEMPTS` tries, :data:`TIMEOUT_SECONDS` each, waiting
  :data:`BACKOFF_SECONDS` between them, on a network error, a 5xx, 408 or 429; another 4xx is
  the receiver refusing and is not retried.
- **Reported.** ``desk.alert.sent`` / ``desk.alert.failed`` in the log (status and error kind,
  no id), and ``alert.sent`` / ``alert.failed`` rows in the desk's audit log with the case id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from sqlalchemy import update

from desk import cases, db
from desk.models import desk_case, utcnow
from permanence.settings import desk_url

logger = logging.getLogger(__name__)

ALERT_TIER = "P0"
ATTEMPTS = 3
TIMEOUT_SECONDS = 5.0
BACKOFF_SECONDS = (2.0, 10.0)  # before the 2nd and the 3rd try
SIGNATURE_HEADER = "X-Permanence-Signature"
RETRIED_STATUSES = frozenset({408, 429})

_pool: ThreadPoolExecutor | None = None
_pending: set[Future] = set()
_lock = threading.Lock()
# No environment proxy: the receiver is reached directly, as configured.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def webhook_url() -> str | None:
    return os.environ.get("PERMANENCE_ALERT_WEBHOOK_URL") or None


def payload(case: dict[str, Any], base_url: str | None = None) -> dict[str, Any]:
    """What the alert says about a case (a :func:`desk.cases.summary`): where to find it, how
    urgent, in which domain, by when. Nothing of its content."""
    base = (base_url or desk_url()).rstrip("/")
    return {
        "event": "urgent_case",
        "case_id": case["id"],
        "link": f"{base}/cases/{case['id']}",
        "tier": case["urgency"],
        "domain": case["domain"],
        "deadline": case["deadline"],
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(url: str, body: bytes, secret: str | None) -> None:
    """POST the alert with retries; raises :class:`AlertFailed` after the last try."""
    if not url.lower().startswith(("http://", "https://")):
        raise AlertFailed("error=not_an_http_url")
    headers = {"Content-Type": "application/json"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    last, tries = "none", 0
    for attempt in range(ATTEMPTS):
        tries = attempt + 1
        if attempt:
            time.sleep(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            url, data=body, headers=headers, method="POST")
        try:
            with _opener.open(request, timeout=TIMEOUT_SECONDS) as reply:
                logger.info("desk.alert.sent status=%d attempt=%d", reply.status, attempt + 1)
                return
        except urllib.error.HTTPError as error:
            last = f"status={error.code}"
            if error.code < 500 and error.code not in RETRIED_STATUSES:
                break  # the receiver refuses it (signature, URL): trying again changes nothing
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            last = f"error={type(getattr(error, 'reason', error)).__name__}"
        logger.warning("desk.alert.retry attempt=%d %s", attempt + 1, last)
    raise AlertFailed(last, tries)


class AlertFailed(Exception):
    """Every try failed: ``str`` says how the last one did, ``tries`` how many were made."""

    def __init__(self, last: str, tries: int = 0) -> None:
        super().__init__(last)
        self.tries = tries


def claim(session: Any, case_id: int) -> bool:
    """Mark the case's alert as sent; False if it already was (by anyone, ever)."""
    return session.execute(
        update(desk_case)
        .where(desk_case.c.id == case_id, desk_case.c.alerted_at.is_(None))
        .values(alerted_at=utcnow())
    ).rowcount == 1


def send_for_case(base_url: str, database_url: str, case_id: int) -> bool:
    """Claim the case's alert and send it (blocking: on the alert pool); True when sent."""
    target = webhook_url()
    if target is None:
        return False
    factory = db.session_factory(database_url)
    with factory.begin() as session:
        case = cases.get_summary(session, case_id)
        if case["urgency"] != ALERT_TIER or not claim(session, case_id):
            return False
    body = json.dumps(payload(case, base_url), ensure_ascii=False).encode()
    try:
        post(target, body, os.environ.get("PERMANENCE_ALERT_WEBHOOK_SECRET") or None)
    except AlertFailed as failure:
        logger.error("desk.alert.failed attempts=%d %s", failure.tries, failure)
        with factory.begin() as session:
            cases.audit(session, None, case_id, "alert.failed", str(failure))
        return False
    with factory.begin() as session:
        cases.audit(session, None, case_id, "alert.sent")
    return True


def dispatch(database_url: str, case_id: int, tier: str | None) -> Future | None:
    """After a case was opened and committed: send its alert on the alert pool if it is P0 and
    a webhook is configured (None otherwise). Never raises for the receiver's sake."""
    if tier != ALERT_TIER or webhook_url() is None:
        return None
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="desk-alert")
        future = _pool.submit(_guarded, database_url, case_id)
        _pending.add(future)
    future.add_done_callback(_pending.discard)
    return future


def _guarded(database_url: str, case_id: int) -> bool:
    try:
        return send_for_case(desk_url(), database_url, case_id)
    except Exception:  # the pool's boundary: reported, never lost silently
        logger.exception("desk.alert.error")
        return False


def drain(timeout: float | None = None) -> None:
    """Wait for the alerts being sent (tests, shutdown)."""
    with _lock:
        pending = list(_pending)
    wait(pending, timeout=timeout)
