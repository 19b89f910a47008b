"""The P0 alert, sent by the desk when the tracker store's hook opens a P0 case: against the
example receiver (scripts/alert_receiver.py) and a flaky one, both real HTTP servers on
127.0.0.1. Case id and link, tier, domain, deadline date; no person id, handle or rule; once
per case; retries; failures reported without ids."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from desk_testlib import handoff_tracker
from rasa.shared.core.events import ActionExecuted, ConversationPaused, Restarted, UserUttered
from sqlalchemy import select

from desk import alerts, cases, db, hooks
from desk.models import desk_audit, desk_case
from scripts.alert_receiver import make_server, signature_valid

SECRET = "un secret partagé"
PERSON = "x:7337000111"
HANDLE = "marie_du_59"


@pytest.fixture
def receiver() -> Iterator[tuple[str, io.StringIO]]:
    """The example receiver, verifying the signature; yields its URL and what it printed."""
    out = io.StringIO()
    server = make_server("127.0.0.1", 0, SECRET, out)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alert", out
    server.shutdown()
    server.server_close()


class Flaky:
    """A receiver answering the given statuses in turn (then 204), recording every body."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.bodies: list[bytes] = []
        flaky = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                flaky.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(flaky.statuses.pop(0) if flaky.statuses else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/alert"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky() -> Iterator[callable]:
    made: list[Flaky] = []

    def make(statuses: list[int]) -> Flaky:
        made.append(Flaky(statuses))
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch) -> None:
    monkeypatch.setattr(alerts, "BACKOFF_SECONDS", (0.05, 0.05))
    monkeypatch.setenv("PERMANENCE_DESK_URL", "https://bureau.cabinet.example/desk/")
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_SECRET", SECRET)


def p0_tracker(domain, sender: str = PERSON):
    return handoff_tracker(
        domain, sender, channel="x", metadata={"screen_name": HANDLE},
        domaine="etrangers", urgence="P0", partie_adverse="préfecture du Nord",
        type_decision="OQTF", echeance_estimee="2026-11-30",
        echeance_regle="OQTF avec rétention : 48 heures (L. 614-6 CESEDA)",
        urgence_motifs=["mesure privative de liberté"])


async def save(url: str, tracker, new_events) -> None:
    await hooks.on_tracker_saved(url, tracker, new_events)
    alerts.drain(timeout=30)


def audit_rows(factory, action: str) -> list[tuple]:
    with factory.begin() as session:
        return [tuple(r) for r in session.execute(
            select(desk_audit.c.case_id, desk_audit.c.detail).where(desk_audit.c.action == action))]


async def test_a_p0_case_is_announced_once_with_its_link_and_nothing_personal(
    desk_url, factory, domain, receiver, monkeypatch, caplog
):
    url, printed = receiver
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", url)
    tracker = p0_tracker(domain)
    with caplog.at_level(logging.DEBUG):
        await save(desk_url, tracker, tracker.events)
    [case] = cases_in(factory)
    link = f"https://bureau.cabinet.example/desk/cases/{case['id']}"
    assert printed.getvalue() == f"P0 case {case['id']} (etrangers, deadline 2026-11-30): {link}\n"
    assert audit_rows(factory, "alert.sent") == [(case["id"], None)]
    # Nothing of the person in the logs either.
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "7337000111" not in logged and HANDLE not in logged

    # The same open case again: the same turn saved twice, then a typed /restart replayed up to
    # a new handover while the case is open. No second alert.
    await save(desk_url, tracker, tracker.events)
    replay = [Restarted(), ActionExecuted("action_listen"),
              UserUttered("/restart", input_channel="x"), ActionExecuted("action_handoff"),
              ConversationPaused()]
    for event in replay:
        tracker.update(event)
    await save(desk_url, tracker, replay)
    assert [c["id"] for c in cases_in(factory)] == [case["id"]]
    assert printed.getvalue().count("\n") == 1
    # Even asked directly, the case is claimed: never sent again.
    assert alerts.send_for_case("https://x.example/desk", desk_url, case["id"]) is False
    assert printed.getvalue().count("\n") == 1


