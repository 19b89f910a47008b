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

from connectors.webchat import conversation_id_of
from sandbox.stack import wait_for

ROOT = Path(__file__).resolve().parents[2]


def desk_cli(servers, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "PERMANENCE_DATABASE_URL": f"sqlite:///{servers.db_path}"}
    done = subprocess.run([sys.executable, "-m", "desk.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=60, input=stdin)
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
    desk_cli(servers, "user", email, "--password-stdin", stdin="un mot de passe assez long\n")
    token = desk_cli(servers, "token", email)
    assert api(servers, "/cases")[0] in (401, 403)

    sender = f"e2e-desk-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "j'ai reçu une OQTF hier et je suis en rétention au CRA de Lesquin")
    servers.press(sender, "/affirm")
    servers.say(sender, "je veux parler à l'avocat maintenant")
    handed_over = time.monotonic()

    def find():
        status, body = api(servers, "/cases", token)
        assert status == 200
        return [c for c in body["queue"] if c.get("sender_id") == f"rest:{sender}"]

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
    desk_cli(servers, "user", email, "--password-stdin", stdin="un mot de passe assez long\n")
    token = desk_cli(servers, "token", email)

    client = socketio.AsyncClient(reconnection=False)
    received: asyncio.Queue = asyncio.Queue()
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    client.on("bot_uttered", lambda data: received.put_nowait(data))
    client.on("session_confirm", lambda data: confirmed.done() or confirmed.set_result(data))
    await client.connect(servers.base_url, socketio_path="/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {})
        session_id = conversation_id_of((await asyncio.wait_for(confirmed, 10))["secret"])
        for message in ({"message": "la mairie refuse mon permis de construire"},
                        {"payload": "/affirm"}, {"message": "je veux parler à l'avocat"}):
            await client.emit("user_uttered", message)
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
        await client.eio.disconnect(abort=True)  # without waiting for the long poll (~25 s)

    lawyer = [e for e in servers.stored_events(session_id)
              if e["event"] == "bot" and (e.get("metadata") or {}).get("author") == "lawyer"]
    assert [e["text"] for e in lawyer] == [REPLY]
    status, detail = api(servers, f"/cases/{case['id']}", token)
    assert [m["delivery"] for m in detail["messages"] if m["author"] == "lawyer"] == ["sent"]


def lawyer_token(servers) -> str:
    email = f"avocat-{uuid.uuid4().hex[:6]}@cabinet.example"
    desk_cli(servers, "user", email, "--password-stdin", stdin="un mot de passe assez long\n")
    return desk_cli(servers, "token", email)


def open_case_of(servers, token: str, sender: str) -> dict:
    def find():
        status, body = api(servers, "/cases", token)
        return [c for c in body["queue"] if c["sender_id"] == sender]

    found = wait_for(find)
    assert found, f"no case for {sender}"
    return found[0]


def test_hand_back_resumes_the_assistant_then_erasure_reaches_the_desk(servers):
    token = lawyer_token(servers)
    sender = f"e2e-handback-{uuid.uuid4().hex[:8]}"
    servers.say(sender, "la mairie refuse mon permis de construire")
    servers.press(sender, "/affirm")
    servers.say(sender, "je veux parler à l'avocat")
    conversation = f"rest:{sender}"
    case = open_case_of(servers, token, conversation)
    assert servers.say(sender, "vous êtes là ?") == []  # paused: the assistant is silent

    status, body = api_post(servers, f"/cases/{case['id']}/handback", token)
    # The REST door answers only inside a request: the text is on the record, not pushed.
    assert (status, body["case"]["state"], body["conversation"]) == (
        200, "handed_back", "unsupported")
    events = servers.stored_events(conversation)
    assert [e["event"] for e in events].count("resume") == 1
    handback = [e for e in events if e["event"] == "bot"
                and (e.get("metadata") or {}).get("utter_action") == "utter_handback"]
    assert len(handback) == 1 and "a terminé" in handback[0]["text"]
    assert servers.stored_slots(conversation)["route"] == "question"
    assert servers.stored_slots(conversation)["partie_adverse"] is None

    # The assistant answers again, and treats the next message as a new question.
    answer = servers.say(sender, "la préfecture m'a retiré mon titre de séjour")
    assert answer, "the assistant stayed silent after the hand back"
    assert servers.stored_slots(conversation)["route"] == "triage", "\n".join(
        f'{e["event"]} {e.get("name")} {e.get("value")} {e.get("text")} '
        f'{(e.get("parse_data") or {}).get("intent")}' for e in servers.stored_events(conversation)
        if e["event"] != "slot" or e.get("value") is not None)
    status, _ = api(servers, f"/cases/{case['id']}", token)
    assert status == 200

    # "supprimez mes données": the conversation and its case are erased.
    servers.say(sender, "supprimez mes données")
    assert servers.stored_events(conversation) == []
    status, _ = api(servers, f"/cases/{case['id']}", token)
    assert status == 404


def test_hand_back_on_x_tells_the_person_and_close_resumes_silently(servers):
    token = lawyer_token(servers)
    user_id = str(uuid.uuid4().int % 10**17 + 10**17)

    def dm(text: str) -> None:
        servers.x_send_dm(user_id, text)

    def dms() -> list[str]:
        return servers.x_dm_texts(user_id)

    dm("la mairie refuse mon permis de construire")
    assert wait_for(lambda: any("?" in text for text in dms()))
    before = len(dms())
    dm("1")  # the first numbered option of the consent question: yes
    assert wait_for(lambda: len(dms()) > before)
    dm("je veux parler à l'avocat")
    case = open_case_of(servers, token, f"x:{user_id}")
    assert case["channel"] == "x"
    before = len(dms())
    status, body = api_post(servers, f"/cases/{case['id']}/handback", token)
    assert (status, body["conversation"]) == (200, "sent")
    assert wait_for(lambda: len(dms()) > before and "a terminé" in dms()[-1]), dms()[before:]

    # A second handover, closed this time: the assistant resumes without a word.
    before = len(dms())
    dm("finalement je veux parler à l'avocat")
    second = open_case_of(servers, token, f"x:{user_id}")
    assert second["id"] != case["id"]
    # The case opens when Rasa saves the turn; the handover DM may still be on its way.
    assert wait_for(lambda: len(dms()) > before)
    before = len(dms())
    status, body = api_post(servers, f"/cases/{second['id']}/close", token,
                            {"outcome": "nothing_to_answer"})
    assert (status, body["case"]["state"], body["conversation"]) == (200, "closed", "resumed")
    time.sleep(1.0)
    assert len(dms()) == before
    assert servers.stored_slots(f"x:{user_id}")["route"] == "question"
