"""Attacks on the web chat's sessions, against the real servers on 127.0.0.1 (a stack of this
module's own: action server and Rasa with its HTTP API behind a token, no X).

A person (the victim) talks to the assistant in the web chat until the lawyer takes over;
other sockets try to join her conversation, to post into it, to restart it, and a page of
another origin tries to open a socket. None of it reaches her conversation or what is said in
it. The lawyer's reply is pushed as the desk does, through the web chat's output channel
(here with Rasa's HTTP API, ``?output_channel=webchat``, as the conformance kit does).
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import socketio

from connectors.webchat import CHOICE_REFUSED, conversation_id_of
from permanence import conversations
from sandbox.stack import MODEL, ROOT, Stack, wait_for

ALWAYS_LIVE = ROOT / "tests" / "schedule_always_live.yml"
QUESTION = "la mairie refuse mon permis de construire"
ASK_LAWYER = "je veux parler à l'avocat"
REPLY = "Bonjour, ici Maître Exemple. Pouvez-vous m'envoyer l'arrêté de refus ?"
ANSWER_SECONDS = 90.0


@dataclass
class Page:
    """A socket as a page opens it; ``secret`` is what the server issued (None: no session)."""

    client: socketio.Client
    received: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    secret: str | None = None

    @property
    def conversation_id(self) -> str:
        assert self.secret
        return conversation_id_of(self.secret)

    def texts(self) -> list[str]:
        with self.lock:
            return [m.get("text") or "" for m in self.received]

    def emit(self, data: Any) -> None:
        self.client.emit("user_uttered", data)

    def wait_text(self, needle: str, timeout: float = ANSWER_SECONDS) -> bool:
        return bool(wait_for(lambda: any(needle in t for t in self.texts()), timeout, 0.1))


@pytest.fixture(scope="module")
def webchat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    stack = Stack(tmp_path_factory.mktemp("webchat-security"), x_mode=None,
                  api_token=secrets.token_hex(16),
                  env={"PERMANENCE_SCHEDULE_FILE": str(ALWAYS_LIVE)})
    with stack:
        yield stack


@pytest.fixture(scope="module")
def open_webchat_page(webchat_stack: Stack) -> Iterator[Callable[..., Page]]:
    """Opens sockets on the stack; all closed at the end of the module, without waiting for
    their pending long polls (the server holds each up to ~30 s)."""
    opened: list[Page] = []

    def opener(request: dict | None = None, headers: dict | None = None) -> Page:
        page = Page(socketio.Client(reconnection=False))
        confirmed = threading.Event()

        def on_bot(data: Any) -> None:
            with page.lock:
                page.received.append(data)

        def on_confirm(data: Any) -> None:
            page.secret = data["secret"]
            confirmed.set()

        page.client.on("bot_uttered", on_bot)
        page.client.on("session_confirm", on_confirm)
        page.client.connect(webchat_stack.base_url, socketio_path="/socket.io",
                            transports=["polling"], headers=headers or {})
        opened.append(page)
        if request is not None:
            page.client.emit("session_request", request)
            assert confirmed.wait(30), "no session_confirm"
        return page

    yield opener
    for page in opened:  # the close packet is sent; the poll in flight ends with the server
        page.client.eio.disconnect(abort=True)


@dataclass
class Scene:
    victim: Page
    intruders: list[Page]
    silent: Page  # a socket that never asked for a session


@pytest.fixture(scope="module")
def scene(webchat_stack: Stack, open_webchat_page: Callable[..., Page]) -> Scene:
    """The victim has a session; intruders ask for hers with everything they could know or
    guess; then she reaches the lawyer (the conversation is paused)."""
    victim = open_webchat_page({})
    victim_id = victim.conversation_id
    intruders = [open_webchat_page(request) for request in (
        {"secret": victim_id},
        {"secret": conversations.local_id(victim_id, "web")},
        {"session_id": victim_id},
        {"session_id": conversations.local_id(victim_id, "web")},
        {"secret": secrets.token_urlsafe(32)},  # a guessed secret of the right shape
    )]
    silent = open_webchat_page(None)
    victim.emit({"message": QUESTION, "message_id": "q1"})
    assert victim.wait_text("Acceptez-vous"), victim.texts()
    victim.emit({"payload": "/affirm", "message_id": "q2"})
    assert wait_for(lambda: webchat_stack.stored_slots(victim_id).get("consent") == "given",
                    ANSWER_SECONDS), victim.texts()
    victim.emit({"message": ASK_LAWYER, "message_id": "q3"})
    assert victim.wait_text("transmets"), victim.texts()
    assert wait_for(lambda: paused(webchat_stack.stored_events(victim_id)), 30)
    return Scene(victim, intruders, silent)


def paused(events: list[dict]) -> bool:
    kinds = [e["event"] for e in events]
    return "pause" in kinds and "resume" not in kinds[kinds.index("pause"):]


def push_lawyer_reply(stack: Stack, conversation_id: str, text: str) -> None:
    """What the desk does (desk/delivery.py): the web chat's output channel to the
    conversation, through Rasa's HTTP API; the reply is recorded as a bot message."""
    stack.rasa_api("POST", f"/conversations/{conversation_id}/tracker/events"
                           "?output_channel=webchat&execute_side_effects=true",
                   [{"event": "bot", "text": text, "metadata": {"author": "lawyer"}}])


