"""The durable web chat (connectors/webchat.py, channels/webchat_store.py): messages kept until a
page acknowledges them, re-sent in order to any page of the conversation that (re)connects, the
lawyer's marked as theirs; the resume link given at the handover; the desk's delivery status;
erasure; the e-mail notice through a real SMTP server on 127.0.0.1 (aiosmtpd).

The channel is served by a real Sanic server to python-socketio's client, with a stand-in for
Rasa's agent; the real stack is in tests/e2e/test_webchat_resume_link.py."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
import socketio
from aiosmtpd.controller import Controller
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from channels import webchat_store
from channels.webchat_store import (
    NOT_READ,
    WebchatStore,
    clean_email,
    clean_ids,
    status_of,
)
from connectors import webchat_notice
from connectors.webchat import (
    RESUME_REFUSED,
    WebChatInput,
    conversation_id_of,
    event_key,
    message_key,
    transcript,
)
from desk import views
from permanence import deliveries, erasure
from sandbox.stack import free_port
from tests.webchat.test_webchat_channel import serving

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=timezone.utc)
REPLY = "Bonjour, ici Maître Exemple. Avez-vous gardé le courrier ?"

# ------------------------------------------------------------------ pure pieces


def test_a_reply_is_delivered_once_every_part_was_acknowledged():
    assert status_of([]) is None
    assert status_of([None]) == deliveries.Status(deliveries.QUEUED, reason=NOT_READ)
    assert status_of([NOW, None]).state == deliveries.QUEUED
    later = NOW + timedelta(minutes=3)
    assert status_of([NOW, later]) == deliveries.Status(deliveries.DELIVERED, at=later)


def test_the_desk_says_not_read_then_delivered_with_the_time():
    queued = views.delivery_view({"delivery": "sent", "channel_delivery": deliveries.as_json(
        status_of([None]))})
    assert queued["state"] == "queued"
    assert queued["label"] == "pas encore lu : la personne n'a pas rouvert la conversation"
    shown = views.delivery_view({"delivery": "sent", "channel_delivery": deliveries.as_json(
        status_of([NOW]))})
    assert shown["state"] == "delivered" and shown["label"].startswith("remis le ")
    assert views.delivery_view({"delivery": "sent"})["label"] == "envoyé"


def test_acknowledged_ids_and_addresses_are_checked():
    assert clean_ids(["12", 13, "x", -1, True, None, "1" * 19, 1.5]) == [12, 13]
    assert clean_ids("12") == [] and clean_ids(None) == []
    assert len(clean_ids([str(i) for i in range(500)])) == 100
    assert clean_email("  marie.dupont@exemple.fr ") == "marie.dupont@exemple.fr"
    for wrong in ("marie", "marie@", "@exemple.fr", "marie@exemple", "ma rie@exemple.fr",
                  "a@b@exemple.fr", "marie@exemple.fr\nBcc: x@y.fr", "<m@exemple.fr>",
                  "m@" + "a" * 250 + ".fr", 42, None):
        assert clean_email(wrong) is None, wrong


def test_the_history_marks_the_lawyer_and_carries_the_kept_ids():
    events = [
        {"event": "user", "text": "bonjour", "timestamp": 1.0},
        {"event": "bot", "text": "Je transmets.", "timestamp": 2.5,
         "metadata": {"utter_action": "utter_handoff"}},
        {"event": "bot", "text": REPLY, "timestamp": 3.0,
         "metadata": {"author": "lawyer", "delivery_ref": "desk-message:7"}},
        {"event": "bot", "text": "Ancienne réponse", "timestamp": 4.0,
         "metadata": {"author": "lawyer"}},
    ]
    assert event_key(events[1]) == "ts:2.5" == message_key({"timestamp": 2.5})
    assert event_key(events[2]) == "ref:desk-message:7" and event_key(events[3]) is None
    assert transcript(events, kept={"ts:2.5": ["4", "5"], "ref:desk-message:7": ["9"]}) == [
        {"who": "user", "text": "bonjour"},
        {"who": "bot", "text": "Je transmets.", "ids": ["4", "5"]},
        {"who": "bot", "text": REPLY, "from": "lawyer", "ids": ["9"]},
        {"who": "bot", "text": "Ancienne réponse", "from": "lawyer"}]


def test_the_notice_says_nothing_of_the_conversation():
    subject, body = webchat_notice.notice_mail()
    assert subject == "Votre avocat vous a répondu"
    assert "lien personnel que vous avez gardé" in body
    assert "http" not in body and "#resume" not in body


# ------------------------------------------------------------------ the store


@pytest.fixture
def store(fresh_database_url: str) -> Iterator[WebchatStore]:
    opened = WebchatStore.create(fresh_database_url)
    yield opened
    opened.close()


def test_messages_wait_for_their_acknowledgement_in_order(store: WebchatStore):
    conv, other = "web:aaaa", "web:bbbb"
    first = store.add(conv, "bot", [({"text": "un"}, "ts:1.0"), ({"text": "deux"}, "ts:1.0")],
                      now=NOW)
    [reply] = store.add(conv, "lawyer", [({"text": REPLY, "from": "lawyer"}, "ref:r1")],
                        delivery_ref="r1", now=NOW)
    store.add(other, "bot", [({"text": "ailleurs"}, None)], now=NOW)
    assert [m.body["text"] for m in store.unacked(conv)] == ["un", "deux", REPLY]
    assert reply.body == {"text": REPLY, "from": "lawyer", "id": str(reply.id)}
    assert store.event_ids(conv) == {"ts:1.0": [str(m.id) for m in first],
                                     "ref:r1": [str(reply.id)]}
    assert store.deliveries(["r1", "r2"]) == {"r1": status_of([None])}
    # Another conversation's page cannot acknowledge them.
    assert store.ack(other, [m.id for m in first] + [reply.id], now=NOW) == 0
    assert store.ack(conv, [first[0].id, reply.id], now=NOW + timedelta(minutes=1)) == 2
    assert store.ack(conv, [reply.id], now=NOW + timedelta(minutes=2)) == 0  # once
    assert [m.body["text"] for m in store.unacked(conv)] == ["deux"]
    assert store.deliveries(["r1"]) == {"r1": deliveries.Status(
        deliveries.DELIVERED, at=NOW + timedelta(minutes=1))}
    # Acknowledged: the text is gone from the store (the tracker keeps the conversation).
    assert store.prune(NOW + timedelta(days=1)) == 2
    assert store.deliveries(["r1"]) == {}
    assert [m.body["text"] for m in store.unacked(conv)] == ["deux"]


def test_a_resume_link_opens_its_conversation_until_it_is_erased(store: WebchatStore):
    conv = "web:cccc"
    token = store.resume_issue(conv, NOW)
    assert token and len(token) == 43 and store.has_resume(conv)
    assert store.resume_issue(conv, NOW) is None  # once per conversation
    assert store.resume_open(token, "s" * 43) == conv
    assert store.resume_open(token, "t" * 43) == conv  # a bookmark: any number of times
    assert store.session_conversation("s" * 43) == conv
    for wrong in (token[:-1], token + "A", "u" * 43, None, 12):
        assert store.resume_open(wrong, "v" * 43) is None
    store.notice_set(conv, "marie@exemple.fr", NOW)
    store.add(conv, "bot", [({"text": "un"}, None)], now=NOW)
    assert store.erase_conversation(conv) == 5
    assert store.resume_open(token, "w" * 43) is None
    assert store.session_conversation("s" * 43) is None and store.unacked(conv) == []


def test_one_notice_per_burst_of_replies(store: WebchatStore):
    conv, quiet = "web:dddd", "web:eeee"
    store.notice_set(conv, "marie@exemple.fr", NOW)
    store.notice_set(quiet, "paul@exemple.fr", NOW)
    assert store.notices_due(60, NOW) == []
    [first] = store.add(conv, "lawyer", [({"text": REPLY}, None)], "r1", NOW)
    store.add(quiet, "bot", [({"text": "le bot"}, None)], now=NOW)  # not the lawyer: none
    assert store.notices_due(60, NOW + timedelta(seconds=30)) == []  # the page may be open
    later = NOW + timedelta(seconds=61)
    assert store.notices_due(60, later) == [(conv, "marie@exemple.fr")]
    assert store.notices_due(60, later) == []  # claimed
    store.add(conv, "lawyer", [({"text": "encore"}, None)], "r2", later)
    assert store.notices_due(60, later + timedelta(minutes=5)) == []  # the same burst
    # The person comes back (a page acknowledges), then the lawyer answers again.
    store.ack(conv, [first.id], later + timedelta(minutes=6))
    assert store.notices_due(60, later + timedelta(minutes=7)) == [(conv, "marie@exemple.fr")]
    store.notice_set(conv, None)  # withdrawn
    store.add(conv, "lawyer", [({"text": "toujours"}, None)], "r3", later)
    assert store.notices_due(60, later + timedelta(hours=1)) == []


# ------------------------------------------------------------------ the channel, served


@dataclass
class Agent:
    """Answers each message with one message; « avocat » hands over (the handover's
    response), « effacer » erases the conversation everywhere during the turn."""

    handled: list[UserMessage] = field(default_factory=list)

    async def __call__(self, message: UserMessage) -> None:
        self.handled.append(message)
        output, conv = message.output_channel, message.sender_id
        if "effacer" in message.text:
            await asyncio.get_running_loop().run_in_executor(
                None, erasure.erase_everywhere, conv)
            await output.send_response(conv, {"text": "C'est fait.", "timestamp": 9.0})
        elif "avocat" in message.text:
            await output.send_response(conv, {"text": "Je transmets à Maître Exemple.",
                                              "utter_action": "utter_handoff",
                                              "timestamp": 2.0})
        else:
            await output.send_response(conv, {"text": f"reçu : {message.text}",
                                              "timestamp": 1.0})


@dataclass
class Page:
    client: socketio.AsyncClient
    said: asyncio.Queue
    acks: bool
    confirm: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    link: asyncio.Future | None = None
    notices: asyncio.Queue = field(default_factory=asyncio.Queue)

    async def drain(self, quiet: float = 0.5) -> list[dict]:
        found = []
        while True:
            try:
                found.append(await asyncio.wait_for(self.said.get(), quiet))
            except asyncio.TimeoutError:
                return found

    async def say(self, text: str) -> list[dict]:
        await self.client.emit("user_uttered", {"message": text})
        return await self.drain()


async def open_page(url: str, request: dict[str, Any], acks: bool = True) -> Page:
    """A page; with ``acks`` it acknowledges every kept message it gets, as chat.js does."""
    client = socketio.AsyncClient(reconnection=False)
    loop = asyncio.get_running_loop()
    page = Page(client, asyncio.Queue(), acks, link=loop.create_future())
    confirmed: asyncio.Future = loop.create_future()

    async def said(data: dict) -> None:
        page.said.put_nowait(data)
        if page.acks and "id" in data:
            await client.emit("ack", {"ids": [data["id"]]})

    async def history(data: dict) -> None:
        page.history.extend(data["messages"])
        ids = [i for m in data["messages"] for i in m.get("ids", [])]
        if page.acks and ids:
            await client.emit("ack", {"ids": ids})

    client.on("bot_uttered", said)
    client.on("history", history)
    client.on("resume_link", lambda data: page.link.done() or page.link.set_result(data))
    client.on("notice_confirm", page.notices.put_nowait)
    client.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
    await client.connect(url, socketio_path="/socket.io", transports=["polling"])
    await client.emit("session_request", request)
    page.confirm = await asyncio.wait_for(confirmed, 10)
    return page


@pytest.fixture
async def chat(monkeypatch) -> AsyncIterator[SimpleNamespace]:
    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.delenv("PERMANENCE_PUBLIC_ORIGIN", raising=False)
    pages: list[Page] = []
    async with serving(WebChatInput(), Agent()) as served:
        async def opener(request: dict[str, Any], acks: bool = True) -> Page:
            page = await open_page(served.url, request, acks)
            pages.append(page)
            return page

        async def close(page: Page) -> None:
            await page.client.eio.disconnect(abort=True)

        try:
            yield SimpleNamespace(served=served, open=opener, close=close,
                                  store=served.channel.kept.store,
                                  output=served.channel.get_output_channel())
        finally:
            for page in pages:
                if page.client.eio.state == "connected":
                    await page.client.eio.disconnect(abort=True)


async def until(probe, timeout: float = 10.0):
    for _ in range(int(timeout / 0.05)):
        found = probe()
        if found:
            return found
        await asyncio.sleep(0.05)
    return probe()


async def test_a_closed_page_gets_the_lawyers_reply_through_the_resume_link(chat):
    page = await chat.open({})
    conv = conversation_id_of(page.confirm["secret"])
    assert [m["text"] for m in await page.say("bonjour")] == ["reçu : bonjour"]
    assert [m["text"] for m in await page.say("je veux l'avocat")] == [
        "Je transmets à Maître Exemple."]
    link = await asyncio.wait_for(page.link, 5)
    assert len(link["token"]) == 43 and link["notice"] is False  # no SMTP here
    await until(lambda: chat.store.unacked(conv) == [])
    await chat.close(page)

    # The lawyer answers the closed page: kept, not read yet.
    await chat.output.send_text_message(conv, REPLY, delivery_ref="desk-message:1")
    assert chat.store.deliveries(["desk-message:1"])["desk-message:1"].reason == NOT_READ
    assert [m.body for m in chat.store.unacked(conv)] == [
        {"text": REPLY, "from": "lawyer", "id": chat.store.unacked(conv)[0].body["id"]}]

    # Another browser opens the link: a new secret on the same conversation, the reply.
    other = await chat.open({"resume": link["token"]})
    assert other.confirm["resumed"] is True and other.confirm["secret"] != page.confirm["secret"]
    [reply] = await other.drain()
    assert (reply["text"], reply["from"]) == (REPLY, "lawyer")
    status = await until(lambda: chat.store.deliveries(["desk-message:1"])[
        "desk-message:1"].state == deliveries.DELIVERED)
    assert status
    # Its secret resumes the conversation (a reload), with nothing left to re-send.
    reload = await chat.open({"secret": other.confirm["secret"]})
    assert await reload.drain() == []
    await reload.client.emit("user_uttered", {"message": "merci"})
    await reload.drain()
    assert chat.served.agent.handled[-1].sender_id == conv


async def test_every_page_that_connects_gets_what_no_page_acknowledged_in_order(chat):
    first = await chat.open({}, acks=False)
    secret = first.confirm["secret"]
    conv = conversation_id_of(secret)
    for text in ("un", "deux"):
        await first.say(text)
    await chat.output.send_text_message(conv, REPLY, delivery_ref="desk-message:2")
    await first.drain()
    kept = [m.body for m in chat.store.unacked(conv)]
    assert [m["text"] for m in kept] == ["reçu : un", "reçu : deux", REPLY]
    # A reconnection (same secret) gets them again, in order, with the same ids.
    second = await chat.open({"secret": secret})
    again = await second.drain()
    assert again == kept
    await until(lambda: chat.store.unacked(conv) == [])
    third = await chat.open({"secret": secret})
    assert await third.drain() == []


async def test_an_unknown_link_opens_nothing_and_an_erased_one_neither(chat):
    page = await chat.open({})
    conv = conversation_id_of(page.confirm["secret"])
    await page.say("l'avocat")
    token = (await asyncio.wait_for(page.link, 5))["token"]
    await page.say("encore l'avocat")  # the link is given once per conversation
    opened = await chat.open({"resume": token})
    assert opened.confirm["resumed"] is True
    stranger = await chat.open({"resume": "A" * 43})
    assert [m["text"] for m in await stranger.drain()] == [RESUME_REFUSED]
    assert "resumed" not in stranger.confirm and stranger.history == []

    # « effacer »: the turn erases everything; its confirmation is shown, not kept.
    assert "webchat_store" in erasure.registered()
    assert [m["text"] for m in await page.say("effacer")] == ["C'est fait."]
    assert chat.store.unacked(conv) == [] and chat.store.event_ids(conv) == {}
    late = await chat.open({"resume": token})
    assert [m["text"] for m in await late.drain()] == [RESUME_REFUSED]
    # The secret the link had opened reaches nothing of the conversation any more.
    assert chat.store.session_conversation(opened.confirm["secret"]) is None


# ------------------------------------------------------------------ the e-mail notice


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(
                envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch) -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("PERMANENCE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PERMANENCE_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("PERMANENCE_SMTP_SECURITY", "none")
    monkeypatch.setenv("PERMANENCE_SMTP_FROM", "permanence@cabinet.example")
    monkeypatch.setenv(webchat_notice.DELAY_ENV, "0")
    monkeypatch.setenv(webchat_notice.INTERVAL_ENV, "0.2")
    yield box
    controller.stop()


async def test_the_notice_tells_only_that_the_lawyer_answered_once_per_burst(smtp, chat):
    page = await chat.open({})
    conv = conversation_id_of(page.confirm["secret"])
    await page.say("l'avocat")
    link = await asyncio.wait_for(page.link, 5)
    assert link["notice"] is True
    for given, error in (("pas une adresse", "invalid"), ("marie@exemple.fr", "consent")):
        await page.client.emit("notice", {"email": given, "consent": given != "marie@exemple.fr"})
        assert await asyncio.wait_for(page.notices.get(), 5) == {"kept": False, "error": error}
    await page.client.emit("notice", {"email": "marie@exemple.fr", "consent": True})
    assert await asyncio.wait_for(page.notices.get(), 5) == {"kept": True, "error": None}
    await chat.close(page)

    await chat.output.send_text_message(conv, REPLY, delivery_ref="desk-message:3")
    await chat.output.send_text_message(conv, "Et la date ?", delivery_ref="desk-message:4")
    assert await until(lambda: smtp.messages)
    await asyncio.sleep(1.0)  # several sweeps: still one mail for the burst
    [(to, mail)] = smtp.messages
    assert to == ["marie@exemple.fr"] and mail["Subject"] == "Votre avocat vous a répondu"
    raw = mail.as_string()
    assert REPLY not in raw and "date" not in mail.get_content()
    assert link["token"] not in raw and "http" not in mail.get_content()

    # The person comes back and reads; the lawyer's next reply is a new burst.
    back = await chat.open({"resume": link["token"]})
    assert len(await back.drain()) == 2
    await until(lambda: chat.store.unacked(conv) == [])
    await chat.close(back)
    await chat.output.send_text_message(conv, "Nouvelle réponse", delivery_ref="desk-message:5")
    assert await until(lambda: len(smtp.messages) == 2)
    # Erased with the rest: no address, no more mail.
    erasure.erase_everywhere(conv)
    await chat.output.send_text_message(conv, "Après", delivery_ref="desk-message:6")
    await asyncio.sleep(1.0)
    assert len(smtp.messages) == 2
    rows = chat.store.engine.connect().exec_driver_sql(
        "SELECT count(*) FROM webchat_notice").scalar()
    assert rows == 0


def test_the_store_is_registered_for_erasure_and_retention(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    opened = webchat_store.shared(url)
    try:
        assert webchat_store.ERASURE_NAME in erasure.registered()
        opened.add("web:ffff", "bot", [({"text": "vieux"}, None)],
                   now=NOW - timedelta(days=40))
        opened.ack("web:ffff", [1], now=NOW - timedelta(days=40))
        assert erasure.prune_everywhere(NOW - timedelta(days=30)) == {"webchat_store": 1}
    finally:
        webchat_store.reset_shared()
