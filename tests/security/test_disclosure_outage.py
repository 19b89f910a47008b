"""Issue #11, item 7: the action server is down at a person's first message.

Before the fix, on the real servers: Rasa logged ``action_session_start`` without its messages
(no AI disclosure, no terms, no consent question) and never ran it again; the first message got
Rasa's own fallback (« Je n'ai pas bien compris… »); after the recovery the person's « oui » set
consent pending in silence, the next message got only « Avant d'aller plus loin, j'ai besoin de
votre accord… », and the « oui » after it was recorded as consent: no disclosure ever.

Now, after the recovery, the person's next message, whatever it is, gets the disclosure and the
consent question first, and only an answer to them is taken as consent. On the security
tests' shared stack (``security_stack``, tests/security/conftest.py): the action server is
stopped, then started again, within the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.stack import ROOT, Stack, wait_for
from tests.dialogue import QUESTIONS

PERMIS = "bonjour, la mairie a refusé mon permis de construire pour une extension"
DISCLOSURE = "Assistant automatisé (IA)"  # the opening: one message (domain.yml utter_opening)
CONSENT_QUESTION = "Acceptez-vous ?"
SAYS_YES = "861000000000000001"  # after the recovery: « oui », then « oui » again
ASKS = "861000000000000002"  # after the recovery: the question again, then « 1 » (J'accepte)
CONTROL = "861000000000000003"  # a conversation without outage: consent as before


def events(stack: Stack, user: str) -> list[dict]:
    """The tracker's events of X user ``user``, whether the conversation id is the X id or
    ``x:<X id>`` (permanence.conversations)."""
    return stack.stored_events(user) or stack.stored_events(f"x:{user}")


def consent_values(stack: Stack, user: str) -> list:
    return [e["value"] for e in events(stack, user)
            if e["event"] == "slot" and e["name"] == "consent"]


def disclosure_sent_before_consent(stack: Stack, user: str) -> bool:
    """The opening (disclosure and consent question) comes before consent given."""
    seen: set[str] = set()
    for event in events(stack, user):
        if event["event"] == "bot":
            seen.add((event.get("metadata") or {}).get("utter_action"))
        if event["event"] == "slot" and event["name"] == "consent" and event["value"] == "given":
            return "utter_opening" in seen
    return False


def answered(stack: Stack, user: str, count: int) -> list[str]:
    assert wait_for(lambda: len(stack.x_dm_texts(user)) >= count, 60, 0.1), (
        stack.x_dm_texts(user))
    return stack.x_dm_texts(user)


@pytest.fixture
def stack(security_stack: Stack) -> Iterator[Stack]:
    assert security_stack.env["PERMANENCE_SCHEDULE_FILE"] == str(
        ROOT / "tests/schedule_always_live.yml")
    yield security_stack
    # The stack is shared: had the test stopped before the recovery, the action server starts
    # again for the next module.
    if security_stack.processes["actions"].poll() is not None:
        security_stack.start_actions()


def test_after_an_action_server_outage_the_disclosure_comes_before_consent(stack) -> None:
    # Without an outage, the answer to the session start's question is consent (the tracker
    # store loads the session from SessionStarted on, after the disclosure's messages).
    stack.x_send_dm(CONTROL, PERMIS)
    (first,) = answered(stack, CONTROL, 1)
    assert DISCLOSURE in first and CONSENT_QUESTION in first
    stack.x_send_dm(CONTROL, "1")
    assert stack.x_wait_dm_containing(CONTROL, QUESTIONS), (
        stack.x_dm_texts(CONTROL))
    assert consent_values(stack, CONTROL) == ["pending", "given"]

    actions = stack.processes["actions"]
    actions.terminate()
    actions.wait(timeout=30)

    # First messages while the action server is down: answered, but without the disclosure.
    for user in (SAYS_YES, ASKS):
        stack.x_send_dm(user, PERMIS)
    for user in (SAYS_YES, ASKS):
        (during,) = answered(stack, user, 1)
        assert DISCLOSURE not in during and CONSENT_QUESTION not in during
        assert consent_values(stack, user) == []

    stack.start_actions()

    # « oui » right after the recovery is not consent: the disclosure comes first.
    stack.x_send_dm(SAYS_YES, "oui")
    reply = answered(stack, SAYS_YES, 2)[1]
    assert DISCLOSURE in reply and CONSENT_QUESTION in reply
    assert reply.index(DISCLOSURE) < reply.index(CONSENT_QUESTION)
    assert "given" not in consent_values(stack, SAYS_YES)
    # The answer to the consent question is consent; the assistant asks for the question.
    stack.x_send_dm(SAYS_YES, "oui")
    after = answered(stack, SAYS_YES, 3)[2]
    assert CONSENT_QUESTION not in after
    assert consent_values(stack, SAYS_YES)[-1] == "given"
    assert disclosure_sent_before_consent(stack, SAYS_YES)

    # A question right after the recovery: disclosure first, the question kept for triage.
    stack.x_send_dm(ASKS, PERMIS)
    reply = answered(stack, ASKS, 2)[1]
    assert DISCLOSURE in reply and CONSENT_QUESTION in reply
    assert consent_values(stack, ASKS)[-1] == "pending"
    stack.x_send_dm(ASKS, "1")  # the numbered button « J'accepte »
    assert stack.x_wait_dm_containing(ASKS, QUESTIONS), stack.x_dm_texts(ASKS)
    assert consent_values(stack, ASKS)[-1] == "given"
    assert disclosure_sent_before_consent(stack, ASKS)
    # Each person got the disclosure once, in one answer.
    for user in (SAYS_YES, ASKS):
        assert sum(DISCLOSURE in text for text in stack.x_dm_texts(user)) == 1
