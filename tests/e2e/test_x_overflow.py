"""Overflow to the web chat, end to end: the real Rasa server's X channel (webhook mode)
against the X emulator at X's 2026 limits (15 DMs per 15 minutes, at a time scale), the link
to continue on the web chat turned on, a lawyer on the desk's API and a socket.io client for
the page.

Fourteen people write first and spend fourteen DMs of the window; the person's own answer
takes the last one, so their next answer would wait for the window's reset: that DM carries
the link. The person continues on the web chat: the same conversation (the earlier messages
shown, the same Rasa tracker), the triage finishes there, the desk's case is the X
conversation's, and the lawyer's reply reaches the web chat. The same link again, and a
forged one, get a French refusal and nothing of the conversation.

One stack of its own (its own limits and settings).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import socketio

from connectors.webchat import CONTINUED, LINK_REFUSED, conversation_id_of
from permanence import continue_link
from sandbox.stack import MODEL, ROOT, Stack, http_json, wait_for
from tests.dialogue import QUESTIONS, SUMMARY, URBANISME, URBANISME_ANSWERS

LIMIT = 15  # limits/x-2026.yml: DMs sent per 15 minutes
TIME_SCALE = 10  # a 15-minute window lasts 90 s
AFTER_SECONDS = 5  # the person's next answer would wait longer than this: the link
HANDOVER = "La suite de l'échange se fera ici même"
REPLY = "Bonjour, ici Maître Exemple. Avez-vous gardé l'enveloppe du courrier ?"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    servers = Stack(tmp_path_factory.mktemp("x_overflow"), x_mode="webhook",
                    env={"PERMANENCE_SCHEDULE_FILE": str(ROOT / "tests" /
                                                         "schedule_always_live.yml"),
                         "X_SANDBOX_LIMITS": "x-2026",
                         "X_SANDBOX_TIME_SCALE": str(TIME_SCALE),
                         continue_link.SECRET_ENV: os.urandom(24).hex(),
                         continue_link.AFTER_ENV: str(AFTER_SECONDS)})
    servers.env[continue_link.BASE_URL_ENV] = servers.base_url
    with servers:
        def ready() -> bool:
            with urllib.request.urlopen(f"{servers.base_url}/webhooks/x/", timeout=10) as reply:
                return json.loads(reply.read())["ready"]

        assert wait_for(ready, 60, 0.5), "the X channel did not become ready"
        yield servers
    if "Traceback" in servers.log("rasa"):
        print(servers.log("rasa")[-5000:])


def lawyer_token(stack: Stack) -> str:
    email = "avocat-debord@cabinet.example"
    env = {**os.environ, "PERMANENCE_DATABASE_URL": str(stack.database_url)}
    for args, stdin in ((["user", email, "--password-stdin"], "un mot de passe assez long\n"),
                        (["token", email], None)):
        done = subprocess.run([sys.executable, "-m", "desk.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=True, timeout=60,
                              input=stdin)
    return done.stdout.strip().splitlines()[-1]


@dataclass
class Page:
    """The web chat page, as a socket.io client."""

    client: socketio.AsyncClient
    said: asyncio.Queue = field(default_factory=asyncio.Queue)
    history: list[dict] = field(default_factory=list)
    confirm: dict = field(default_factory=dict)

    async def until(self, needle: str, timeout: float = 90) -> list[str]:
        """The bot's texts up to the first that contains ``needle``."""
        texts: list[str] = []
        while True:
            texts.append((await asyncio.wait_for(self.said.get(), timeout)).get("text") or "")
            if needle in texts[-1]:
                return texts

    async def drain(self, quiet: float = 1.5) -> list[str]:
        texts = []
        while True:
            try:
                texts.append((await asyncio.wait_for(self.said.get(), quiet)).get("text"))
            except asyncio.TimeoutError:
                return texts

    async def say(self, content: dict) -> None:
        await self.client.emit("user_uttered", {"message_id": os.urandom(8).hex(), **content})


async def open_page(stack: Stack, request: dict) -> Page:
    page = Page(socketio.AsyncClient(reconnection=False))
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    page.client.on("bot_uttered", page.said.put_nowait)
    page.client.on("history", lambda data: page.history.extend(data["messages"]))
    page.client.on("session_confirm",
                   lambda data: confirmed.done() or confirmed.set_result(data))
    await page.client.connect(stack.base_url, socketio_path="/socket.io",
                              transports=["polling"])
    await page.client.emit("session_request", request)
    page.confirm = await asyncio.wait_for(confirmed, 10)
    return page


