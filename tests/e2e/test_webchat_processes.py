"""The web chat behind two Rasa processes (issue #13, item 5): PostgreSQL for the conversations
and the desk, Redis for the conversations' locks and the chat's rooms (``PERMANENCE_REDIS_URL``,
connectors/webchat_redis.py), the action server; every server on 127.0.0.1.

A person talks to process B in the web chat until the handover; the lawyer takes the case and
replies through process A's desk. The reply reaches the person's page on B, and only theirs:
another person connected to B, in another conversation, hears nothing of it. The person's answer,
written on B, reaches the case the lawyer reads on A.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import socketio
from redis import asyncio as aioredis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.scale import create_schema, endpoints_with_redis_lock_store
from connectors.webchat import conversation_id_of
from connectors.webchat_redis import CHANNEL, REDIS_URL_ENV
from desk import auth, db
from sandbox.redis_server import RedisUnavailable, ThrowawayRedis, start_throwaway_redis
from sandbox.stack import MODEL, ROOT, Stack, free_port, wait_for

ALWAYS_LIVE = ROOT / "tests" / "schedule_always_live.yml"
QUESTION = "la mairie refuse mon permis de construire"
ASK_LAWYER = "je veux parler à l'avocat"
REPLY = "Bonjour, ici Maître Exemple, depuis l'autre processus. Avez-vous l'arrêté ?"
ANSWER = "Oui, je l'ai reçu le 18 novembre."
A, B = 0, 1


@pytest.fixture(scope="module")
def redis_server() -> Iterator[ThrowawayRedis]:
    try:
        server = start_throwaway_redis()
    except RedisUnavailable as error:
        pytest.fail(f"the throwaway Redis did not start (make test installs redis-server): "
                    f"{error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def two_processes(postgres_url: str, redis_server: ThrowawayRedis,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Two Rasa servers (A: index 0, B: index 1) on a PostgreSQL database of their own and on
    one Redis (locks and web chat rooms), with the action server."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    name = f"webchat_processes_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    workdir = tmp_path_factory.mktemp("webchat-processes")
    create_schema(url)  # the two servers start at once: no race to create the tables
    stack = Stack(workdir, x_mode=None, database_url=url, rasa_count=2,
                  endpoints=endpoints_with_redis_lock_store(workdir, redis_server.port),
                  env={REDIS_URL_ENV: redis_server.url,
                       "PERMANENCE_SCHEDULE_FILE": str(ALWAYS_LIVE)})
    try:
        with stack:
            yield stack
    finally:
        db.dispose_all()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        for process in ("rasa", "rasa1"):
            if "Traceback" in stack.log(process):
                print(stack.log(process)[-5000:])


# ------------------------------------------------------------------ helpers


def lawyer_token(url: str) -> str:
    email = f"avocat-{uuid.uuid4().hex[:8]}@cabinet.example"
    with db.session_factory(url).begin() as session:
        lawyer = auth.set_lawyer(session, email, "un mot de passe assez long")
        return auth.create_token(session, lawyer, "api")


def desk_api(stack: Stack, index: int, method: str, path: str, token: str,
             body: dict | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{stack.rasa_url(index)}/desk/api{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def lawyer_events(url: str, conversation_id: str) -> list[dict]:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": conversation_id})
            events = [json.loads(data) for (data,) in rows]
    finally:
        engine.dispose()
    return [e for e in events
            if e["event"] == "bot" and (e.get("metadata") or {}).get("author") == "lawyer"]


class WebPage:
    """A person's page: a socket.io client connected to one process, with its session."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.received: asyncio.Queue = asyncio.Queue()
        self.conversation_id = ""

    async def open(self, base_url: str) -> WebPage:
        confirmed = asyncio.get_running_loop().create_future()
        self.client.on("bot_uttered", self.received.put_nowait)
        self.client.on("session_confirm",
                       lambda data: confirmed.done() or confirmed.set_result(data))
        # Long-polling: the socket.io client's websocket needs aiohttp >= 3.10; Rasa pins 3.9.
        await self.client.connect(base_url, socketio_path="/socket.io", transports=["polling"])
        await self.client.emit("session_request", {})
        self.conversation_id = conversation_id_of((await asyncio.wait_for(confirmed, 30))["secret"])
        return self

    async def turn(self, message: dict) -> list[dict]:
        """Send a message; the assistant's answer (its first message within 90 s, then every
        message until 1.5 s of quiet)."""
        await self.client.emit("user_uttered", message)
        answer = [await asyncio.wait_for(self.received.get(), 90)]
        return answer + await self.drain()

    async def drain(self, quiet: float = 1.5) -> list[dict]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(self.received.get(), quiet))
            except asyncio.TimeoutError:
                return messages

    async def close(self) -> None:
        if self.client.eio.state == "connected":
            await self.client.eio.disconnect(abort=True)  # not waiting for the long poll


