"""Continuing an X conversation on the web chat (connectors/webchat.py, permanence/continue_*):
the channel served by a real Sanic server on 127.0.0.1 to python-socketio's client, a real
store on SQLite, and a stand-in for Rasa's agent and its tracker store (the real ones are in
tests/e2e/test_x_overflow.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import socketio
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from connectors.webchat import (
    CONTINUED,
    LINK_FAILED,
    LINK_REFUSED,
    WebChatInput,
    conversation_id_of,
    transcript,
)
from permanence import continue_link, continue_store, erasure
from tests.webchat.test_webchat_channel import Agent, close_quickly, serving

CONV = "x:4242"


def test_the_transcript_keeps_the_persons_and_the_bots_texts():
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "Bonjour, un permis refusé"},
        {"event": "user", "text": "/affirm"},  # a click: not shown
        {"event": "bot", "text": "Je suis un assistant automatisé."},
        {"event": "bot", "text": None},
        {"event": "slot", "name": "urgence", "value": "P1"},
        {"event": "user", "text": "  "},
        "not an event",
    ]
    assert transcript(events) == [
        {"who": "user", "text": "Bonjour, un permis refusé"},
        {"who": "bot", "text": "Je suis un assistant automatisé."}]
    many = [{"event": "bot", "text": str(i)} for i in range(300)]
    assert [m["text"] for m in transcript(many)] == [str(i) for i in range(100, 300)]


@dataclass
class TrackerStore:
    trackers: dict[str, DialogueStateTracker] = field(default_factory=dict)

    async def retrieve_full_tracker(self, conversation_id: str
                                    ) -> DialogueStateTracker | None:
        return self.trackers.get(conversation_id)


@dataclass
class Page:
    client: socketio.AsyncClient
    said: asyncio.Queue
    history: list[dict] = field(default_factory=list)
    confirm: dict = field(default_factory=dict)

    async def drain(self, quiet: float = 0.5) -> list[str]:
        texts = []
        while True:
            try:
                texts.append((await asyncio.wait_for(self.said.get(), quiet))["text"])
            except asyncio.TimeoutError:
                return texts


async def open_page(url: str, request: dict[str, Any]) -> Page:
    client = socketio.AsyncClient(reconnection=False)
    page = Page(client, asyncio.Queue())
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    client.on("bot_uttered", page.said.put_nowait)
    client.on("history", lambda data: page.history.extend(data["messages"]))
    client.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
    await client.connect(url, socketio_path="/socket.io", transports=["polling"])
    await client.emit("session_request", request)
    page.confirm = await asyncio.wait_for(confirmed, 10)
    return page


@pytest.fixture
async def served(monkeypatch, tmp_path) -> AsyncIterator[Any]:
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.delenv("PERMANENCE_PUBLIC_ORIGIN", raising=False)
    monkeypatch.setenv(continue_link.SECRET_ENV, "s" * 40)
    monkeypatch.setenv(continue_link.BASE_URL_ENV, "https://chat.cabinet.example")
    monkeypatch.setenv("PERMANENCE_X_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    continue_store.reset_shared()
    tracker = DialogueStateTracker.from_events(CONV, [
        ActionExecuted("action_listen"), UserUttered("Bonjour, mon permis a été refusé"),
        BotUttered("Je suis un assistant automatisé, pas un avocat."),
        UserUttered("/affirm"), BotUttered("Merci. Quelle est la date de la décision ?")])
    pages: list[Page] = []
    async with serving(WebChatInput(), Agent()) as running:
        running.channel.app.ctx.agent = SimpleNamespace(
            tracker_store=TrackerStore({CONV: tracker}))

        async def opener(request: dict[str, Any]) -> Page:
            page = await open_page(running.url, request)
            pages.append(page)
            return page

        try:
            yield SimpleNamespace(served=running, open=opener,
                                  store=running.channel.links_store,
                                  settings=running.channel.links)
        finally:
            await close_quickly(pages)
    continue_store.reset_shared()


async def test_a_link_opens_the_same_conversation_once(served, caplog):
    token = served.store.issue(served.settings, CONV).token
    with caplog.at_level(logging.INFO):
        page = await served.open({"continue": token})
        assert page.confirm["continued"] is True
        assert await page.drain() == [CONTINUED]  # after the history
        assert page.history == [
            {"who": "user", "text": "Bonjour, mon permis a été refusé"},
            {"who": "bot", "text": "Je suis un assistant automatisé, pas un avocat."},
            {"who": "bot", "text": "Merci. Quelle est la date de la décision ?"}]
        await page.client.emit("user_uttered", {"message": "le 3 novembre", "message_id": "m1"})
        assert await page.drain() == ["reçu : le 3 novembre", "C'est fait."]
        [message] = served.served.agent.handled
        assert (message.sender_id, message.input_channel) == (CONV, "webchat")
        # The desk's reply to the X conversation reaches the page.
        await served.served.channel.get_output_channel().send_text_message(CONV, "Maître A.")
        assert await page.drain() == ["Maître A."]

        # The same link again: nothing of the conversation.
        again = await served.open({"continue": token})
        assert await again.drain() == [LINK_REFUSED]
        assert again.history == [] and "continued" not in again.confirm
        await again.client.emit("user_uttered", {"message": "c'est moi", "message_id": "m2"})
        assert await again.drain() == ["reçu : c'est moi", "C'est fait."]
        assert served.served.agent.handled[-1].sender_id == conversation_id_of(
            again.confirm["secret"])
        assert await page.drain() == []  # the first page heard nothing of it

        # A reload of the first page (its secret) resumes the X conversation.
        reload = await served.open({"secret": page.confirm["secret"]})
        # First what no page acknowledged (this test's pages do not acknowledge).
        assert await reload.drain() == ["reçu : le 3 novembre", "C'est fait.", "Maître A."]
        await served.served.channel.get_output_channel().send_text_message(CONV, "Suite.")
        assert await reload.drain() == ["Suite."]
    log = caplog.text
    assert token not in log and "4242" not in log and page.confirm["secret"] not in log
    assert "webchat.continue.refused reason=used" in log


async def test_forged_expired_and_other_tokens_get_nothing(served):
    settings = served.settings
    other = continue_link.Settings(b"z" * 40, settings.base_url)
    forged = continue_link.mint(other.secret, CONV, continue_link.datetime.now(
        continue_link.timezone.utc)).token
    issued = served.store.issue(settings, CONV).token
    token_id, expires, signature = issued.split(".")
    stretched = f"{token_id}.{int(expires) + 86400}.{signature}"
    for token in (forged, stretched, "x:4242", 12, {"conversation": CONV}):
        page = await served.open({"continue": token})
        assert await page.drain() == [LINK_REFUSED] and page.history == []
        assert "continued" not in page.confirm
    # None of them consumed the real one.
    assert (await served.open({"continue": issued})).confirm["continued"] is True


async def test_an_erased_conversation_is_out_of_reach_of_its_page(served):
    token = served.store.issue(served.settings, CONV).token
    page = await served.open({"continue": token})
    secret = page.confirm["secret"]
    assert served.store.session_conversation(secret) == CONV
    assert "continue_store" in erasure.registered()
    erasure.erase_everywhere(CONV)
    assert served.store.session_conversation(secret) is None
    reload = await served.open({"secret": secret})
    await reload.client.emit("user_uttered", {"message": "encore", "message_id": "m3"})
    assert await reload.drain() == ["reçu : encore", "C'est fait."]
    assert served.served.agent.handled[-1].sender_id == conversation_id_of(secret)


async def test_a_store_that_fails_consumes_nothing_and_says_so(served):
    token = served.store.issue(served.settings, CONV).token

    def broken(*args, **kwargs):
        raise OSError("disk I/O error")

    served.store.redeem = broken  # the database fails (an instance attribute, removed after)
    try:
        page = await served.open({"continue": token})
    finally:
        del served.store.redeem
    assert await page.drain() == [LINK_FAILED] and page.history == []
    assert "continued" not in page.confirm
    again = await served.open({"continue": token})
    assert again.confirm["continued"] is True
