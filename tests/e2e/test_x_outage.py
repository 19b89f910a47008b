"""X answers 429 (rate limit, reset 10 s ahead) then 503 for 20 s while people write:
afterwards every reply reaches X, once, in the order the assistant produced it for each person,
and the sender waited (the reset, then backoff) instead of hammering the API.

On the stack it shares with the kill -9 test (``x_faults_stack``, tests/e2e/conftest.py): the
faults would disturb the session's other tests. The send backoff starts at 2 s instead of 5 s
(``send_retry_seconds``), the outage lasting a third of the real minute: the same number of
tries per person as a minute's outage would make.
"""

from __future__ import annotations

import json
import random
import urllib.request

import pytest
from rasa.shared.core.events import Event, UserUttered

from channels.replay import turn_messages
from connectors.x.render import pack, render_buttons, split_text
from sandbox.stack import Stack, wait_for
from tests.dialogue import QUESTIONS, SUMMARY, URBANISME, URBANISME_ANSWERS

PEOPLE = 5
RATE_LIMITED_SECONDS = 10
OUTAGE_SECONDS = 20
SEND_RETRY_SECONDS = 2
DM_PATH = "/2/dm_conversations"
# Each person's next reply waits for the one before: while X fails, the sender makes about
# one try per person per backoff step (2 s, 4 s, 8 s...), so a handful in the outage. A loop
# that ignores the reset or the backoff makes hundreds.
MAX_FAILED_TRIES_PER_PERSON = 8
# (what the person writes, what the assistant asks next)
TURNS = (
    (URBANISME, "Acceptez-vous"),
    ("1", QUESTIONS),
    (URBANISME_ANSWERS, SUMMARY),
)


@pytest.fixture(scope="module")
def stack(x_faults_stack: Stack) -> Stack:
    assert x_faults_stack.x_extra["send_retry_seconds"] == SEND_RETRY_SECONDS
    return x_faults_stack


def bot_events(stack: Stack, person: str) -> list[dict]:
    return [event for event in stack.stored_events(stack.x_conversation(person))
            if event["event"] == "bot"]


def outbox_rows(stack: Stack, person: str) -> list[tuple]:
    return stack.x_sql("SELECT state, external_id FROM x_outbox WHERE recipient_id = ? "
                       "ORDER BY seq", person)


def expected_dms(stack: Stack, person: str) -> list[str]:
    """The DMs the assistant's messages make, in the order it produced them: each turn's
    messages rendered, split and packed as XOutput does."""
    events = [Event.from_parameters(event)
              for event in stack.stored_events(stack.x_conversation(person))]
    dms = []
    for event in events:
        if not isinstance(event, UserUttered):
            continue
        parts = []
        for message in turn_messages(events, event.message_id) or []:
            buttons = message.get("buttons")
            text = message.get("text") or ""
            parts += split_text(render_buttons(text, buttons)[0] if buttons else text)
        dms += pack(parts)
    return dms


def dms_to(stack: Stack, person: str) -> list[dict]:
    return [dm for dm in stack.x_control("GET", "/_control/outbox")["dms"]
            if dm["recipient_id"] == person]


def write(stack: Stack, person: str, text: str) -> None:
    answer = stack.x_control("POST", "/_control/dm", {"sender_id": person, "text": text})
    assert answer["delivery_status"] == 200, answer


def asked(stack: Stack, person: str, needle: str) -> bool:
    return any(needle in (event["text"] or "") for event in bot_events(stack, person))


@pytest.mark.timeout(600)
def test_replies_held_by_an_outage_are_all_delivered_afterwards_in_order(stack):
    def ready() -> bool:
        with urllib.request.urlopen(f"{stack.base_url}/webhooks/x/", timeout=10) as response:
            return json.loads(response.read())["ready"]

    assert wait_for(ready, 60, 0.5), "the X channel did not become ready"
    warm_up = str(random.randrange(10**15, 10**18))  # loads the model's components
    write(stack, warm_up, TURNS[0][0])
    assert wait_for(lambda: any(TURNS[0][1] in dm["text"] for dm in dms_to(stack, warm_up)),
                    120)
    requests_before = len(stack.x_control("GET", "/_control/requests"))

    fault = {"path_prefix": DM_PATH, "method": "POST"}
    stack.x_control("POST", "/_control/faults", {**fault, "status": 429,
                                                  "seconds": RATE_LIMITED_SECONDS,
                                                  "reset_in": RATE_LIMITED_SECONDS})
    stack.x_control("POST", "/_control/faults", {**fault, "status": 503,
                                                  "seconds": OUTAGE_SECONDS})
    people = [str(random.randrange(10**15, 10**18)) for _ in range(PEOPLE)]
    for text, next_question in TURNS:
        for person in people:
            write(stack, person, text)
        for person in people:
            assert wait_for(lambda p=person: asked(stack, p, next_question), 120), (
                f"no {next_question!r} for {person}")

    def all_sent() -> bool:
        return all(rows and {state for state, _ in rows} == {"sent"}
                   for rows in (outbox_rows(stack, person) for person in people))

    assert wait_for(all_sent, OUTAGE_SECONDS + 240, 1.0), {
        person: outbox_rows(stack, person) for person in people}

    for person in people:
        dms = dms_to(stack, person)
        # Once each, in the outbox's order, as the assistant said it.
        assert [dm["id"] for dm in dms] == [external for _, external in
                                            outbox_rows(stack, person)]
        assert [dm["text"] for dm in dms] == expected_dms(stack, person)
        assert [dm["text"] for dm in dms if TURNS[-1][1] in dm["text"]], dms

    requests = stack.x_control("GET", "/_control/requests")
    assert len(requests) < 2000, "the emulator's request log wrapped around"
    sends = [r for r in requests[requests_before:]
             if r["method"] == "POST" and r["path"].startswith(DM_PATH)]
    statuses = [r["status"] for r in sends]
    assert 429 in statuses and 503 in statuses, statuses  # the outage did happen
    failed = statuses.count(429) + statuses.count(503)
    assert failed <= MAX_FAILED_TRIES_PER_PERSON * PEOPLE, statuses
    assert statuses.count(201) == sum(len(outbox_rows(stack, p)) for p in people)
