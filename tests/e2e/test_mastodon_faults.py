"""The Mastodon channel's durability, as X's (``test_x_kill.py``, ``test_x_outage.py``), on a
stack of its own (``mastodon_faults_stack``, tests/e2e/conftest.py: liveness and leases of 3 s,
send backoff from 2 s):

- ``kill -9`` of the real Rasa server while it handles a burst of direct statuses the stream
  delivered: once restarted, every person gets the whole conversation exactly once, in order;
- Mastodon answers 429 (reset 5 s ahead) then 503 to the account's statuses while people
  write: afterwards every reply is posted once, in the order the assistant produced it, and
  the sender waited (the reset, then backoff) instead of hammering the instance.
"""

from __future__ import annotations

import random
import time

import pytest
from rasa.shared.core.events import Event, UserUttered

from channels.replay import turn_messages
from connectors.mastodon import render
from sandbox.stack import Stack, wait_for
from tests.dialogue import QUESTIONS, SUMMARY, URBANISME, URBANISME_ANSWERS

STATUSES = "/api/v1/statuses"
FAILING_503 = 12
MAX_FAILED_TRIES_PER_PERSON = 8
ACCOUNTS: dict[str, str] = {}  # username -> Mastodon account id (the conversation's)
TURNS = ((URBANISME, "Acceptez-vous"), ("1", QUESTIONS), (URBANISME_ANSWERS, SUMMARY))


def username() -> str:
    return f"citoyen{random.randrange(10**8, 10**9)}"


def bodies(stack: Stack, user: str) -> list[str]:
    """What ``user`` read: the account's direct statuses to them, without the ``@acct``."""
    prefix = f"@{user}@avocats.social "
    return [text.removeprefix(prefix) for text in stack.mastodon_texts(user)]


def write(stack: Stack, user: str, text: str) -> str:
    """``user`` writes; the status id (the message id Rasa keeps), once the person is known."""
    answer = stack.mastodon_post(user, text)
    ACCOUNTS[user] = answer["account_id"]
    return answer["status_id"]


def conversation(stack: Stack, user: str) -> str:
    return f"mastodon:{ACCOUNTS[user]}"


def outbox_rows(stack: Stack, user: str) -> list[tuple]:
    return stack.x_sql("SELECT state, external_id FROM x_outbox WHERE channel = 'mastodon' "
                       "AND recipient_id = ? ORDER BY seq", ACCOUNTS[user])


def expected_bodies(stack: Stack, user: str) -> list[str]:
    """The statuses the assistant's messages make, turn by turn, as MastodonOutput renders
    them (the emulator's max_characters: 500)."""
    events = [Event.from_parameters(e) for e in stack.stored_events(conversation(stack, user))]
    return [text for event in events if isinstance(event, UserUttered)
            for text in render.render(turn_messages(events, event.message_id) or [])]


@pytest.fixture(scope="module")
def stack(mastodon_faults_stack: Stack) -> Stack:
    return mastodon_faults_stack


def asked(stack: Stack, user: str, needle: str) -> bool:
    return any(needle in (event.get("text") or "")
               for event in stack.stored_events(conversation(stack, user))
               if event["event"] == "bot")


def request_log(stack: Stack) -> list[dict]:
    return stack.mastodon_control("GET", "/_control/requests?limit=100000")["requests"]


def test_kill_9_during_a_burst_loses_and_repeats_nothing(stack) -> None:
    control = username()
    write(stack, control, URBANISME)
    assert wait_for(lambda: any("Acceptez-vous" in b for b in bodies(stack, control)), 120)
    write(stack, control, "1")
    assert wait_for(lambda: any(QUESTIONS in b for b in bodies(stack, control)), 60)
    time.sleep(1.0)
    expected = bodies(stack, control)

    people = [username() for _ in range(4)]
    sent = {user: [write(stack, user, URBANISME)] for user in people}
    for user in people:
        sent[user].append(write(stack, user, "1"))
    assert wait_for(lambda: any(stack.mastodon_texts(user) for user in people), 60, 0.02)
    stack.kill_rasa()
    at_kill = {user: len(stack.mastodon_texts(user)) for user in people}
    assert sum(at_kill.values()) < len(people) * len(expected), "killed too late"
    stack.start_rasa()

    def complete() -> bool:
        return all(len(stack.mastodon_texts(user)) >= len(expected) for user in people)

    assert wait_for(complete, 120, 0.5), {user: bodies(stack, user) for user in people}
    time.sleep(2.0)  # a few more sending rounds: a duplicate would show up
    for user in people:
        assert bodies(stack, user) == expected, user
        assert stack.user_message_ids(conversation(stack, user)) == sent[user]


@pytest.mark.timeout(600)
def test_replies_held_by_an_outage_are_all_posted_afterwards_in_order(stack) -> None:
    warm_up = username()  # the model's components loaded (after the kill test's restart)
    write(stack, warm_up, URBANISME)
    assert wait_for(lambda: any("Acceptez-vous" in b for b in bodies(stack, warm_up)), 120)
    requests_before = len(request_log(stack))
    stack.mastodon_control("POST", "/_control/fail", {"status": 429, "path_prefix": STATUSES,
                                                       "reset_in": 5})
    stack.mastodon_control("POST", "/_control/fail", {"status": 503, "path_prefix": STATUSES,
                                                       "count": FAILING_503})
    people = [username() for _ in range(4)]
    for text, next_question in TURNS:
        for user in people:
            write(stack, user, text)
        for user in people:
            assert wait_for(lambda u=user: asked(stack, u, next_question), 120), user

    def all_sent() -> bool:
        return all(rows and {state for state, _ in rows} == {"sent"}
                   for rows in (outbox_rows(stack, user) for user in people))

    assert wait_for(all_sent, 240, 1.0), {user: outbox_rows(stack, user) for user in people}
    for user in people:
        statuses = [s for s in stack.mastodon_control("GET", "/_control/sent")["statuses"]
                    if s["visibility"] == "direct" and f"{user}@avocats.social" in s["mentions"]]
        assert [s["id"] for s in statuses] == [external for _, external in
                                               outbox_rows(stack, user)]
        assert bodies(stack, user) == expected_bodies(stack, user)
        assert any(SUMMARY in body for body in bodies(stack, user))
    requests = request_log(stack)[requests_before:]
    statuses = [r["status"] for r in requests
                if r["method"] == "POST" and r["path"].startswith(STATUSES)]
    assert 429 in statuses and 503 in statuses, statuses  # the outage did happen
    assert statuses.count(429) + statuses.count(503) <= MAX_FAILED_TRIES_PER_PERSON * len(people)
