"""E-mail notifications (desk/mail.py) against a real SMTP server on 127.0.0.1 (aiosmtpd), fed
by the tracker store's hook as in the Rasa process: a P0 case mails every lawyer, a P2 one
only those who asked; the holder of a case hears of the person's new message; never a fact,
name, handle or word of the person; retries, failures recorded and shown, nothing without SMTP.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from desk_testlib import case_slots, free_port, handoff_tracker
from rasa.shared.core.events import UserUttered
from sqlalchemy import select

from desk import auth, cases, cli, db, hooks, mail
from desk.models import desk_audit, utcnow

PERSON = "x:7337000111"
HANDLE = "marie_du_59"
PASSWORD = "un mot de passe assez long"
SECRET_WORDS = "mon fils Karim est retenu au CRA de Lesquin"


class Mailbox:
    """What the SMTP server received; it answers ``codes`` in turn (then 250)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.codes: list[str] = []
        self.tries = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's
        with self.lock:
            self.tries += 1
            if self.codes:
                return self.codes.pop(0)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpt, m in self.messages if rcpt == [address]]


@pytest.fixture
def smtp(monkeypatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("PERMANENCE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PERMANENCE_SMTP_PORT", str(port))
    monkeypatch.setenv("PERMANENCE_SMTP_SECURITY", "none")
    monkeypatch.setenv("PERMANENCE_SMTP_FROM", "permanence@cabinet.example")
    monkeypatch.setenv("PERMANENCE_DESK_URL", "https://bureau.cabinet.example/desk/")
    monkeypatch.setattr(mail, "BACKOFF_SECONDS", (0.05, 0.05))
    yield box
    controller.stop()


def lawyer(factory, address: str, level: str = "P0") -> int:
    with factory.begin() as session:
        lawyer_id = auth.set_lawyer(session, address, PASSWORD)
        mail.set_preference(session, lawyer_id, level)
    return lawyer_id


def tracker_of(domain, tier: str, sender: str = PERSON):
    return handoff_tracker(
        domain, sender, channel="x", metadata={"screen_name": HANDLE},
        domaine="etrangers", urgence=tier, partie_adverse="préfecture du Nord",
        type_decision="OQTF", echeance_estimee="2026-11-30",
        echeance_regle="OQTF avec rétention : 48 heures (L. 614-6 CESEDA)",
        urgence_motifs=["mesure privative de liberté"], recit=SECRET_WORDS)


async def save(url: str, tracker, new_events) -> None:
    await hooks.on_tracker_saved(url, tracker, new_events)
    mail.drain(timeout=30)


def only_the_pointer(message: email.message.EmailMessage, case_id: int) -> str:
    """The whole mail as text; asserts it holds the case's pointer and nothing of the person."""
    # The Message-ID is random digits: a postcode of the case may show up in it by chance.
    headers = "".join(f"{k}: {v}\n" for k, v in message.items() if k.lower() != "message-id")
    text = headers + message.get_content()
    assert f"n° {case_id}" in message["Subject"]
    assert f"https://bureau.cabinet.example/desk/cases/{case_id}" in text
    assert "Étrangers, titre de séjour" in text
    forbidden = [PERSON, "7337000111", HANDLE, SECRET_WORDS, "Karim", "Lesquin", "préfecture",
                 "OQTF", "2026-11-30", "CESEDA", "privative", "mairie", "permis"]
    forbidden += [v for v in case_slots().values() if isinstance(v, str) and len(v) > 4]
    for word in forbidden:
        assert word not in text, word
    return text


def audit(factory, action: str) -> list[tuple]:
    with factory.begin() as session:
        return [tuple(r) for r in session.execute(
            select(desk_audit.c.lawyer_id, desk_audit.c.case_id, desk_audit.c.detail)
            .where(desk_audit.c.action == action).order_by(desk_audit.c.id))]


def only_case(factory) -> dict:
    with factory.begin() as session:
        [case] = cases.list_queue(session)
    return case


async def test_a_p0_case_mails_every_lawyer_once_with_no_fact(desk_url, factory, domain, smtp,
                                                                caplog):
    first = lawyer(factory, "avocate@cabinet.example")  # P0 only, the default
    second = lawyer(factory, "associe@cabinet.example", "all")
    tracker = tracker_of(domain, "P0")
    with caplog.at_level(logging.DEBUG):
        await save(desk_url, tracker, tracker.events)
    case = only_case(factory)
    [to_first] = smtp.to("avocate@cabinet.example")
    [to_second] = smtp.to("associe@cabinet.example")
    assert to_first["From"] == "permanence@cabinet.example"
    assert "P0" in to_first["Subject"]
    only_the_pointer(to_first, case["id"])
    only_the_pointer(to_second, case["id"])
    assert audit(factory, "mail.sent") == [(first, case["id"], "kind=case"),
                                           (second, case["id"], "kind=case")]
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "desk.mail")
    assert "desk.mail.sent kind=case" in logged
    assert f"case={case['id']}" not in logged and "7337000111" not in logged

    # The same turn saved again, or the mails asked for directly: the case is claimed.
    await save(desk_url, tracker, tracker.events)
    assert mail.send_new_case(desk_url, case["id"]) == 0
    assert len(smtp.messages) == 2