async def in_thread(function, *args):
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


async def listeners(url: str) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(CHANNEL)
        return count
    finally:
        await client.close()


# ------------------------------------------------------------------ the test


async def test_a_lawyers_reply_through_one_process_reaches_the_person_on_the_other(
        two_processes: Stack, redis_server: ThrowawayRedis) -> None:
    stack = two_processes
    url = str(stack.database_url)
    assert make_url(url).get_backend_name() == "postgresql"
    # Both processes listen to the web chat's Redis channel.
    assert await listeners(redis_server.url) == 2

    token = await in_thread(lawyer_token, url)
    person, bystander = WebPage(), WebPage()
    try:
        await person.open(stack.rasa_url(B))
        await bystander.open(stack.rasa_url(B))
        assert person.conversation_id != bystander.conversation_id
        # The bystander talks too: a conversation of their own, in its own room on B.
        assert await bystander.turn({"message": "bonjour"})

        assert await person.turn({"message": QUESTION})
        assert await person.turn({"payload": "/affirm"})
        assert await person.turn({"message": ASK_LAWYER})

        def case_on_a() -> list[dict]:
            status, body = desk_api(stack, A, "GET", "/cases", token)
            assert status == 200
            return [c for c in body["queue"] if c["sender_id"] == person.conversation_id]

        [case] = await in_thread(wait_for, case_on_a)
        assert case["channel"] == "webchat"
        await bystander.drain(quiet=0.5)

        status, _ = await in_thread(desk_api, stack, A, "POST", f"/cases/{case['id']}/take",
                                    token)
        assert status == 200
        status, body = await in_thread(desk_api, stack, A, "POST",
                                       f"/cases/{case['id']}/reply", token, {"text": REPLY})
        assert (status, body["delivery"]) == (200, "sent")

        # The person, connected to B only, gets the reply sent through A; exactly once.
        pushed = await asyncio.wait_for(person.received.get(), 30)
        assert pushed["text"] == REPLY
        assert [m["text"] for m in await person.drain()] == []
        # Confidentiality: the other person on B heard nothing.
        assert await bystander.drain(quiet=2.0) == []

        # The person answers on B; the lawyer reads it on A (one database).
        await person.client.emit("user_uttered", {"message": ANSWER})

        def answer_on_a() -> bool:
            status, detail = desk_api(stack, A, "GET", f"/cases/{case['id']}", token)
            return status == 200 and ANSWER in json.dumps(detail, ensure_ascii=False)

        assert await in_thread(wait_for, answer_on_a)
        assert await person.drain() == []  # the assistant stays silent: the lawyer has it
    finally:
        await person.close()
        await bystander.close()

    assert [e["text"] for e in await in_thread(lawyer_events, url, person.conversation_id)] == [
        REPLY]
    assert await in_thread(lawyer_events, url, bystander.conversation_id) == []
    assert "desk.reply.sent" in stack.log("rasa")  # process A sent it
    assert "desk.reply.sent" not in stack.log("rasa1")


def test_a_rasa_server_whose_redis_cannot_be_reached_does_not_start(tmp_path) -> None:
    """Set but unreachable: the server stops at start and says where, without the password
    (a silent fallback to one process would lose the lawyer's replies to other processes)."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    port = free_port()  # nothing listens there
    stack = Stack(tmp_path, x_mode=None,
                  env={REDIS_URL_ENV: f"redis://:s3cret@127.0.0.1:{port}/0"})
    try:
        process = stack.start_rasa(wait=False)
        assert process.wait(timeout=300) != 0
    finally:
        stack.stop()
    log = stack.log("rasa")
    assert f"cannot reach Redis at redis://127.0.0.1:{port}/0" in log
    assert "s3cret" not in log
