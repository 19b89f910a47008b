"""E-mail notifications to the lawyers: « never a missed P0 ».

When the desk opens a case (:mod:`desk.hooks`, in the Rasa process), every active lawyer is
mailed about it if it is P0 (always) or if their preference asks for it (``desk_lawyer.
notify_cases``: ``P0``, the default, nothing else; ``P1``, P0 and P1; ``all``, every new case;
set on the desk's queue page or with ``python -m desk.cli notify EMAIL LEVEL``). When the person
writes on a case a lawyer holds, that lawyer is mailed (at most once per
:data:`MESSAGE_QUIET_SECONDS` per case, so that a burst of messages is one e-mail).

What a mail says (:mod:`desk.mail_text`, pure): the case number, its tier, its domain's label
and the desk link. Never a fact, a name, a handle or a word the person wrote: the mailbox is
not the desk.

- **SMTP settings from the environment only** (:func:`desk.mail_text.settings`):
  ``PERMANENCE_SMTP_HOST`` (unset: no e-mail is sent, and the desk says so in its log at start
  and on the queue page), ``PERMANENCE_SMTP_PORT``, ``PERMANENCE_SMTP_SECURITY`` (``starttls``,
  ``ssl`` or ``none``), ``PERMANENCE_SMTP_USER``, ``PERMANENCE_SMTP_PASSWORD``,
  ``PERMANENCE_SMTP_FROM``.
- **Once per case.** The case's ``mailed_at`` is claimed (a conditional UPDATE) before the
  new-case mails are sent, as the P0 webhook alert does (:mod:`desk.alerts`).
- **Off the event loop.** Sending runs on a small thread pool of its own, after the case or the
  message is committed.
- **Retries.** :data:`ATTEMPTS` tries per mail, :data:`TIMEOUT_SECONDS` each, waiting
  :data:`BACKOFF_SECONDS` between them; a 5xx answer (the server refuses this mail) is not
  retried.
- **Reported, never dropped silently.** ``desk.mail.sent`` / ``desk.mail.failed`` in the log
  (kind, error kind and SMTP code; the case and the lawyer as :func:`permanence.logids.ref`),
  and ``mail.sent`` / ``mail.failed`` rows in the desk's audit log with the case and lawyer ids;
  the queue page shows the failures of the last :data:`FAILURES_SHOWN_HOURS` hours.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from desk import cases, db
from desk.mail_text import (  # noqa: F401 - the module's vocabulary, re-exported
    ALWAYS,
    LEVEL_LABELS,
    LEVELS,
    MailSettingsError,
    SmtpSettings,
    build,
    link,
    message_mail,
    new_case_mail,
    settings,
    status_line,
    wants_case,
)
from desk.models import desk_audit, desk_case, desk_lawyer, utcnow
from permanence.logids import ref

logger = logging.getLogger(__name__)

ATTEMPTS = 3
TIMEOUT_SECONDS = 10.0
BACKOFF_SECONDS = (5.0, 30.0)  # before the 2nd and the 3rd try
MESSAGE_QUIET_SECONDS = 300
FAILURES_SHOWN_HOURS = 24

_pool: ThreadPoolExecutor | None = None
_pending: set[Future] = set()
_lock = threading.Lock()


def log_status() -> SmtpSettings | None:
    """At start: say whether lawyers are mailed (raises :class:`MailSettingsError`)."""
    configured = settings()
    if configured is None:
        logger.warning("desk.mail.off: PERMANENCE_SMTP_HOST is unset, no e-mail is sent to the "
                       "lawyers (new cases, messages)")
    else:
        logger.info("desk.mail.on %s", configured.describe())
    return configured


# ------------------------------------------------------------------ sending


class MailFailed(Exception):
    """Every try failed: ``str`` says how the last one did (error kind, code), ``tries`` how
    many were made."""

    def __init__(self, last: str, tries: int = 0) -> None:
        super().__init__(last)
        self.tries = tries


def _failure(error: Exception) -> tuple[str, bool]:
    """How a try failed (no server text: it may echo an address) and whether to retry."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({c for c, _ in error.recipients.values()})
        return f"error=SMTPRecipientsRefused code={','.join(map(str, codes))}", False
    if isinstance(error, smtplib.SMTPNotSupportedError):  # e.g. no AUTH: a setting to fix
        return f"error={type(error).__name__}", False
    if isinstance(code, int) and code >= 0:
        return f"error={type(error).__name__} code={code}", code < 500
    return f"error={type(error).__name__}", True


