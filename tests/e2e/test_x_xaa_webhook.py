"""The X channel in webhook mode on the X Activity API, end to end: the X emulator posts signed
XAA envelopes (``dm.received``, ``chat.received``) to the real server's webhook ingress; DMs are
answered once, in order, even when X delivers one again; an encrypted X Chat message is
acknowledged and counted, never read nor answered.

One stack of its own for the module (sandbox/stack.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from sandbox.stack import MODEL, ROOT, X_SANDBOX_CREDENTIALS, Stack
from tests.dialogue import QUESTIONS, URBANISME

PERSON = "840000000000000001"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    servers = Stack(tmp_path_factory.mktemp("x_xaa"), x_mode="webhook", x_intake="xaa")
    with servers:
        yield servers
    if "Traceback" in servers.log("rasa"):
        print(servers.log("rasa")[-5000:])


def x_database_bytes(stack: Stack) -> bytes:
    """The X store's SQLite files as they are on disk (the database and its WAL journal)."""
    return b"".join(path.read_bytes() for path in stack.workdir.glob("permanence-x.db*"))


def deliveries(stack: Stack, event_id: str) -> list[dict]:
    return [d for d in stack.x_control("GET", "/_control/deliveries") if d["event_id"] == event_id]


def test_a_dm_by_xaa_webhook_is_answered_once_in_order(stack: Stack) -> None:
    first = stack.x_control("POST", "/_control/dm", {
        "sender_id": PERSON, "screen_name": "citoyen", "text": URBANISME})
    [uuid] = first["activity_event_uuids"]
    assert [(d["kind"], d["status"]) for d in first["deliveries"]] == [("xaa:dm.received", 200)]
    assert stack.x_wait_dm_containing(PERSON, "Acceptez-vous", interval=0.2)
    second = stack.x_send_dm(PERSON, "1")
    assert stack.x_wait_dm_containing(PERSON, QUESTIONS, interval=0.2)
    # X delivers the first DM again: acknowledged, not answered again.
    again = stack.x_control("POST", "/_control/redeliver", {"event_id": uuid})
    assert again["deliveries"][0]["status"] == 200
    time.sleep(1.5)  # a few handling and sending rounds: a duplicate would show up
    texts = stack.x_dm_texts(PERSON)
    assert sum("Acceptez-vous" in text for text in texts) == 1
    assert stack.user_message_ids(stack.x_conversation(PERSON)) == [first["event_id"], second]
    assert stack.x_sql("SELECT COUNT(*) FROM x_inbox WHERE event_id = ?",
                       f"dm:{first['event_id']}") == [(1,)]
    # The Account Activity API was not used at all.
    assert deliveries(stack, first["event_id"]) == []
    assert "x.aaa.after_end" not in stack.log("rasa")


def test_an_encrypted_chat_by_webhook_is_acknowledged_and_counted(stack: Stack) -> None:
    webhook = f"{stack.x_ingress_url}/webhooks/x/webhook"
    env = {**os.environ, **X_SANDBOX_CREDENTIALS, "X_API_BASE_URL": stack.x_base_url,
           "X_WEBHOOK_URL": webhook}
    done = subprocess.run([sys.executable, "-m", "scripts.x_register", "--chat"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert not summary["created"] and summary["subscriptions_created"] == 1  # only the chat
    person = "840000000000000002"
    chat = stack.x_control("POST", "/_control/chat", {"sender_id": person})
    assert chat["delivery_status"] == 200
    assert stack.x_sql("SELECT event_id FROM x_chat_received") == [
        (f"chat:{chat['message_id']}",)]
    again = stack.x_control("POST", "/_control/redeliver",
                            {"event_id": chat["activity_event_uuids"][0]})
    assert again["deliveries"][0]["status"] == 200
    assert stack.x_sql("SELECT COUNT(*) FROM x_chat_received") == [(1,)]
    time.sleep(1.0)
    assert stack.x_dm_texts(person) == []
    assert not stack.x_sql("SELECT 1 FROM x_inbox WHERE sender_id = ?", person)
    assert chat["encoded_event"].encode() not in x_database_bytes(stack)
    assert chat["encoded_event"] not in stack.log("rasa")