@pytest.mark.parametrize("tier, mailed", [
    ("P2", {"tous@cabinet.example"}),
    ("P1", {"p1@cabinet.example", "tous@cabinet.example"}),
    ("P0", {"p0@cabinet.example", "p1@cabinet.example", "tous@cabinet.example"}),
])
async def test_other_tiers_follow_each_lawyers_preference(desk_url, factory, domain, smtp,
                                                          tier, mailed):
    lawyer(factory, "p0@cabinet.example", "P0")
    lawyer(factory, "p1@cabinet.example", "P1")
    lawyer(factory, "tous@cabinet.example", "all")
    tracker = tracker_of(domain, tier)
    await save(desk_url, tracker, tracker.events)
    assert {rcpt[0] for rcpt, _ in smtp.messages} == mailed
    case = only_case(factory)
    for _, message in smtp.messages:
        assert tier in message["Subject"]
        only_the_pointer(message, case["id"])


async def test_the_holder_hears_of_a_new_message_but_not_its_words(desk_url, factory, domain,
                                                                   smtp):
    holder = lawyer(factory, "titulaire@cabinet.example")
    lawyer(factory, "collegue@cabinet.example")
    tracker = tracker_of(domain, "P2")  # below everyone's preference: no new-case mail
    await save(desk_url, tracker, tracker.events)
    assert smtp.messages == []
    case = only_case(factory)
    # Waiting: nobody holds it yet, nobody is mailed.
    said = UserUttered("Je précise : " + SECRET_WORDS, input_channel="x")
    tracker.update(said)
    await save(desk_url, tracker, [said])
    assert smtp.messages == []
    with factory.begin() as session:
        cases.take(session, case["id"], holder)
    said = UserUttered("Il a une audience demain, " + SECRET_WORDS, input_channel="x")
    tracker.update(said)
    await save(desk_url, tracker, [said])
    [(rcpt, message)] = smtp.messages
    assert rcpt == ["titulaire@cabinet.example"]
    assert "nouveau message" in message["Subject"]
    assert "audience" not in only_the_pointer(message, case["id"])
    # A burst of messages is one mail; after the quiet time, another.
    said = UserUttered("Et aussi : " + SECRET_WORDS, input_channel="x")
    tracker.update(said)
    await save(desk_url, tracker, [said])
    assert len(smtp.messages) == 1
    later = utcnow() + timedelta(seconds=mail.MESSAGE_QUIET_SECONDS + 1)
    assert mail.send_message(desk_url, case["id"], now=later) is True
    assert len(smtp.messages) == 2
    assert audit(factory, "mail.sent")[-1] == (holder, case["id"], "kind=message")


async def test_a_temporary_refusal_is_retried(desk_url, factory, domain, smtp, caplog):
    lawyer(factory, "avocate@cabinet.example")
    smtp.codes = ["451 4.3.0 try again later"]
    tracker = tracker_of(domain, "P0")
    with caplog.at_level(logging.INFO, logger="desk.mail"):
        await save(desk_url, tracker, tracker.events)
    assert smtp.tries == 2 and len(smtp.to("avocate@cabinet.example")) == 1
    assert "desk.mail.retry attempt=1 error=SMTPDataError code=451" in caplog.text
    assert "attempt=2" in caplog.text and audit(factory, "mail.failed") == []