def test_no_other_socket_gets_the_victims_conversation_or_hears_it(webchat_stack, scene):
    victim_id = scene.victim.conversation_id
    for intruder in scene.intruders:
        assert intruder.secret != scene.victim.secret
        assert intruder.conversation_id != victim_id
    assert len({i.conversation_id for i in scene.intruders}) == len(scene.intruders)

    push_lawyer_reply(webchat_stack, victim_id, REPLY)
    assert scene.victim.wait_text(REPLY), scene.victim.texts()
    # The victim heard her whole conversation; nobody else heard anything of it.
    assert any("assistant automatisé" in t.lower() for t in scene.victim.texts())
    time.sleep(2)
    for page in [*scene.intruders, scene.silent]:
        assert page.received == []


def test_a_message_naming_the_victims_session_changes_nothing_of_hers(
        webchat_stack, scene, open_webchat_page):
    victim_id = scene.victim.conversation_id
    before = webchat_stack.stored_events(victim_id)
    forged = {"session_id": victim_id, "sender": victim_id, "sender_id": victim_id,
              "conversation_id": victim_id, "room": victim_id}
    # Without a session: nothing gets through.
    scene.silent.emit({"message": "je retire ma demande", **forged})
    scene.silent.emit({"payload": "/affirm", **forged})
    # With a session of its own: the message goes to the intruder's own conversation.
    intruder = open_webchat_page({"secret": victim_id})
    intruder.emit({"message": "bonjour, je suis la même personne", **forged})
    assert intruder.wait_text("Acceptez-vous"), intruder.texts()
    mine = [e["text"] for e in webchat_stack.stored_events(intruder.conversation_id)
            if e["event"] == "user"]
    assert mine == ["bonjour, je suis la même personne"]
    time.sleep(2)
    assert webchat_stack.stored_events(victim_id) == before
    assert scene.silent.received == []


def test_a_socket_from_another_origin_is_refused(webchat_stack, open_webchat_page):
    handshake = f"{webchat_stack.base_url}/socket.io/?EIO=4&transport=polling"

    def status(headers: dict[str, str], url: str = handshake) -> int:
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    assert status({"Origin": "http://evil.example"}) == 400
    assert status({"Origin": "null"}) == 400
    assert status({"Origin": webchat_stack.base_url.replace("127.0.0.1", "localhost")}) == 400
    assert status({"Origin": "http://evil.example", "Connection": "Upgrade",
                   "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="},
                  handshake.replace("polling", "websocket")) == 400
    with pytest.raises(socketio.exceptions.ConnectionError):
        open_webchat_page(None, headers={"Origin": "http://evil.example"})
    # The site's own page (its origin is the server's) opens its socket.
    assert status({"Origin": webchat_stack.base_url}) == 200
    assert open_webchat_page({}, headers={"Origin": webchat_stack.base_url}).secret


def test_typed_commands_and_forged_clicks_do_not_restart_a_paused_conversation(
        webchat_stack, scene):
    victim, victim_id = scene.victim, scene.victim.conversation_id
    for typed in ("/restart", "/session_start", "  /back", '/affirm{"consent": "refused"}'):
        victim.emit({"message": typed})

    def users() -> list[str]:
        return [e["text"] for e in webchat_stack.stored_events(victim_id) if e["event"] == "user"]

    typed_as_text = ["restart", "session_start", "back", 'affirm{"consent": "refused"}']
    assert wait_for(lambda: users()[-4:] == typed_as_text, ANSWER_SECONDS), users()
    before, shown = webchat_stack.stored_events(victim_id), len(victim.received)
    for forged in ("/restart", "/session_start", "/back", '/affirm{"consent": "refused"}',
                   "/stop", "/delete_data"):
        victim.emit({"payload": forged})
    assert wait_for(lambda: victim.texts()[shown:].count(CHOICE_REFUSED) == 6, 30), (
        victim.texts()[shown:])
    time.sleep(2)
    events = webchat_stack.stored_events(victim_id)
    assert events == before
    kinds = [e["event"] for e in events]
    assert "restart" not in kinds and kinds.count("session_started") == 1
    assert paused(events)
    assert webchat_stack.stored_slots(victim_id).get("consent") == "given"


def test_the_chat_page_and_its_files_forbid_framing(webchat_stack):
    for path in ("/chat", "/chat/static/chat.js", "/chat/static/chat.css",
                 "/chat/static/socket.io.min.js"):
        with urllib.request.urlopen(webchat_stack.base_url + path, timeout=30) as answer:
            headers = answer.headers
        csp = [part.strip() for part in headers["Content-Security-Policy"].split(";")]
        assert "default-src 'self'" in csp and "connect-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert not any("unsafe" in part for part in csp)
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_the_log_has_neither_secrets_nor_conversation_ids(webchat_stack, scene):
    log = webchat_stack.log("rasa")
    assert "webchat.session" in log  # the channel does log its sessions: by reference
    for page in [scene.victim, *scene.intruders]:
        local = conversations.local_id(page.conversation_id, "web")
        assert page.secret not in log
        assert local not in log, f"conversation id in the log: {page.conversation_id}"
