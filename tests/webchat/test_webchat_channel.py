"""The web chat channel (connectors/webchat.py): its pure pieces, and the channel served by a
real Sanic server on 127.0.0.1 to python-socketio's client, with a stand-in for Rasa's agent
(``on_new_message``) that answers, waits or fails as each test needs. The real agent behind
the same channel is in tests/e2e/test_webchat*.py and tests/security/test_webchat_sessions.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from connectors.webchat import (
    CHOICE_REFUSED,
    NOT_SAVED,
    SECRET,
    WebChatInput,
    accepted_payload,
    allowed_origins,
    button_payloads,
    conversation_id_of,
    domain_button_payloads,
    session_secret,
)
from permanence import conversations

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------ pure pieces


def test_the_domain_offers_its_buttons_and_no_command():
    payloads = domain_button_payloads(ROOT / "domain.yml")
    assert {"/affirm", "/deny", "/question_urbanisme", "/question_hors_champ"} <= payloads
    for command in ("/restart", "/session_start", "/back", "/stop", "/delete_data",
                    '/affirm{"consent": "given"}', "restart"):
        assert command not in payloads


def test_button_payloads_reads_every_variation_and_skips_what_is_not_a_button():
    domain = {"responses": {
        "utter_a": [{"text": "a", "buttons": [{"title": "Oui", "payload": "/affirm"},
                                              {"title": "Sans payload"},
                                              {"title": "Vide", "payload": ""},
                                              {"title": "Nombre", "payload": 3},
                                              "pas un bouton"]},
                    {"text": "a2", "channel": "webchat",
                     "buttons": [{"title": "Non", "payload": "/deny"}]}],
        "utter_b": [{"text": "sans boutons"}],
        "utter_c": "pas une liste",
        "utter_d": [{"text": "d", "buttons": "pas une liste"}],
    }}
    assert button_payloads(domain) == {"/affirm", "/deny"}
    assert button_payloads({}) == frozenset()
    assert button_payloads({"responses": None}) == frozenset()


def test_a_click_is_accepted_only_with_a_payload_the_domain_offers():
    allowed = frozenset({"/affirm", "Particulier"})
    assert accepted_payload("/affirm", allowed) == "/affirm"
    assert accepted_payload("Particulier", allowed) == "Particulier"
    for forged in ("/restart", "/session_start", "/back", '/affirm{"consent":"given"}',
                   "/affirm ", "particulier", None, 1, ["/affirm"]):
        assert accepted_payload(forged, allowed) is None


def test_the_server_issues_a_new_secret_unless_a_well_formed_one_is_presented():
    issued, resumed = session_secret(None)
    assert not resumed and SECRET.match(issued) and len(issued) == 43
    assert session_secret(issued) == (issued, True)
    others = {session_secret(None)[0] for _ in range(50)}
    assert len(others) == 50 and issued not in others
    victim = conversation_id_of(issued)
    # A conversation id, an id of the former protocol, or anything else: a new session.
    for presented in (victim, conversations.local_id(victim, "web"), uuid.uuid4().hex,
                      issued[:-1], issued + "A", issued[:-1] + "=", 42, {"secret": issued}):
        new, resumed = session_secret(presented)
        assert not resumed and new != presented and new != issued


def test_the_conversation_id_is_derived_from_the_secret_and_does_not_reveal_it():
    secret = session_secret(None)[0]
    conversation_id = conversation_id_of(secret)
    assert conversation_id == "web:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    assert conversations.split(conversation_id)[0] == "web"
    assert secret not in conversation_id and conversation_id_of(secret) == conversation_id
    # The id, presented as a secret, is not the way in: it names another conversation.
    assert conversation_id_of(session_secret(conversation_id)[0]) != conversation_id


def test_public_origins_are_parsed_as_browsers_send_them():
    assert allowed_origins(None) is None
    assert allowed_origins("") is None
    assert allowed_origins(" , ") is None
    assert allowed_origins("https://chat.cabinet.fr") == ["https://chat.cabinet.fr"]
    assert allowed_origins(" HTTPS://Chat.Cabinet.fr/ ,https://www.cabinet.fr:443,"
                           "http://127.0.0.1:5005, http://localhost:80") == [
        "https://chat.cabinet.fr", "https://www.cabinet.fr", "http://127.0.0.1:5005",
        "http://localhost"]
    for wrong in ("*", "chat.cabinet.fr", "https://chat.cabinet.fr/chat", "ftp://cabinet.fr",
                  "https://chat.cabinet.fr:0", "https://chat.cabinet.fr:70000",
                  "https://a.fr, *", "null"):
        with pytest.raises(ValueError, match="PERMANENCE_PUBLIC_ORIGIN"):
            allowed_origins(wrong)


# ------------------------------------------------------------------ the channel, served


@dataclass
class Agent:
    """What stands for Rasa's agent: records the messages, answers each with two messages
    through the turn's output, and waits for ``release`` or fails when told to."""

    handled: list[UserMessage] = field(default_factory=list)
    fail: bool = False
    release: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, message: UserMessage) -> None:
        self.handled.append(message)
        await message.output_channel.send_text_message(message.sender_id,
                                                       f"reçu : {message.text}")
        await message.output_channel.send_text_with_buttons(
            message.sender_id, "C'est fait.", [{"title": "Oui", "payload": "/affirm"}])
        self.started.set()
        if self.release is not None:
            await self.release.wait()
        if self.fail:
            raise RuntimeError(f"database is locked while saving {message.text!r}")


