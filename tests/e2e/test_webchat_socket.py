"""The web chat's socket protocol with a socket.io client: limits, malformed input, duplicates,
and pushes from the server to every page of a conversation."""

from __future__ import annotations

import asyncio
import uuid

import socketio


async def _socket_session(base_url: str, session_id: str | None = None):
    client = socketio.AsyncClient(reconnection=False)
    received: asyncio.Queue = asyncio.Queue()
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    client.on("bot_uttered", lambda data: received.put_nowait(data))
    client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
    # Long-polling: the socket.io client's websocket needs aiohttp >= 3.10; Rasa pins 3.9.
    await client.connect(base_url, socketio_path="/socket.io", transports=["polling"])
    await client.emit("session_request", {"session_id": session_id})
    return client, received, await asyncio.wait_for(confirmed, 10)


async def _drain(queue: asyncio.Queue, quiet: float = 1.5) -> list[dict]:
    messages = []
    while True:
        try:
            messages.append(await asyncio.wait_for(queue.get(), quiet))
        except asyncio.TimeoutError:
            return messages


async def test_socket_edge_cases(servers):
    client, received, session_id = await _socket_session(servers.base_url, "not-a-valid-id")
    try:
        assert len(session_id) == 32 and session_id != "not-a-valid-id"

        # Over 10,000 characters: a clear answer, nothing reaches the assistant.
        await client.emit("user_uttered", {"message": "a" * 10_001, "session_id": session_id})
        [answer] = await _drain(received)
        assert "trop long" in answer["text"]
        assert servers.stored_events(session_id) == []

        # Malformed payloads and a missing session id are ignored without an answer.
        await client.emit("user_uttered", "just a string")
        await client.emit("user_uttered", {"message": "bonjour"})
        assert await _drain(received, quiet=1.0) == []

        # The same message delivered twice is answered once.
        message_id = uuid.uuid4().hex
        payload = {"message": "bonjour", "session_id": session_id, "message_id": message_id}
        await client.emit("user_uttered", payload)
        first = await _drain(received)
        await client.emit("user_uttered", payload)
        second = await _drain(received, quiet=1.5)
        assert any("assistant automatisé" in m.get("text", "") for m in first)
        assert second == []
        users = [e for e in servers.stored_events(session_id) if e["event"] == "user"]
        assert len(users) == 1
    finally:
        await client.disconnect()


async def test_server_can_push_to_an_open_page(servers):
    """What the desk will use: the output channel reaches the person's room by sender id."""
    client, received, session_id = await _socket_session(servers.base_url)
    try:
        await client.emit("user_uttered", {"message": "bonjour", "session_id": session_id})
        await _drain(received)
        # A second page of the same conversation receives the bot's answers too.
        other, other_received, same = await _socket_session(servers.base_url, session_id)
        assert same == session_id
        await client.emit("user_uttered", {"message": "/affirm", "session_id": session_id})
        mine, theirs = await _drain(received), await _drain(other_received)
        assert mine and [m["text"] for m in mine] == [m["text"] for m in theirs]
        await other.disconnect()
    finally:
        await client.disconnect()
