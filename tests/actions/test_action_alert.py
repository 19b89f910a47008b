"""The P0 alert webhook, against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta

import pytest
from aiohttp import web

from actions.handoff import ActionHandoff


@pytest.fixture
async def receiver(unused_tcp_port):
    received: list[tuple[dict, bytes, dict]] = []
    status = {"code": 200}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        received.append((json.loads(body), body, dict(request.headers)))
        return web.Response(status=status["code"])

    app = web.Application()
    app.router.add_post("/alert", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    yield f"http://127.0.0.1:{unused_tcp_port}/alert", received, status
    await runner.cleanup()


def p0_slots(today: date) -> dict:
    return {
        "consent": "given",
        "route": "triage",
        "domaine": "etrangers",
        "question_initiale": "OQTF reçue hier, je suis au CRA de Lesquin",
        "partie_adverse": "préfecture du Nord",
        "role": "particulier",
        "type_decision": "OQTF",
        "date_decision": (today - timedelta(days=1)).isoformat(),
        "mesure_privative": "retention",
        "code_postal": "59000",
        "recit": "Interpellé hier, placé au CRA de Lesquin.",
    }


async def test_p0_handoff_posts_a_signed_alert_without_the_facts(
    receiver, monkeypatch, make_tracker, dispatcher, domain, today
):
    url, received, _ = receiver
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_SECRET", "s3cret")
    tracker = make_tracker(slots=p0_slots(today), text="/affirm", intent="affirm")
    events = await ActionHandoff().run(dispatcher, tracker, domain)

    assert any(e.get("name") == "urgence" and e.get("value") == "P0" for e in events)
    [(payload, body, headers)] = received
    assert payload["tier"] == "P0" and payload["domaine"] == "etrangers"
    assert payload["conversation_id"] == tracker.sender_id
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Permanence-Signature"] == expected
    text = body.decode()
    for fact in ("Lesquin", "préfecture du Nord", "59000", "Interpellé"):
        assert fact not in text


async def test_no_alert_below_p0(receiver, monkeypatch, make_tracker, dispatcher, domain, today):
    url, received, _ = receiver
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", url)
    slots = {**p0_slots(today), "domaine": "urbanisme", "mesure_privative": None,
             "type_decision": "refus de permis", "question_initiale": "permis refusé",
             "recit": "Permis refusé.", "date_decision": (today - timedelta(days=10)).isoformat()}
    await ActionHandoff().run(dispatcher, make_tracker(slots=slots), domain)
    assert received == []


async def test_a_failing_receiver_does_not_break_the_handoff(
    receiver, monkeypatch, make_tracker, dispatcher, domain, today
):
    url, received, status = receiver
    status["code"] = 500
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", url)
    events = await ActionHandoff().run(dispatcher, make_tracker(slots=p0_slots(today)), domain)
    assert events[-1]["event"] == "pause" and len(received) == 1
    # Nobody listening at all: still handed over.
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/alert")
    events = await ActionHandoff().run(dispatcher, make_tracker(slots=p0_slots(today)), domain)
    assert events[-1]["event"] == "pause"