@dataclass
class Served:
    url: str
    channel: WebChatInput
    agent: Agent


@asynccontextmanager
async def serving(channel: WebChatInput, agent: Agent) -> AsyncIterator[Served]:
    """The channel's blueprint on a Sanic server on a free 127.0.0.1 port."""
    app = Sanic(f"webchat_test_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(agent), url_prefix="/chat")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield Served(f"http://127.0.0.1:{port}", channel, agent)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


@dataclass
class Page:
    client: socketio.AsyncClient
    received: asyncio.Queue
    secret: str | None = None

    @property
    def conversation_id(self) -> str:
        assert self.secret
        return conversation_id_of(self.secret)

    async def emit(self, data: Any) -> None:
        await self.client.emit("user_uttered", data)

    async def drain(self, quiet: float = 0.5) -> list[dict]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(self.received.get(), quiet))
            except asyncio.TimeoutError:
                return messages


async def open_page(url: str, secret: Any = None, request: bool = True,
                    headers: dict | None = None) -> Page:
    client = socketio.AsyncClient(reconnection=False)
    page = Page(client, asyncio.Queue())
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    client.on("bot_uttered", page.received.put_nowait)
    client.on("session_confirm",
              lambda data: confirmed.done() or confirmed.set_result(data))
    await client.connect(url, socketio_path="/socket.io", transports=["polling"],
                         headers=headers or {})
    if request:
        await client.emit("session_request", {"secret": secret})
        page.secret = (await asyncio.wait_for(confirmed, 10))["secret"]
    return page


Opener = Callable[..., Awaitable[Page]]


async def close_quickly(pages: list[Page]) -> None:
    """Let go of the sockets without waiting for their pending long-poll (up to the ping
    interval, 25 s each): the server is stopped right after."""
    for page in pages:
        if page.client.eio.state == "connected":
            await page.client.eio.disconnect(abort=True)


