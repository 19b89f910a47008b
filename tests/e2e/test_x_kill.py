"""``kill -9`` of the real Rasa server right after it acknowledged a burst of X webhooks: once
restarted, every DM is answered exactly once, in order per person.

X only redelivers a webhook that failed, so an acknowledged DM lives on in the durable inbox
alone. The server is killed while it is handling the burst (turns in progress, replies queued
or being sent), then started again on the same ports and database. A stack of its own
(sandbox/stack.py): the session's servers must not be killed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import TypeVar

import pytest

from sandbox.stack import MODEL, Stack, wait_for

T = TypeVar("T")

URBANISME = "bonjour, la mairie a refusé mon permis de construire pour une extension"
CONTROL = "860000000000000001"
PEOPLE = ["860000000000000011", "860000000000000012", "860000000000000013",
          "860000000000000014"]



def deliver_dm(stack: Stack, user: str, text: str) -> str:
    """The public writes; the emulator posts the signed webhook and waits for the answer."""
    answer = stack.x_control("POST", "/_control/dm", {
        "sender_id": user, "screen_name": f"citoyen{user[-6:]}", "text": text})
    assert answer["delivery_status"] == 200, answer
    return answer["event_id"]


def dms_to(stack: Stack, user: str) -> list[str]:
    return [dm["text"] for dm in stack.x_control("GET", "/_control/outbox")["dms"]
            if dm["recipient_id"] == user]


def wait_dm_containing(stack: Stack, user: str, needle: str, timeout: float = 60) -> None:
    assert wait_for(lambda: any(needle in text for text in dms_to(stack, user)), timeout), (
        f"no DM containing {needle!r} to {user}: {dms_to(stack, user)}")


def db(stack: Stack, query: str, *params: str) -> list[tuple]:
    with sqlite3.connect(stack.db_path, timeout=30) as connection:
        return connection.execute(query, params).fetchall()


def message_ids(stack: Stack, user: str) -> list[str]:
    rows = db(stack, "SELECT data FROM events WHERE sender_id = ? ORDER BY id", user)
    events = [json.loads(data) for (data,) in rows]
    return [event.get("message_id") for event in events if event.get("event") == "user"]


def test_kill_9_after_acknowledging_webhooks_loses_and_repeats_nothing(tmp_path) -> None:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first (make test does)")
    # A dead server's items come back once its liveness lease (3 s here) has expired.
    stack = Stack(tmp_path, x_mode="webhook", x_extra={"liveness_seconds": 3})
    with stack:
        # What every person must get: the same conversation, run without a crash.
        deliver_dm(stack, CONTROL, URBANISME)
        wait_dm_containing(stack, CONTROL, "Acceptez-vous")
        deliver_dm(stack, CONTROL, "1")
        wait_dm_containing(stack, CONTROL, "Quelle administration")
        time.sleep(1.0)
        expected = dms_to(stack, CONTROL)

        sent = {user: [deliver_dm(stack, user, URBANISME)] for user in PEOPLE}
        for user in PEOPLE:  # answered with the consent options shown by the first turn
            sent[user].append(deliver_dm(stack, user, "1"))
        # Every DM was acknowledged (200). Kill once the first replies reach X: some turns
        # are in progress, some replies queued or being sent.
        assert wait_for(lambda: any(dms_to(stack, user) for user in PEOPLE), 60, 0.02)
        stack.kill_rasa()
        states = sorted(state for (state,) in db(stack, "SELECT state FROM x_inbox"))
        at_kill = {user: len(dms_to(stack, user)) for user in PEOPLE}
        print(f"inbox at the kill: {states}; replies per person: {at_kill}; "
              f"a whole conversation: {len(expected)}")
        assert sum(at_kill.values()) < len(PEOPLE) * len(expected), "killed too late"
        stack.start_rasa()

        def complete() -> bool:
            return all(len(dms_to(stack, user)) >= len(expected) for user in PEOPLE)

        assert wait_for(complete, 90, 0.5), {user: dms_to(stack, user) for user in PEOPLE}
        time.sleep(2.0)  # a few more sending rounds: a duplicate would show up
        for user in PEOPLE:
            assert dms_to(stack, user) == expected, user
            assert message_ids(stack, user) == sent[user]
    if "Traceback" in stack.log("rasa"):
        print(stack.log("rasa")[-5000:])
