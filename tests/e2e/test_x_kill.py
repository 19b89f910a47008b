"""``kill -9`` of the real Rasa server right after it acknowledged a burst of X webhooks: once
restarted, every DM is answered exactly once, in order per person.

X only redelivers a webhook that failed, so an acknowledged DM lives on in the durable inbox
alone. The server is killed while it is handling the burst (turns in progress, replies queued
or being sent), then started again on the same ports and database. On the stack it shares
with the X outage test (``x_faults_stack``, tests/e2e/conftest.py, people of its own): the
session's servers must not be killed.
"""

from __future__ import annotations

import time
from typing import TypeVar

from sandbox.stack import wait_for
from tests.dialogue import QUESTIONS, URBANISME

T = TypeVar("T")

CONTROL = "860000000000000001"
PEOPLE = ["860000000000000011", "860000000000000012", "860000000000000013",
          "860000000000000014"]



def test_kill_9_after_acknowledging_webhooks_loses_and_repeats_nothing(x_faults_stack) -> None:
    stack = x_faults_stack
    # A dead server's items come back once its liveness lease (3 s here) has expired.
    assert stack.x_extra["liveness_seconds"] == 3
    # What every person must get: the same conversation, run without a crash.
    stack.x_send_dm(CONTROL, URBANISME)
    assert stack.x_wait_dm_containing(CONTROL, "Acceptez-vous"), stack.x_dm_texts(CONTROL)
    stack.x_send_dm(CONTROL, "1")
    assert stack.x_wait_dm_containing(CONTROL, QUESTIONS), (
        stack.x_dm_texts(CONTROL))
    time.sleep(1.0)
    expected = stack.x_dm_texts(CONTROL)

    sent = {user: [stack.x_send_dm(user, URBANISME)] for user in PEOPLE}
    for user in PEOPLE:  # answered with the consent options shown by the first turn
        sent[user].append(stack.x_send_dm(user, "1"))
    # Every DM was acknowledged (200). Kill once the first replies reach X: some turns
    # are in progress, some replies queued or being sent.
    assert wait_for(lambda: any(stack.x_dm_texts(user) for user in PEOPLE), 60, 0.02)
    stack.kill_rasa()
    states = sorted(state for (state,) in stack.x_sql("SELECT state FROM x_inbox"))
    at_kill = {user: len(stack.x_dm_texts(user)) for user in PEOPLE}
    print(f"inbox at the kill: {states}; replies per person: {at_kill}; "
          f"a whole conversation: {len(expected)}")
    assert sum(at_kill.values()) < len(PEOPLE) * len(expected), "killed too late"
    stack.start_rasa()

    def complete() -> bool:
        return all(len(stack.x_dm_texts(user)) >= len(expected) for user in PEOPLE)

    assert wait_for(complete, 90, 0.5), {user: stack.x_dm_texts(user) for user in PEOPLE}
    time.sleep(2.0)  # a few more sending rounds: a duplicate would show up
    for user in PEOPLE:
        assert stack.x_dm_texts(user) == expected, user
        assert stack.user_message_ids(stack.x_conversation(user)) == sent[user]