def _deliver_once(configured: SmtpSettings, message: EmailMessage) -> None:
    if configured.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            configured.host, configured.port, timeout=TIMEOUT_SECONDS,
            context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(configured.host, configured.port, timeout=TIMEOUT_SECONDS)
    with client:
        if configured.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if configured.user:
            client.login(configured.user, configured.password or "")
        client.send_message(message)


def deliver(configured: SmtpSettings, message: EmailMessage) -> int:
    """Send with retries (blocking: on the mail pool); the attempt that succeeded, or
    :class:`MailFailed` after the last try."""
    last, tries = "none", 0
    for attempt in range(ATTEMPTS):
        tries = attempt + 1
        if attempt:
            time.sleep(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
        try:
            _deliver_once(configured, message)
            return tries
        except (smtplib.SMTPException, OSError) as error:
            last, again = _failure(error)
        logger.warning("desk.mail.retry attempt=%d %s", tries, last)
        if not again:
            break  # the server refuses this mail: trying again changes nothing
    raise MailFailed(last, tries)


def _send_to(factory: Any, configured: SmtpSettings, kind: str, case_id: int,
             lawyer_id: int, address: str, subject: str, body: str) -> bool:
    refs = f"kind={kind} case={ref(f'case:{case_id}')} lawyer={ref(f'lawyer:{lawyer_id}')}"
    try:
        attempt = deliver(configured, build(configured, address, subject, body))
    except MailFailed as failure:
        logger.error("desk.mail.failed %s attempts=%d %s", refs, failure.tries, failure)
        with factory.begin() as session:
            cases.audit(session, lawyer_id, case_id, "mail.failed",
                        f"kind={kind} attempts={failure.tries} {failure}")
        return False
    logger.info("desk.mail.sent %s attempt=%d", refs, attempt)
    with factory.begin() as session:
        cases.audit(session, lawyer_id, case_id, "mail.sent", f"kind={kind}")
    return True


def claim(session: Session, case_id: int) -> bool:
    """Mark the case's new-case mails as sent; False if they already were."""
    return session.execute(
        update(desk_case)
        .where(desk_case.c.id == case_id, desk_case.c.mailed_at.is_(None))
        .values(mailed_at=utcnow())
    ).rowcount == 1


def _failed_before_sending(factory: Any, case_id: int, kind: str, error: str) -> None:
    logger.error("desk.mail.failed kind=%s case=%s %s", kind, ref(f"case:{case_id}"), error)
    with factory.begin() as session:
        cases.audit(session, None, case_id, "mail.failed", f"kind={kind} {error}")


def send_new_case(database_url: str | None, case_id: int, base_url: str | None = None) -> int:
    """Claim the case's new-case mails and send them to every lawyer who wants them; the
    number sent."""
    factory = db.session_factory(database_url)
    try:
        configured = settings()
    except MailSettingsError:
        _failed_before_sending(factory, case_id, "case", "error=settings")
        return 0
    if configured is None:
        return 0
    with factory.begin() as session:
        if not claim(session, case_id):
            return 0
        case = cases.get_summary(session, case_id)
        lawyers = session.execute(
            select(desk_lawyer.c.id, desk_lawyer.c.email, desk_lawyer.c.notify_cases)
            .where(desk_lawyer.c.active.is_(True)).order_by(desk_lawyer.c.id)).all()
    subject, body = new_case_mail(case, base_url)
    return sum(
        _send_to(factory, configured, "case", case_id, lawyer.id, lawyer.email, subject, body)
        for lawyer in lawyers if wants_case(lawyer.notify_cases, case["urgency"]))


def send_message(database_url: str | None, case_id: int, base_url: str | None = None,
                 now: datetime | None = None) -> bool:
    """Mail the lawyer who holds the case that the person wrote (not twice within
    :data:`MESSAGE_QUIET_SECONDS`); True when sent."""
    factory = db.session_factory(database_url)
    try:
        configured = settings()
    except MailSettingsError:
        _failed_before_sending(factory, case_id, "message", "error=settings")
        return False
    if configured is None:
        return False
    now = now or utcnow()
    with factory.begin() as session:
        row = session.execute(
            select(desk_case.c.state, desk_case.c.taken_by, desk_lawyer.c.email)
            .join(desk_lawyer, desk_lawyer.c.id == desk_case.c.taken_by)
            .where(desk_case.c.id == case_id, desk_lawyer.c.active.is_(True))).first()
        if row is None or row.state != "taken":
            return False
        last = session.execute(
            select(func.max(desk_audit.c.at)).where(
                desk_audit.c.case_id == case_id, desk_audit.c.lawyer_id == row.taken_by,
                desk_audit.c.action == "mail.sent", desk_audit.c.detail == "kind=message")
        ).scalar_one_or_none()
        if last is not None and now - last < timedelta(seconds=MESSAGE_QUIET_SECONDS):
            return False
        case = cases.get_summary(session, case_id)
    subject, body = message_mail(case, base_url)
    return _send_to(factory, configured, "message", case_id, row.taken_by, row.email,
                    subject, body)


def _submit(work: Any, *args: Any) -> Future:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="desk-mail")
        future = _pool.submit(_guarded, work, *args)
        _pending.add(future)
    future.add_done_callback(_pending.discard)
    return future


