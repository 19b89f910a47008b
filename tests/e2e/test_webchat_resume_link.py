"""Issue #13's done-when for the web chat, on the real servers: a person who closed the tab gets
the lawyer's reply when they come back through the resume link, and the desk showed it as not
yet delivered until then."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import socketio

from connectors.webchat import conversation_id_of
from sandbox.stack import wait_for
from tests.e2e.test_desk_handoff import api, api_post, lawyer_token

REPLY = "Bonjour, ici Maître Exemple.\n\nAvez-vous gardé le courrier de la mairie ?"


@dataclass
class Page:
    """A page's socket that acknowledges what it shows, as chat.js does."""

    client: socketio.AsyncClient
    said: asyncio.Queue = field(default_factory=asyncio.Queue)
    history: list[dict] = field(default_factory=list)
    confirm: dict = field(default_factory=dict)
    link: dict = field(default_factory=dict)

    async def drain(self, quiet: float = 3.0, first: float = 60.0) -> list[dict]:
        found = []
        while True:
            try:
                found.append(await asyncio.wait_for(self.said.get(), first if not found
                                                    else quiet))
            except asyncio.TimeoutError:
                return found

    async def close(self) -> None:
        await self.client.eio.disconnect(abort=True)  # without waiting for the long poll


async def open_page(base_url: str, request: dict[str, Any]) -> Page:
    client = socketio.AsyncClient(reconnection=False)
    page = Page(client)
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()

    async def said(data: dict) -> None:
        page.said.put_nowait(data)
        if "id" in data:
            await client.emit("ack", {"ids": [data["id"]]})

    async def history(data: dict) -> None:
        page.history.extend(data["messages"])
        ids = [i for m in data["messages"] for i in m.get("ids", [])]
        if ids:
            await client.emit("ack", {"ids": ids})

    client.on("bot_uttered", said)
    client.on("history", history)
    client.on("resume_link", page.link.update)
    client.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
    await client.connect(base_url, socketio_path="/socket.io", transports=["polling"])
    await client.emit("session_request", request)
    page.confirm = await asyncio.wait_for(confirmed, 10)
    return page


def lawyer_reply(servers, token: str, case_id: int) -> dict:
    _, detail = api(servers, f"/cases/{case_id}", token)
    [reply] = [m for m in detail["messages"] if m["author"] == "lawyer"]
    return reply


async def test_a_closed_tab_gets_the_reply_through_the_resume_link(servers):
    run = asyncio.get_running_loop().run_in_executor
    token = await run(None, lawyer_token, servers)
    page = await open_page(servers.base_url, {})
    conversation = conversation_id_of(page.confirm["secret"])
    try:
        for message in ({"message": "la mairie refuse mon permis de construire"},
                        {"payload": "/affirm"}, {"message": "je veux parler à l'avocat"}):
            await page.client.emit("user_uttered", {**message, "message_id": uuid.uuid4().hex})
            assert await page.drain(), f"no answer to {message}"
        # The handover gave the resume link's token, to this page only.
        assert len(page.link.get("token", "")) == 43, page.link
    finally:
        await page.close()

    def find_case():
        _, body = api(servers, "/cases", token)
        return [c for c in body["queue"] if c["sender_id"] == conversation]

    [case] = await run(None, lambda: wait_for(find_case, 30))
    status, _ = await run(None, lambda: api_post(servers, f"/cases/{case['id']}/take", token))
    assert status == 200
    status, body = await run(None, lambda: api_post(
        servers, f"/cases/{case['id']}/reply", token, {"text": REPLY}))
    assert (status, body["delivery"]) == (200, "sent")  # handed to the web chat, kept there

    # The tab is closed: the desk says not read yet.
    reply = await run(None, lawyer_reply, servers, token, case["id"])
    assert reply["channel_delivery"]["state"] == "queued"
    assert reply["delivery_status"]["label"] == (
        "pas encore lu : la personne n'a pas rouvert la conversation")

    # The person comes back through the link, in a new socket (another browser).
    back = await open_page(servers.base_url, {"resume": page.link["token"]})
    try:
        assert back.confirm["resumed"] is True
        assert back.confirm["secret"] != page.confirm["secret"]
        # The history (before it), then the reply not acknowledged, with the ids of the
        # history's copy, marked as the lawyer's: the page shows it once.
        again = [m for m in await back.drain() if m.get("from") == "lawyer"]
        shown = [m for m in back.history if m.get("from") == "lawyer"]
        assert [m["text"] for m in shown] == [REPLY] and shown[0]["ids"]
        assert any("parler à l'avocat" in m["text"] for m in back.history if m["who"] == "user")
        assert [(m["text"], [m["id"]]) for m in again] == [(REPLY, shown[0]["ids"])]

        delivered = await run(None, lambda: wait_for(lambda: lawyer_reply(
            servers, token, case["id"])["channel_delivery"]["state"] == "delivered", 30))
        assert delivered
        reply = await run(None, lawyer_reply, servers, token, case["id"])
        assert reply["delivery_status"]["label"].startswith("remis le ")

        # The person answers from the resumed page: on the same case.
        await back.client.emit("user_uttered", {"message": "oui, je l'ai gardé",
                                                "message_id": uuid.uuid4().hex})
        await asyncio.sleep(1.0)
    finally:
        await back.close()
    _, detail = await run(None, lambda: api(servers, f"/cases/{case['id']}", token))
    assert any(m["author"] == "person" and "je l'ai gardé" in m["text"]
               for m in detail["messages"])
    lawyer = [e for e in servers.stored_events(conversation)
              if e["event"] == "bot" and (e.get("metadata") or {}).get("author") == "lawyer"]
    assert [e["metadata"].get("delivery_ref") for e in lawyer] == [
        f"desk-message:{reply['id']}"]
