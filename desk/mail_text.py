"""What the lawyers' notification e-mails say, to whom, and through which SMTP server: pure
functions of a case summary and the environment (no database, no network); sent by
:mod:`desk.mail`.

A mail holds the case number, the tier, the domain's French label and the desk link: never a
fact, a name, a handle or a word of the person.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from desk import views
from permanence.settings import desk_url

ALWAYS = "P0"
LEVELS = ("P0", "P1", "all")
LEVEL_LABELS = {
    "P0": "les dossiers P0 seulement",
    "P1": "les dossiers P0 et P1",
    "all": "tous les nouveaux dossiers",
}
SECURITIES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

# ------------------------------------------------------------------ settings


class MailSettingsError(ValueError):
    """The SMTP settings are set but unusable (says which, never the password)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    sender: str

    def describe(self) -> str:
        """For the log and the page: where mail goes, never the credentials."""
        return f"host={self.host} port={self.port} security={self.security}"


def settings(env: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """The SMTP settings, or None when ``PERMANENCE_SMTP_HOST`` is unset (no e-mail)."""
    env = os.environ if env is None else env
    host = (env.get("PERMANENCE_SMTP_HOST") or "").strip()
    if not host:
        return None
    security = (env.get("PERMANENCE_SMTP_SECURITY") or "starttls").strip().lower()
    if security not in SECURITIES:
        raise MailSettingsError(f"PERMANENCE_SMTP_SECURITY must be one of {', '.join(SECURITIES)}")
    raw_port = (env.get("PERMANENCE_SMTP_PORT") or "").strip()
    if raw_port and not (raw_port.isdigit() and 0 < int(raw_port) < 65536):
        raise MailSettingsError("PERMANENCE_SMTP_PORT must be a port number")
    sender = (env.get("PERMANENCE_SMTP_FROM") or "").strip()
    if "@" not in sender:
        raise MailSettingsError("PERMANENCE_SMTP_FROM (the sender's address) is required")
    user = env.get("PERMANENCE_SMTP_USER") or None
    password = env.get("PERMANENCE_SMTP_PASSWORD") or None
    if bool(user) != bool(password):
        raise MailSettingsError("PERMANENCE_SMTP_USER and PERMANENCE_SMTP_PASSWORD go together")
    return SmtpSettings(host, int(raw_port) if raw_port else DEFAULT_PORTS[security], security,
                        user, password, sender)


def status_line() -> str:
    """The queue page's line about e-mail (no credentials)."""
    try:
        configured = settings()
    except MailSettingsError:
        return "E-mails aux avocats : réglages SMTP invalides, aucun e-mail n'est envoyé."
    if configured is None:
        return "E-mails aux avocats : désactivés (aucun serveur SMTP configuré)."
    return f"E-mails aux avocats : envoyés par {configured.host}."


# ------------------------------------------------------------------ what a mail says


def wants_case(level: str | None, tier: str | None) -> bool:
    """Is a lawyer with this preference mailed about a new case of this tier? P0 always."""
    if tier == ALWAYS or level == "all":
        return True
    return level == "P1" and tier == "P1"


def _pointer(case: Mapping[str, Any]) -> tuple[str, str]:
    tier = case.get("urgency") or "non évaluée"
    domain = views.DOMAIN_LABELS.get(case.get("domain"), "domaine non précisé")
    return tier, domain


def link(case_id: int, base_url: str | None = None) -> str:
    return f"{(base_url or desk_url()).rstrip('/')}/cases/{case_id}"


def new_case_mail(case: Mapping[str, Any], base_url: str | None = None) -> tuple[str, str]:
    """Subject and body of the new-case mail: number, tier, domain label, link. Nothing else."""
    tier, domain = _pointer(case)
    subject = f"Permanence · nouveau dossier {tier} · n° {case['id']} · {domain}"
    body = (
        f"Un nouveau dossier attend au bureau.\n\n"
        f"Dossier : n° {case['id']}\nUrgence : {tier}\nDomaine : {domain}\n\n"
        f"{link(case['id'], base_url)}\n\n"
        "Ce message ne contient aucun élément du dossier : ouvrez le bureau pour le lire.\n"
    )
    return subject, body


def message_mail(case: Mapping[str, Any], base_url: str | None = None) -> tuple[str, str]:
    """Subject and body of the mail about a new message: never the message."""
    tier, domain = _pointer(case)
    subject = f"Permanence · nouveau message · dossier n° {case['id']} ({tier})"
    body = (
        f"La personne a écrit de nouveau dans un dossier que vous suivez.\n\n"
        f"Dossier : n° {case['id']}\nUrgence : {tier}\nDomaine : {domain}\n\n"
        f"{link(case['id'], base_url)}\n\n"
        "Ce message ne contient rien de ce qu'elle a écrit : ouvrez le bureau pour le lire.\n"
    )
    return subject, body


def build(configured: SmtpSettings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = configured.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=configured.sender.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message
