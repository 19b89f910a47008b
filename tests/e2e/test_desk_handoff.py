"""A conversation handed over in the web channel opens a case in the desk's API, on the real
server: fact card, urgency, and the person's later messages; unauthenticated requests refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def desk_cli(servers, *args: str) -> str:
    env = {**os.environ, "PERMANENCE_DATABASE_URL": f"sqlite:///{servers.db_path}"}
    done = subprocess.run([sys.executable, "-m", "desk.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip().splitlines()[-1]


def api(servers, path: str, token: str | None = None):
    request = urllib.request.Request(f"{servers.base_url}/desk/api{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


def test_handoff_opens_a_case_in_the_desk(servers):
    email = f"avocat-{uuid.uuid4().hex[:6]}@cabinet.example"
    desk_cli(servers, "user", email, "un mot de passe assez long")
    token = desk_cli(servers, "token", email)
    assert api(servers, "/cases")[0] in (401, 403)

    sender = f"e2e-desk-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "j'ai reçu une OQTF hier et je suis en rétention au CRA de Lesquin")
    servers.say(sender, "/affirm")
    servers.say(sender, "je veux parler à l'avocat maintenant")
    handed_over = time.monotonic()

    def find():
        status, body = api(servers, "/cases", token)
        assert status == 200
        return [c for c in body["queue"] if c.get("sender_id") == sender]

    found = find()
    while not found and time.monotonic() - handed_over < 5:
        time.sleep(0.05)
        found = find()
    assert found, "the handed-over conversation is not in the desk queue"
    case = found[0]
    assert case["state"] == "waiting" and case["urgency"] == "P0"
    assert case["channel"] == "rest" and case["domain"] == "etrangers"

    # The person writes again while the lawyer has the case: the assistant is silent,
    # the message is on the case.
    assert servers.say(sender, "je suis toujours là, merci de me répondre vite") == []
    status, detail = api(servers, f"/cases/{case['id']}", token)
    assert status == 200
    assert "je suis toujours là" in json.dumps(detail, ensure_ascii=False)


def api_post(servers, path: str, token: str, body: dict | None = None):
    request = urllib.request.Request(
        f"{servers.base_url}/desk/api{path}", data=json.dumps(body or {}).encode(),
        method="POST", headers={"Authorization": f"Bearer {token}",
                                "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


REPLY = "Bonjour, ici Maître Exemple. Avez-vous le courrier ?"


async def test_the_lawyers_reply_reaches_the_person_in_the_web_chat(servers):
    import asyncio

    import socketio

    email = f"avocat-{uuid.uuid4().hex[:6]}@cabinet.example"
    desk_cli(servers, "user", email, "un mot de passe assez long")
    token = desk_cli(servers, "token", email)

    client = socketio.AsyncClient(reconnection=False)
    received: asyncio.Queue = asyncio.Queue()
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    client.on("bot_uttered", lambda data: received.put_nowait(data))
    client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
    await client.connect(servers.base_url, socketio_path="/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": None})
        session_id = await asyncio.wait_for(confirmed, 10)
        for text in ("la mairie refuse mon permis de construire", "/affirm",
                     "je veux parler à l'avocat"):
            await client.emit("user_uttered", {"message": text, "session_id": session_id})
            await asyncio.sleep(1.5)
        while not received.empty():
            received.get_nowait()

        def find_case():
            status, body = api(servers, "/cases", token)
            return [c for c in body["queue"] if c["sender_id"] == session_id]

        [case] = await asyncio.get_running_loop().run_in_executor(None, find_case)
        assert case["channel"] == "webchat"
        status, _ = await asyncio.get_running_loop().run_in_executor(
            None, lambda: api_post(servers, f"/cases/{case['id']}/take", token))
        assert status == 200
        started = time.monotonic()
        status, body = await asyncio.get_running_loop().run_in_executor(
            None, lambda: api_post(servers, f"/cases/{case['id']}/reply", token, {"text": REPLY}))
        assert (status, body["delivery"]) == (200, "sent")
        pushed = await asyncio.wait_for(received.get(), 5)
        assert pushed["text"] == REPLY
        assert time.monotonic() - started < 5
    finally:
        await client.disconnect()

    lawyer = [e for e in servers.stored_events(session_id)
              if e["event"] == "bot" and (e.get("metadata") or {}).get("author") == "lawyer"]
    assert [e["text"] for e in lawyer] == [REPLY]
    status, detail = api(servers, f"/cases/{case['id']}", token)
    assert [m["delivery"] for m in detail["messages"] if m["author"] == "lawyer"] == ["sent"]
