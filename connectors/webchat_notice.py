"""The e-mail that tells a web-chat person that the lawyer answered (only with their consent).

At the handover the page offers to leave an address. Kept only if the person ticks the consent
box and sends it (``channels/webchat_store.py``, ``webchat_notice``: the address and when it was
given), erased with the conversation, withdrawn by sending an empty address.

What the mail says (:func:`notice_mail`): that the lawyer answered, and to reopen the
conversation from the link the person kept. **Never the lawyer's words, and never the link**:
a mailbox may be shared, read by an employer or a relative, or taken over; whoever reads the
mail must learn nothing of the conversation and get no way into it. A mail without a link also
looks like no phishing mail the person should learn to trust. What it cannot hide: the sender
(``PERMANENCE_SMTP_FROM``, the firm) and the fact of an answer; the page says so next to the box.

When (:func:`sweep`): a lawyer's reply that no page acknowledged within
``PERMANENCE_WEBCHAT_NOTICE_DELAY_SECONDS`` (default :data:`DEFAULT_DELAY_SECONDS`: a person
whose page is open reads it there and gets no mail), checked every
``PERMANENCE_WEBCHAT_NOTICE_INTERVAL_SECONDS`` (default :data:`DEFAULT_INTERVAL_SECONDS`) by
every Rasa process; one mail per burst of replies (not again until a page of the conversation
acknowledged a message after the last mail); claimed in the database, so two processes never
send the same notice. Sent through the desk's SMTP settings (``PERMANENCE_SMTP_*``,
``desk/mail_text.py``) with the desk's retries (``desk/mail.py:deliver``); unset, the page does
not offer the box. A failed mail is logged (``webchat.notice.failed``, the error's kind and
code, the conversation as a keyed ref, never the address) and not tried again: the claim stays,
so a broken server never sends a burst of late mails.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime

from channels.webchat_store import WebchatStore
from desk.mail import MailFailed, deliver
from desk.mail_text import MailSettingsError, SmtpSettings, build, settings
from permanence.logids import ref

logger = logging.getLogger(__name__)

DELAY_ENV = "PERMANENCE_WEBCHAT_NOTICE_DELAY_SECONDS"
INTERVAL_ENV = "PERMANENCE_WEBCHAT_NOTICE_INTERVAL_SECONDS"
DEFAULT_DELAY_SECONDS = 120.0
DEFAULT_INTERVAL_SECONDS = 30.0

SUBJECT = "Votre avocat vous a répondu"
BODY = (
    "Bonjour,\n\n"
    "Votre avocat vous a répondu sur la messagerie de la permanence juridique.\n\n"
    "Pour lire sa réponse, rouvrez la conversation depuis le lien personnel que vous avez "
    "gardé.\n\n"
    "Ce message ne contient rien de votre échange, ni lien vers lui. Vous le recevez parce "
    "que vous avez laissé cette adresse pendant la conversation ; elle sera effacée avec "
    "elle.\n"
)


def notice_mail() -> tuple[str, str]:
    """Subject and body: the same for everyone, nothing of the conversation."""
    return SUBJECT, BODY


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds") from None
    if not 0 <= value <= 7 * 86_400:
        raise ValueError(f"{name} must be between 0 and 7 days")
    return value


def timing(env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """(delay, interval) in seconds, from the environment."""
    env = os.environ if env is None else env
    return (_seconds(env, DELAY_ENV, DEFAULT_DELAY_SECONDS),
            max(_seconds(env, INTERVAL_ENV, DEFAULT_INTERVAL_SECONDS), 0.2))


def smtp() -> SmtpSettings | None:
    """The desk's SMTP settings, or None (unset, or unusable: logged) - no notice then."""
    try:
        return settings()
    except MailSettingsError as error:
        logger.error("webchat.notice.off settings=%s", error)
        return None


def sweep(store: WebchatStore, configured: SmtpSettings, delay_seconds: float,
          now: datetime | None = None) -> int:
    """Send the notices due (blocking: run it in an executor); how many were sent."""
    sent = 0
    subject, body = notice_mail()
    for conversation_id, address in store.notices_due(delay_seconds, now):
        try:
            deliver(configured, build(configured, address, subject, body))
        except MailFailed as failure:
            logger.error("webchat.notice.failed conversation=%s attempts=%d %s",
                         ref(conversation_id), failure.tries, failure)
            continue
        sent += 1
        logger.info("webchat.notice.sent conversation=%s", ref(conversation_id))
    return sent
