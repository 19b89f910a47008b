"""The X channel in stream mode, end to end: the real Rasa server reads the X emulator's
``GET /2/activity/stream`` (X Activity API subscriptions, no webhook, nothing connects in),
answers through the emulator's API, and resumes a cut stream without losing or repeating a DM;
an encrypted X Chat message is acknowledged and counted, never read nor answered.

One stack of its own for the module (sandbox/stack.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from sandbox.stack import MODEL, ROOT, X_SANDBOX_CREDENTIALS, Stack, wait_for
from tests.dialogue import QUESTIONS, URBANISME

# Reconnect quickly in the test (X: 5 s after an HTTP error, doubling).
STREAM = {"stream_retry_seconds": 0.2, "poll_lease_seconds": 4, "liveness_seconds": 3}
CONTROL = "850000000000000001"
PEOPLE = ["850000000000000011", "850000000000000012", "850000000000000013"]
LATE = "850000000000000014"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    servers = Stack(tmp_path_factory.mktemp("x_stream"), x_mode="stream", x_extra=STREAM)
    with servers:
        assert wait_for(lambda: health(servers)["stream_connected"], 60, 0.2), health(servers)
        assert health(servers)["mode"] == "stream"
        yield servers
    if "Traceback" in servers.log("rasa"):
        print(servers.log("rasa")[-5000:])


def health(stack: Stack) -> dict:
    with urllib.request.urlopen(f"{stack.base_url}/webhooks/x/", timeout=10) as response:
        return json.loads(response.read())


def x_database_bytes(stack: Stack) -> bytes:
    """The X store's SQLite files as they are on disk (the database and its WAL journal)."""
    return b"".join(path.read_bytes() for path in stack.workdir.glob("permanence-x.db*"))


def inbox_count(stack: Stack, event_id: str) -> int:
    return stack.x_sql("SELECT COUNT(*) FROM x_inbox WHERE event_id = ?", f"dm:{event_id}")[0][0]