def _guarded(work: Any, *args: Any) -> Any:
    try:
        return work(*args)
    except Exception:  # the pool's boundary: reported, never lost silently
        logger.exception("desk.mail.error")
        return None


def _configured_or_failing() -> bool:
    try:
        return settings() is not None
    except MailSettingsError:
        return True  # the worker records the failure: visible on the desk


def dispatch_case(database_url: str | None, case_id: int) -> Future | None:
    """After a case was opened and committed: its mails, on the mail pool (None without
    SMTP)."""
    return _submit(send_new_case, database_url, case_id) if _configured_or_failing() else None


def dispatch_message(database_url: str | None, case_id: int) -> Future | None:
    """After the person's message was committed on an open case: the holder's mail."""
    return _submit(send_message, database_url, case_id) if _configured_or_failing() else None


def drain(timeout: float | None = None) -> None:
    """Wait for the mails being sent (tests, shutdown)."""
    with _lock:
        pending = list(_pending)
    wait(pending, timeout=timeout)


# ------------------------------------------------------------------ preferences, the page


def set_preference(session: Session, lawyer_id: int, level: object) -> str:
    if level not in LEVELS:
        raise cases.InvalidInput(f"the preference is one of {', '.join(LEVELS)}")
    session.execute(update(desk_lawyer).where(desk_lawyer.c.id == lawyer_id)
                    .values(notify_cases=level))
    return str(level)


def preference(session: Session, lawyer_id: int) -> str:
    return session.execute(select(desk_lawyer.c.notify_cases)
                           .where(desk_lawyer.c.id == lawyer_id)).scalar_one_or_none() or ALWAYS


def recent_failures(session: Session, now: datetime | None = None) -> dict[str, Any] | None:
    """The mails that failed in the last :data:`FAILURES_SHOWN_HOURS` hours, for the queue
    page: how many, and the case and time of the last one (None when there are none)."""
    since = (now or utcnow()) - timedelta(hours=FAILURES_SHOWN_HOURS)
    rows = session.execute(
        select(desk_audit.c.case_id, desk_audit.c.at)
        .where(desk_audit.c.action == "mail.failed", desk_audit.c.at >= since)
        .order_by(desk_audit.c.id.desc())).all()
    if not rows:
        return None
    return {"count": len(rows), "case_id": rows[0].case_id, "at": rows[0].at}