async def test_the_alert_body_is_exactly_the_case_pointer(desk_url, factory, domain, flaky,
                                                          monkeypatch):
    receiver = flaky([])
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", receiver.url)
    tracker = p0_tracker(domain)
    await save(desk_url, tracker, tracker.events)
    [body] = receiver.bodies
    [case] = cases_in(factory)
    assert json.loads(body) == {
        "event": "urgent_case", "case_id": case["id"],
        "link": f"https://bureau.cabinet.example/desk/cases/{case['id']}",
        "tier": "P0", "domain": "etrangers", "deadline": "2026-11-30"}
    text = body.decode()
    for secret_thing in (PERSON, "7337000111", HANDLE, "OQTF", "CESEDA", "préfecture",
                         "rétention", "Lens", "62300"):
        assert secret_thing not in text, secret_thing


async def test_retries_then_success(desk_url, factory, domain, flaky, monkeypatch):
    receiver = flaky([503, 500])
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", receiver.url)
    tracker = p0_tracker(domain)
    await save(desk_url, tracker, tracker.events)
    assert len(receiver.bodies) == 3 and len(set(receiver.bodies)) == 1
    [case] = cases_in(factory)
    assert audit_rows(factory, "alert.sent") == [(case["id"], None)]


async def test_a_refusing_or_absent_receiver_is_reported_without_ids(
    desk_url, factory, domain, flaky, monkeypatch, caplog
):
    refusing = flaky([401, 401, 401])
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", refusing.url)
    tracker = p0_tracker(domain)
    with caplog.at_level(logging.INFO, logger="desk.alerts"):
        await save(desk_url, tracker, tracker.events)
    assert len(refusing.bodies) == 1  # a 4xx is the receiver refusing: not retried
    [case] = cases_in(factory)
    assert audit_rows(factory, "alert.failed") == [(case["id"], "status=401")]
    [failed] = [r for r in caplog.records if r.getMessage().startswith("desk.alert.failed")]
    assert failed.levelno == logging.ERROR
    assert failed.getMessage() == "desk.alert.failed attempts=1 status=401"  # no id at all

    # Nobody listening: every try made, then reported; the case is there all the same.
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/alert")
    other = p0_tracker(domain, "web:autre-session")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="desk.alerts"):
        await save(desk_url, other, other.events)
    retries = [r for r in caplog.records if r.getMessage().startswith("desk.alert.retry")]
    assert len(retries) == alerts.ATTEMPTS
    assert [r.getMessage() for r in caplog.records if "alert.failed" in r.getMessage()] == [
        "desk.alert.failed attempts=3 error=ConnectionRefusedError"]
    assert len(cases_in(factory)) == 2
    assert [d for _, d in audit_rows(factory, "alert.failed")][-1].startswith("error=")
    for record in caplog.records:
        assert "autre-session" not in record.getMessage()


async def test_no_alert_below_p0_or_without_a_webhook(desk_url, factory, domain, flaky,
                                                       monkeypatch):
    receiver = flaky([])
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", receiver.url)
    p2 = handoff_tracker(domain, "web:p2", urgence="P2")
    await save(desk_url, p2, p2.events)
    monkeypatch.delenv("PERMANENCE_ALERT_WEBHOOK_URL")
    p0 = p0_tracker(domain)
    await save(desk_url, p0, p0.events)
    assert receiver.bodies == [] and len(cases_in(factory)) == 2
    with factory.begin() as session:
        assert session.execute(select(desk_case.c.alerted_at)).scalars().all() == [None, None]


def test_the_example_receiver_refuses_a_wrong_signature(receiver):
    import urllib.error
    import urllib.request

    url, printed = receiver
    body = json.dumps({"case_id": 1, "link": "https://evil.example/"}).encode()
    for signature in (None, "sha256=" + "0" * 64,
                      "sha256=" + hmac.new(b"autre", body, hashlib.sha256).hexdigest()):
        request = urllib.request.Request(url, data=body, method="POST")
        if signature:
            request.add_header("X-Permanence-Signature", signature)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)  # noqa: S310 - 127.0.0.1
        assert refused.value.code == 401
    assert printed.getvalue() == ""
    good = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature_valid(SECRET, body, good) and not signature_valid(SECRET, body + b" ", good)


def cases_in(factory) -> list[dict]:
    with factory.begin() as session:
        return cases.list_queue(session)


@pytest.fixture(autouse=True)
def _dispose() -> Iterator[None]:
    yield
    alerts.drain(timeout=30)
    db.dispose_all()