def run_register(stack: Stack, *args: str) -> dict:
    """``make x-register`` against the stack's emulator (the stream: no webhook URL)."""
    env = {key: value for key, value in os.environ.items() if key != "X_WEBHOOK_URL"}
    env.update(X_SANDBOX_CREDENTIALS, X_API_BASE_URL=stack.x_base_url)
    done = subprocess.run([sys.executable, "-m", "scripts.x_register", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def conversation(stack: Stack, user: str) -> list[str]:
    """Two turns (the first message, then consent): the assistant's DMs."""
    stack.x_send_dm(user, URBANISME, wait=False)
    assert stack.x_wait_dm_containing(user, "Acceptez-vous", interval=0.2), stack.x_dm_texts(user)
    stack.x_send_dm(user, "1", wait=False)
    assert stack.x_wait_dm_containing(user, QUESTIONS, interval=0.2), stack.x_dm_texts(user)
    time.sleep(1.0)  # a few sending rounds: a duplicate would show up
    return stack.x_dm_texts(user)


def test_dms_by_the_stream_are_answered_once_in_order(stack: Stack) -> None:
    expected = conversation(stack, CONTROL)
    assert len(expected) >= 2
    ids = stack.user_message_ids(stack.x_conversation(CONTROL))
    assert len(ids) == 2 and all(inbox_count(stack, event_id) == 1 for event_id in ids)
    # It came on the stream (app-only: the bearer token): no webhook is registered at all.
    info = stack.x_control("GET", "/_control/info")
    assert info["webhooks"] == [] and info["activity"]["streams_open"] == 1
    assert not [r for r in stack.x_control("GET", "/_control/requests")
                if r["path"] == "/2/dm_events"]  # not polled


def test_a_cut_stream_resumes_without_losing_or_repeating_a_dm(stack: Stack) -> None:
    expected = conversation(stack, CONTROL + "9")
    before = stack.x_control("GET", "/_control/stream")["connections_total"]
    first = {user: stack.x_send_dm(user, URBANISME, wait=False) for user in PEOPLE}
    assert wait_for(lambda: all(inbox_count(stack, event_id) for event_id in first.values()),
                    30, 0.05), "the first DMs did not come on the stream"

    # The stream is cut and refused: what the people write meanwhile reaches no server.
    cut = stack.x_control("POST", "/_control/stream", {"drop": True, "refuse": True})
    assert cut["dropped"] == 1
    assert wait_for(lambda: not health(stack)["stream_connected"], 30, 0.05)
    late_first = stack.x_send_dm(LATE, URBANISME, wait=False)
    second = {user: stack.x_send_dm(user, "1", wait=False) for user in PEOPLE}
    time.sleep(1.0)  # several refused reconnections
    refused = [r for r in stack.x_control("GET", "/_control/requests")
               if r["path"] == "/2/activity/stream" and r["status"] == 503]
    assert refused, "the channel did not try to reconnect"
    assert all(inbox_count(stack, event_id) == 0
               for event_id in [late_first, *second.values()])

    stack.x_control("POST", "/_control/stream", {"refuse": False})

    def complete() -> bool:
        return all(len(stack.x_dm_texts(user)) >= len(expected) for user in PEOPLE)

    assert wait_for(complete, 90, 0.3), {user: stack.x_dm_texts(user) for user in PEOPLE}
    assert stack.x_wait_dm_containing(LATE, "Acceptez-vous", interval=0.2)
    time.sleep(1.5)  # a few sending rounds: a duplicate would show up
    for user in PEOPLE:
        assert stack.x_dm_texts(user) == expected, user
        assert stack.user_message_ids(stack.x_conversation(user)) == [first[user],
                                                                      second[user]]
        assert inbox_count(stack, first[user]) == inbox_count(stack, second[user]) == 1
    assert stack.user_message_ids(stack.x_conversation(LATE)) == [late_first]
    # The new connection asked for backfill: X sent the first DMs again, the inbox dropped them.
    assert stack.x_control("GET", "/_control/stream")["connections_total"] > before
    assert stack.x_control("GET", "/_control/usage")["not_charged_again"]["dm_received"] > 0


def test_an_encrypted_chat_is_acknowledged_and_counted_without_content(stack: Stack) -> None:
    summary = run_register(stack, "--chat")
    assert summary["delivery"] == "stream" and summary["subscriptions_created"] == 1
    assert {s["event_type"] for s in summary["subscriptions"]} == {
        "dm.received", "post.mention.create", "chat.received"}
    person = "850000000000000021"
    chat = stack.x_control("POST", "/_control/chat", {"sender_id": person})

    def counted() -> int:
        return stack.x_sql("SELECT COUNT(*) FROM x_chat_received")[0][0]

    assert wait_for(lambda: counted() == 1, 30, 0.05), "the chat was not counted"
    assert stack.x_sql("SELECT event_id FROM x_chat_received") == [
        (f"chat:{chat['message_id']}",)]
    # Delivered again (a cut, then the backfill): still counted once.
    stack.x_control("POST", "/_control/stream", {"drop": True})
    other = "850000000000000022"
    stack.x_send_dm(other, URBANISME, wait=False)
    assert stack.x_wait_dm_containing(other, "Acceptez-vous", interval=0.2)
    assert counted() == 1
    # Neither answered nor kept: no DM to the person, no trace of the ciphertext, the log says it.
    assert stack.x_dm_texts(person) == []
    assert not stack.x_sql("SELECT 1 FROM x_inbox WHERE sender_id = ?", person)
    assert chat["encoded_event"].encode() not in x_database_bytes(stack)
    log = stack.log("rasa")
    assert "x.chat.received" in log and chat["encoded_event"] not in log
    assert person not in log


def test_kill_9_mid_conversation_loses_and_repeats_nothing(stack: Stack) -> None:
    """Last of the module: it kills the module's Rasa. What it had acknowledged lives on in
    the inbox; what came while it was down comes again with the new connection's backfill."""
    expected = conversation(stack, CONTROL + "8")
    people = ["850000000000000031", "850000000000000032", "850000000000000033"]
    first = {user: stack.x_send_dm(user, URBANISME, wait=False) for user in people}

    def stored_and_handled() -> bool:
        states = [state for event_id in first.values() for (state,) in stack.x_sql(
            "SELECT state FROM x_inbox WHERE event_id = ?", f"dm:{event_id}")]
        return len(states) == len(people) and any(state != "pending" for state in states)

    ready = wait_for(stored_and_handled, 30, 0.01)
    stack.kill_rasa()
    assert ready, "the first DMs were not stored and handled before the kill"
    second = {user: stack.x_send_dm(user, "1", wait=False) for user in people}  # while down
    stack.start_rasa()

    def complete() -> bool:
        return all(len(stack.x_dm_texts(user)) >= len(expected) for user in people)

    assert wait_for(complete, 90, 0.3), {user: stack.x_dm_texts(user) for user in people}
    time.sleep(1.5)  # a few sending rounds: a duplicate would show up
    for user in people:
        assert stack.x_dm_texts(user) == expected, user
        assert stack.user_message_ids(stack.x_conversation(user)) == [first[user], second[user]]