async def test_a_failure_is_recorded_logged_without_ids_and_shown(desk_url, factory, domain,
                                                                  smtp, caplog):
    who = lawyer(factory, "avocate@cabinet.example")
    smtp.codes = ["554 5.7.1 refused"] * 5
    tracker = tracker_of(domain, "P0")
    with caplog.at_level(logging.INFO, logger="desk.mail"):
        await save(desk_url, tracker, tracker.events)
    case = only_case(factory)
    assert smtp.tries == 1  # a 5xx is the server refusing: not retried
    assert audit(factory, "mail.failed") == [
        (who, case["id"], "kind=case attempts=1 error=SMTPDataError code=554")]
    [failed] = [r for r in caplog.records if r.getMessage().startswith("desk.mail.failed")]
    assert failed.levelno == logging.ERROR
    assert f"case={case['id']}" not in failed.getMessage()
    assert "avocate" not in failed.getMessage() and "7337000111" not in caplog.text
    with factory.begin() as session:
        shown = mail.recent_failures(session)
    assert shown["count"] == 1 and shown["case_id"] == case["id"]


async def test_an_unreachable_server_is_tried_three_times_then_recorded(
        desk_url, factory, domain, monkeypatch):
    who = lawyer(factory, "avocate@cabinet.example")
    monkeypatch.setenv("PERMANENCE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PERMANENCE_SMTP_PORT", str(free_port()))  # nobody listens
    monkeypatch.setenv("PERMANENCE_SMTP_SECURITY", "none")
    monkeypatch.setenv("PERMANENCE_SMTP_FROM", "permanence@cabinet.example")
    monkeypatch.setattr(mail, "BACKOFF_SECONDS", (0.05, 0.05))
    tracker = tracker_of(domain, "P0")
    await save(desk_url, tracker, tracker.events)
    case = only_case(factory)
    assert audit(factory, "mail.failed") == [
        (who, case["id"], "kind=case attempts=3 error=ConnectionRefusedError")]


async def test_without_smtp_nothing_is_sent_and_the_log_says_so(desk_url, factory, domain,
                                                                monkeypatch, caplog):
    monkeypatch.delenv("PERMANENCE_SMTP_HOST", raising=False)
    lawyer(factory, "avocate@cabinet.example")
    with caplog.at_level(logging.INFO, logger="desk.mail"):
        assert mail.log_status() is None
    assert "desk.mail.off" in caplog.text
    assert mail.dispatch_case(desk_url, 1) is None
    tracker = tracker_of(domain, "P0")
    await save(desk_url, tracker, tracker.events)
    assert audit(factory, "mail.sent") == audit(factory, "mail.failed") == []
    assert "désactivés" in mail.status_line()


def test_settings_come_from_the_environment_only():
    assert mail.settings({}) is None
    base = {"PERMANENCE_SMTP_HOST": "smtp.cabinet.example",
            "PERMANENCE_SMTP_FROM": "permanence@cabinet.example"}
    assert mail.settings(base) == mail.SmtpSettings(
        "smtp.cabinet.example", 587, "starttls", None, None, "permanence@cabinet.example")
    ssl_ = mail.settings({**base, "PERMANENCE_SMTP_SECURITY": "SSL",
                          "PERMANENCE_SMTP_USER": "u", "PERMANENCE_SMTP_PASSWORD": "secret"})
    assert (ssl_.port, ssl_.security, ssl_.user) == (465, "ssl", "u")
    assert "secret" not in ssl_.describe()
    for bad in ({"PERMANENCE_SMTP_SECURITY": "tls"}, {"PERMANENCE_SMTP_PORT": "99999"},
                {"PERMANENCE_SMTP_FROM": ""}, {"PERMANENCE_SMTP_USER": "u"}):
        with pytest.raises(mail.MailSettingsError):
            mail.settings({**base, **bad})


def test_preferences():
    assert [mail.wants_case("P0", t) for t in ("P0", "P1", "P2", None)] == [
        True, False, False, False]
    assert [mail.wants_case("P1", t) for t in ("P0", "P1", "P2", "OUT")] == [
        True, True, False, False]
    assert all(mail.wants_case("all", t) for t in ("P0", "P1", "P2", "P3", "OUT", None))