async def test_a_person_waiting_on_x_continues_on_the_web_chat(stack: Stack) -> None:
    run = asyncio.get_running_loop().run_in_executor
    token_of_lawyer = await run(None, lawyer_token, stack)
    others = [str(random.randrange(10**15, 10**18)) for _ in range(LIMIT - 1)]
    person = str(random.randrange(10**15, 10**18))
    conversation = stack.x_conversation(person)

    def answered(people: list[str]) -> bool:
        outbox = stack.x_control("GET", "/_control/outbox")["dms"]
        return {dm["recipient_id"] for dm in outbox} >= set(people)

    for other in others:
        await run(None, stack.x_send_dm, other, "bonjour")
    assert await run(None, wait_for, lambda: answered(others), 120, 0.2)
    await run(None, stack.x_send_dm, person, URBANISME)
    assert await run(None, stack.x_wait_dm_containing, person, "Acceptez-vous", 120)
    [dm] = stack.x_dm_texts(person)
    assert "Beaucoup de messages en ce moment" in dm and "rester sur X" in dm
    token = continue_link.find_continue_token(dm)
    assert token and f"{stack.base_url}/chat?continue={token}" in dm
    usage = stack.x_control("GET", "/_control/usage")
    assert usage["rate_limited_429"].get("dm_send", 0) == 0  # nothing sent into a spent window

    # The person follows the link: the same conversation, what was said on X shown.
    page = await open_page(stack, {"continue": token})
    try:
        assert page.confirm["continued"] is True
        assert await page.until(CONTINUED) == [CONTINUED]
        # The assistant's opening (sent before the person's message is recorded), then it.
        assert [m["who"] for m in page.history] == ["bot", "user"]
        assert "Acceptez-vous" in page.history[0]["text"]
        assert page.history[1] == {"who": "user", "text": URBANISME}
        assert not any(token in m["text"] for m in page.history)
        await page.say({"payload": "/affirm"})
        await page.until(QUESTIONS)
        await page.say({"message": URBANISME_ANSWERS})
        await page.until(SUMMARY)
        await page.say({"message": "c'est bien ça, merci"})
        await page.until(HANDOVER)
        assert stack.x_dm_texts(person) == [dm]  # nothing more went to X
        events = stack.stored_events(conversation)
        assert [e.get("input_channel") for e in events if e["event"] == "user"] == [
            "x", "webchat", "webchat", "webchat"]

        # The desk's case is the X conversation's; the lawyer's reply reaches the web chat.
        def case() -> list[dict]:
            body = http_json("GET", f"{stack.base_url}/desk/api/cases",
                             headers={"Authorization": f"Bearer {token_of_lawyer}"})
            return [c for c in body["queue"] if c["sender_id"] == conversation]

        [found] = await run(None, wait_for, case, 30, 0.2)
        assert found["channel"] == "x"
        auth = {"Authorization": f"Bearer {token_of_lawyer}"}
        read = await run(None, lambda: http_json(
            "GET", f"{stack.base_url}/desk/api/cases/{found['id']}", headers=auth))
        assert (read["channel"], read["writes_on"]) == ("x", "webchat")  # the case page says so
        await run(None, lambda: http_json("POST", f"{stack.base_url}/desk/api/cases/"
                                          f"{found['id']}/take", {}, auth))
        sent = await run(None, lambda: http_json(
            "POST", f"{stack.base_url}/desk/api/cases/{found['id']}/reply", {"text": REPLY},
            auth))
        assert sent["delivery"] == "sent"
        assert await page.until(REPLY) == [REPLY]
        assert stack.x_dm_texts(person) == [dm]
        lawyer = [e["text"] for e in stack.stored_events(conversation)
                  if e["event"] == "bot" and (e.get("metadata") or {}).get("author") == "lawyer"]
        assert lawyer == [REPLY]

        # The same link again, and a forged one: a French refusal, nothing of the conversation.
        token_id, expires, _ = token.split(".")
        forged = continue_link.mint(b"f" * 32, conversation,
                                    continue_link.datetime.now(continue_link.timezone.utc))
        for presented in (token, forged.token, f"{token_id}.{expires}.{'A' * 43}"):
            intruder = await open_page(stack, {"continue": presented})
            try:
                assert await intruder.drain() == [LINK_REFUSED]
                assert intruder.history == [] and "continued" not in intruder.confirm
                await intruder.say({"message": "bonjour"})
                assert not any(REPLY in text or URBANISME in text
                               for text in await intruder.drain())
                assert conversation_id_of(intruder.confirm["secret"]) != conversation
            finally:
                await intruder.client.disconnect()
        assert await page.drain() == []  # the person's page heard none of it
    finally:
        await page.client.disconnect()
    log = stack.log("rasa")
    assert token not in log and person not in log
    assert log.count("webchat.continue.refused reason=") == 3
