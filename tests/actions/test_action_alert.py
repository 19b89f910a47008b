"""The action server sends no P0 alert any more: the desk does, once the case exists, with the
case id and link (desk/alerts.py, tests/desk/test_desk_alerts.py). Against a real HTTP
receiver on 127.0.0.1: a P0 handover with the webhook configured posts nothing from here."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from aiohttp import web

from actions.handoff import ActionHandoff


@pytest.fixture
async def receiver(unused_tcp_port):
    received: list[dict] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/alert", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    yield f"http://127.0.0.1:{unused_tcp_port}/alert", received
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


async def test_a_p0_handoff_sends_nothing_from_the_action_server(
    receiver, monkeypatch, make_tracker, dispatcher, domain, today, sent
):
    url, received = receiver
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_SECRET", "s3cret")
    tracker = make_tracker(slots=p0_slots(today), text="je veux l'avocat", intent="ask_lawyer")
    events = await ActionHandoff().run(dispatcher, tracker, domain)

    assert any(e.get("name") == "urgence" and e.get("value") == "P0" for e in events)
    assert events[-1]["event"] == "pause"
    assert "utter_handoff_priority" in sent()
    assert received == []