def test_an_unknown_preference_is_refused(factory):
    who = lawyer(factory, "avocate@cabinet.example", "P1")
    with factory.begin() as session:
        assert mail.preference(session, who) == "P1"
        with pytest.raises(cases.InvalidInput):
            mail.set_preference(session, who, "P2")


def test_the_cli_sets_a_lawyers_preference(desk_url, factory, monkeypatch, capsys):
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", desk_url)
    who = lawyer(factory, "avocate@cabinet.example")
    assert cli.main(["notify", "avocate@cabinet.example", "all"]) == 0
    assert "e-mailed about tous les nouveaux dossiers" in capsys.readouterr().out
    with factory.begin() as session:
        assert mail.preference(session, who) == "all"
    assert cli.main(["notify", "nobody@cabinet.example", "P1"]) == 1
    with pytest.raises(SystemExit):
        cli.main(["notify", "avocate@cabinet.example", "P2"])
    with factory.begin() as session:
        assert mail.preference(session, who) == "all"


@pytest.fixture(autouse=True)
def _dispose() -> Iterator[None]:
    yield
    mail.drain(timeout=30)
    db.dispose_all()


@pytest.fixture
def certificate(tmp_path, monkeypatch) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, trusted by the client through SSL_CERT_FILE
    (as a firm's private CA would be)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return str(cert), str(key)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_login(desk_url, factory, domain, monkeypatch, certificate, security, smtp):
    """STARTTLS (or implicit TLS), the certificate checked, then the login: the mail arrives;
    a wrong password is refused (5xx: not retried) and recorded."""
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(*certificate)
    logins: list[bytes] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.login)
        return AuthResult(success=auth_data.password == b"le bon mot de passe", handled=False)

    plain = smtp  # a server without TLS nor AUTH, for the last step
    plain.port = int(os.environ["PERMANENCE_SMTP_PORT"])
    box = Mailbox()
    port = free_port()
    # (aiosmtpd offers AUTH over TLS only, and counts only STARTTLS as TLS: told otherwise.)
    tls = ({"tls_context": server_tls, "require_starttls": True} if security == "starttls"
           else {"ssl_context": server_tls, "auth_require_tls": False})
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, **tls)
    controller.start()
    try:
        for name, value in {"HOST": "127.0.0.1", "PORT": str(port), "SECURITY": security,
                            "USER": "permanence", "PASSWORD": "le bon mot de passe",
                            "FROM": "permanence@cabinet.example"}.items():
            monkeypatch.setenv(f"PERMANENCE_SMTP_{name}", value)
        monkeypatch.setenv("PERMANENCE_DESK_URL", "https://bureau.cabinet.example/desk/")
        monkeypatch.setattr(mail, "BACKOFF_SECONDS", (0.05, 0.05))
        who = lawyer(factory, "avocate@cabinet.example")
        with factory.begin() as session:
            first = cases.open_case_from_tracker(session, tracker_of(domain, "P0", "x:1"))[0]
            second = cases.open_case_from_tracker(session, tracker_of(domain, "P0", "x:2"))[0]
        assert mail.send_new_case(desk_url, first) == 1
        [(rcpt, message)] = box.messages
        assert rcpt == ["avocate@cabinet.example"] and logins == [b"permanence"]
        only_the_pointer(message, first)

        monkeypatch.setenv("PERMANENCE_SMTP_PASSWORD", "pas le bon")
        assert mail.send_new_case(desk_url, second) == 0
        assert audit(factory, "mail.failed") == [
            (who, second, "kind=case attempts=1 error=SMTPAuthenticationError code=535")]
        assert len(box.messages) == 1

        # The server offers no login while one is configured: a setting to fix, not retried.
        monkeypatch.setenv("PERMANENCE_SMTP_PASSWORD", "le bon mot de passe")
        monkeypatch.setenv("PERMANENCE_SMTP_PORT", str(plain.port))
        monkeypatch.setenv("PERMANENCE_SMTP_SECURITY", "none")
        with factory.begin() as session:
            third = cases.open_case_from_tracker(session, tracker_of(domain, "P0", "x:3"))[0]
        assert mail.send_new_case(desk_url, third) == 0
        assert audit(factory, "mail.failed")[-1] == (
            who, third, "kind=case attempts=1 error=SMTPNotSupportedError")
    finally:
        controller.stop()
