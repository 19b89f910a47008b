"""The web chat's socket protocol with a socket.io client: limits, malformed input, duplicates,
and pushes from the server to every page of a conversation."""

from __future__ import annotations

import asyncio
import uuid

import socketio

from connectors.webchat import conversation_id_of


async def _socket_session(base_url: str, secret: str | None = None):
    """A page's socket with its session; returns the client, its queue of bot messages, the
    session secret and the conversation id."""
    client = socketio.AsyncClient(reconnection=False)
    received: asyncio.Queue = asyncio.Queue()
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    client.on("bot_uttered", lambda data: received.put_nowait(data))
    client.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
    # Long-polling: the socket.io client's websocket needs aiohttp >= 3.10; Rasa pins 3.9.
    await client.connect(base_url, socketio_path="/socket.io", transports=["polling"])
    await client.emit("session_request", {"secret": secret})
    issued = (await asyncio.wait_for(confirmed, 10))["secret"]
    return client, received, issued, conversation_id_of(issued)


async def _close(client: socketio.AsyncClient) -> None:
    """Close a page's socket without waiting for its long poll (the server holds it ~25 s)."""
    await client.eio.disconnect(abort=True)


async def _drain(queue: asyncio.Queue, quiet: float = 1.5) -> list[dict]:
    messages = []
    while True:
        try:
            messages.append(await asyncio.wait_for(queue.get(), quiet))
        except asyncio.TimeoutError:
            return messages


async def test_socket_edge_cases(servers):
    client, received, secret, conversation_id = await _socket_session(servers.base_url,
                                                                      "not-a-valid-secret")
    try:
        assert len(secret) == 43 and secret != "not-a-valid-secret"
        assert conversation_id.startswith("web:")

        # Over 10,000 characters: a clear answer, nothing reaches the assistant.
        await client.emit("user_uttered", {"message": "a" * 10_001})
        [answer] = await _drain(received)
        assert "trop long" in answer["text"]
        assert servers.stored_events(conversation_id) == []

        # Malformed payloads and empty text are ignored without an answer.
        await client.emit("user_uttered", "just a string")
        await client.emit("user_uttered", {"message": "   "})
        await client.emit("user_uttered", {"text": "bonjour"})
        assert await _drain(received, quiet=1.0) == []
        assert servers.stored_events(conversation_id) == []

        # The same message delivered twice is answered once.
        message_id = uuid.uuid4().hex
        payload = {"message": "bonjour", "message_id": message_id}
        await client.emit("user_uttered", payload)
        first = await _drain(received)
        await client.emit("user_uttered", payload)
        second = await _drain(received, quiet=1.5)
        assert any("assistant automatisé" in m.get("text", "").lower() for m in first)
        assert second == []
        users = [e for e in servers.stored_events(conversation_id) if e["event"] == "user"]
        assert len(users) == 1 and users[0]["message_id"] == message_id
    finally:
        await _close(client)


async def test_server_can_push_to_an_open_page(servers):
    """What the desk uses: the output channel reaches the conversation's room."""
    client, received, secret, conversation_id = await _socket_session(servers.base_url)
    try:
        await client.emit("user_uttered", {"message": "bonjour"})
        first = await _drain(received)
        # A second page of the same conversation (same secret: a reload) hears it too; it
        # first gets what no page acknowledged (this client does not), with the same ids.
        other, other_received, same, other_id = await _socket_session(servers.base_url, secret)
        assert same == secret and other_id == conversation_id
        assert first and await _drain(other_received) == first and all("id" in m for m in first)
        await client.emit("user_uttered", {"payload": "/affirm"})
        mine, theirs = await _drain(received), await _drain(other_received)
        assert mine and [m["text"] for m in mine] == [m["text"] for m in theirs]
        assert [e["text"] for e in servers.stored_events(conversation_id)
                if e["event"] == "user"] == ["bonjour", "/affirm"]
        await _close(other)
    finally:
        await _close(client)
