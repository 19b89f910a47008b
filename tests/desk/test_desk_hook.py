"""The tracker store tells the desk: a handover opens a case, later messages go on it, and a
desk failure never breaks the conversation."""

from __future__ import annotations

import logging

import pytest
from desk_testlib import handoff_tracker
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from desk import cases, db, hooks
from permanence.tracker_store import ConfidentialSQLTrackerStore


@pytest.fixture
def store_url(tmp_path) -> str:
    yield f"sqlite:///{tmp_path / 'permanence.db'}"
    db.dispose_all()


@pytest.fixture
def store(store_url, domain) -> ConfidentialSQLTrackerStore:
    return ConfidentialSQLTrackerStore(domain=domain, url=store_url)


def queue(url: str) -> list[dict]:
    db.upgrade_to_head(url)
    with db.session_factory(url).begin() as session:
        return cases.list_queue(session)


async def test_handover_opens_a_case_and_later_messages_go_on_it(store, store_url, domain):
    tracker = handoff_tracker(domain, "web-1", channel="webchat")
    assert tracker.is_paused()
    await store.save(tracker)
    [case] = queue(store_url)
    assert (case["conversation_id"], case["channel"], case["state"]) == ("web-1", "webchat",
                                                                         "waiting")
    # Saving the same tracker again adds no event and opens nothing.
    await store.save(tracker)
    assert [c["id"] for c in queue(store_url)] == [case["id"]]
    # The paused conversation: Rasa records the person's message and predicts nothing.
    tracker.update(UserUttered("J'ai oublié de préciser : c'est urgent", input_channel="webchat"))
    await store.save(tracker)
    with db.session_factory(store_url).begin() as session:
        messages = cases.get_case(session, case["id"])["messages"]
    assert [(m["author"], m["text"]) for m in messages] == [
        ("person", "J'ai oublié de préciser : c'est urgent")]
    # The tracker store still has every event.
    stored = await store.retrieve("web-1")
    assert len(stored.events) == len(tracker.events)


async def test_no_case_without_a_handover(store, store_url, domain):
    tracker = DialogueStateTracker.from_events(
        "web-2",
        [ActionExecuted("action_listen"), UserUttered("bonjour", input_channel="webchat")],
        slots=domain.slots,
    )
    await store.save(tracker)
    assert queue(store_url) == []


async def test_a_desk_failure_is_logged_and_the_turn_is_saved(
    store, store_url, domain, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("desk down")

    monkeypatch.setattr(hooks, "plan", broken)
    tracker = handoff_tracker(domain, "web-3")
    with caplog.at_level(logging.ERROR, logger="permanence.tracker_store"):
        await store.save(tracker)
    assert any(r.message == "tracker_store.desk_hook_failed" and r.exc_info for r in caplog.records)
    stored = await store.retrieve("web-3")
    assert stored is not None and len(stored.events) == len(tracker.events)


async def test_a_p0_handover_alerts_through_the_tracker_store_without_waiting_for_it(
    store, store_url, domain, monkeypatch
):
    """The real tracker store: a P0 handover opens the case and the alert goes to a (slow)
    receiver on 127.0.0.1 on the desk's alert thread; the turn's save does not wait for it."""
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from desk import alerts

    bodies: list[dict] = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            time.sleep(2)
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    monkeypatch.delenv("PERMANENCE_DESK_URL", raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PERMANENCE_ALERT_WEBHOOK_URL",
                       f"http://127.0.0.1:{server.server_port}/alert")
    try:
        tracker = handoff_tracker(domain, "x:42", channel="x", urgence="P0",
                                  domaine="etrangers", echeance_estimee="2026-11-30")
        started = time.monotonic()
        await store.save(tracker)
        assert time.monotonic() - started < 1.5  # the receiver takes 2 s
        [case] = queue(store_url)
        alerts.drain(timeout=30)
        assert [(b["case_id"], b["tier"], b["link"]) for b in bodies] == [
            (case["id"], "P0", f"http://127.0.0.1:5005/desk/cases/{case['id']}")]
    finally:
        server.shutdown()
        server.server_close()


async def test_an_erasure_request_during_the_handover_is_flagged_and_acknowledged(
    store, store_url, domain, monkeypatch
):
    """« supprimez mes données » while paused: the case is flagged (once) and the person is
    told at once through the sender the desk channel registers (here, a recording one)."""
    import asyncio

    from desk import erasure_request

    sent: list[tuple] = []

    async def sender(conversation_id, channel, text):
        sent.append((conversation_id, channel, text))
        return "sent"

    monkeypatch.setattr(erasure_request, "_sender", sender)
    tracker = handoff_tracker(domain, "web-9", channel="webchat")
    await store.save(tracker)
    tracker.update(UserUttered("je vous envoie l'arrêté demain", input_channel="webchat"))
    await store.save(tracker)
    await asyncio.gather(*erasure_request._tasks)
    assert sent == []
    [case] = queue(store_url)
    assert case["erasure_requested_at"] is None

    for _ in range(2):
        tracker.update(UserUttered("supprimez mes données", input_channel="webchat",
                                   intent={"name": "delete_data", "confidence": 0.9}))
        await store.save(tracker)
        await asyncio.gather(*erasure_request._tasks)
    assert sent == [("web-9", "webchat", erasure_request.ACKNOWLEDGEMENT)] * 2
    assert erasure_request.ACKNOWLEDGEMENT.startswith(
        "Votre demande d'effacement est transmise")
    [flagged] = queue(store_url)
    assert flagged["id"] == case["id"] and flagged["erasure_requested_at"] is not None
    with db.session_factory(store_url).begin() as session:
        first = cases.get_case(session, case["id"])
    assert first["erasure_requested_at"] == flagged["erasure_requested_at"]  # kept, not moved
    assert [m["text"] for m in first["messages"]][-1] == "supprimez mes données"