@pytest.fixture
async def chat(monkeypatch) -> AsyncIterator[tuple[Served, Opener]]:
    """A served channel and a way to open pages on it; pages closed, then the server."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.delenv("PERMANENCE_PUBLIC_ORIGIN", raising=False)
    opened: list[Page] = []
    async with serving(WebChatInput(), Agent()) as served:

        async def opener(*args: Any, **kwargs: Any) -> Page:
            page = await open_page(served.url, *args, **kwargs)
            opened.append(page)
            return page

        try:
            yield served, opener
        finally:
            await close_quickly(opened)
    for page in opened:
        if page.client.eio.read_loop_task is not None:
            await asyncio.wait([page.client.eio.read_loop_task], timeout=10)


async def test_a_turns_messages_wait_until_the_turn_was_handled(chat):
    served, pages = chat
    served.agent.release = asyncio.Event()
    page = await pages()
    await page.emit({"message": "bonjour", "message_id": "m1"})
    await asyncio.wait_for(served.agent.started.wait(), 10)
    assert await page.drain() == []  # answered, not yet saved: nothing shown
    served.agent.release.set()
    received = await page.drain()
    assert [m["text"] for m in received] == ["reçu : bonjour", "C'est fait."]
    assert received[-1]["quick_replies"][0]["payload"] == "/affirm"
    [message] = served.agent.handled
    assert message.sender_id == page.conversation_id
    assert message.input_channel == "webchat" and message.message_id == "m1"


async def test_a_failed_turn_is_reported_and_nothing_of_it_is_shown(chat, caplog):
    served, pages = chat
    served.agent.fail = True
    page = await pages()
    with caplog.at_level(logging.INFO, logger="connectors.webchat"):
        await page.emit({"message": "supprimez mes données", "message_id": "m1"})
        assert [m["text"] for m in await page.drain()] == [NOT_SAVED]
    failures = [r for r in caplog.records if r.getMessage().startswith("webchat.turn.failed")]
    assert len(failures) == 1 and failures[0].levelno == logging.ERROR
    log = caplog.text
    assert "supprimez" not in log and "database is locked" not in log
    assert page.secret not in log and page.conversation_id not in log
    assert conversations.local_id(page.conversation_id, "web") not in log
    # The same message sent again (same id) is handled again, not taken for a duplicate.
    served.agent.fail = False
    await page.emit({"message": "supprimez mes données", "message_id": "m1"})
    assert [m["text"] for m in await page.drain()] == ["reçu : supprimez mes données",
                                                       "C'est fait."]
    assert len(served.agent.handled) == 2


async def test_a_socket_speaks_and_hears_only_its_own_conversation(chat):
    served, pages = chat
    victim = await pages()
    intruder_without_session = await pages(request=False)
    await intruder_without_session.emit({"message": "bonjour",
                                         "session_id": victim.conversation_id})
    await intruder_without_session.client.emit("session_request",
                                               {"session_id": victim.conversation_id})
    intruder = await pages(victim.conversation_id)
    assert intruder.secret != victim.secret
    await intruder.emit({"message": "c'est moi", "session_id": victim.conversation_id,
                         "sender": victim.conversation_id})
    assert [m["text"] for m in await intruder.drain()][0] == "reçu : c'est moi"
    assert [m.sender_id for m in served.agent.handled] == [intruder.conversation_id]
    # A push to the victim's conversation (the desk's reply) reaches the victim only.
    await served.channel.get_output_channel().send_text_message(
        victim.conversation_id, "Bonjour, ici Maître Exemple.")
    assert [m["text"] for m in await victim.drain()] == ["Bonjour, ici Maître Exemple."]
    assert await intruder.drain() == [] and await intruder_without_session.drain() == []
    # The victim's own second page (same secret, a reload) hears the conversation too.
    second = await pages(victim.secret)
    assert second.secret == victim.secret
    # What no page acknowledged is sent again to the page that opens (the durable web chat).
    assert [m["text"] for m in await second.drain()] == ["Bonjour, ici Maître Exemple."]
    await victim.emit({"message": "merci"})
    assert [m["text"] for m in await second.drain()] == ["reçu : merci", "C'est fait."]
    assert [m["text"] for m in await victim.drain()] == ["reçu : merci", "C'est fait."]
    assert await intruder.drain() == []


async def test_typed_commands_are_text_and_forged_clicks_are_refused(chat):
    served, pages = chat
    page = await pages()
    await page.emit({"message": "  /restart", "message_id": "t1"})
    await page.emit({"payload": "/restart", "message_id": "t2"})
    await page.emit({"payload": '/affirm{"consent": "given"}', "message_id": "t3"})
    await page.emit({"payload": None})
    await page.emit({"message": "/"})
    await page.emit({"payload": "/affirm", "message_id": "t4"})
    received = [m["text"] for m in await page.drain(1.0)]
    assert received.count(CHOICE_REFUSED) == 3
    assert [m.text for m in served.agent.handled] == ["restart", "/affirm"]


async def test_the_page_and_its_files_forbid_framing_and_inline_script(chat):
    served, _ = chat
    async with aiohttp.ClientSession() as http:
        for path in ("/chat/", "/chat/static/chat.js", "/chat/static/chat.css",
                     "/chat/static/socket.io.min.js", "/chat/static/nothing"):
            async with http.get(served.url + path) as answer:
                csp = answer.headers["Content-Security-Policy"]
                assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
                assert "connect-src 'self'" in csp and "unsafe-inline" not in csp
                assert answer.headers["X-Frame-Options"] == "DENY"
                assert answer.headers["X-Content-Type-Options"] == "nosniff"
                assert answer.headers["Referrer-Policy"] == "no-referrer"
        async with http.get(served.url + "/chat/") as answer:
            html = await answer.text()
    assert "<script>" not in html and "style=" not in html and "<style" not in html


async def test_only_the_sites_own_origin_may_open_a_socket(chat):
    served, pages = chat
    with pytest.raises(socketio.exceptions.ConnectionError):
        await open_page(served.url, headers={"Origin": "http://evil.example"})
    host = served.url.removeprefix("http://")
    page = await pages(headers={"Origin": served.url, "Host": host})
    assert page.secret


async def test_a_configured_public_origin_replaces_the_same_origin_check(monkeypatch):
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setenv("PERMANENCE_PUBLIC_ORIGIN", "https://chat.cabinet.fr, https://cabinet.fr")
    channel = WebChatInput()
    assert channel.origins == ["https://chat.cabinet.fr", "https://cabinet.fr"]
    async with serving(channel, Agent()) as served:
        page = await open_page(served.url, headers={"Origin": "https://chat.cabinet.fr"})
        try:
            assert page.secret
        finally:
            await close_quickly([page])
        # The server's own address is no longer enough: only the configured public origins.
        for origin in (served.url, "http://evil.example", "https://chat.cabinet.fr.evil.example"):
            with pytest.raises(socketio.exceptions.ConnectionError):
                await open_page(served.url, headers={"Origin": origin})
    monkeypatch.setenv("PERMANENCE_PUBLIC_ORIGIN", "*")
    with pytest.raises(ValueError, match="PERMANENCE_PUBLIC_ORIGIN"):
        WebChatInput()


async def test_a_socket_asking_for_another_session_leaves_the_former(chat):
    served, pages = chat
    page = await pages()
    former = page.conversation_id
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    page.client.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
    await page.client.emit("session_request", {})
    page.secret = (await asyncio.wait_for(confirmed, 10))["secret"]
    assert page.conversation_id != former
    output = served.channel.get_output_channel()
    await output.send_text_message(former, "à l'ancienne conversation")
    await output.send_text_message(page.conversation_id, "à la nouvelle")
    assert [m["text"] for m in await page.drain()] == ["à la nouvelle"]
    await page.emit({"message": "bonjour"})
    await page.drain()
    assert [m.sender_id for m in served.agent.handled] == [page.conversation_id]
