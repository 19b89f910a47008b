"""The disclosure before anything (LEGAL.md S1-S6), even after an action-server outage.

When the action server is down at a person's first message, Rasa logs ``action_session_start``
with none of its messages (no disclosure, no consent question) and never runs it again for that
conversation. ``actions.session.disclosed`` reads the tracker for this session's disclosure;
``action_remember_question`` sends it when it is missing, and ``action_give_consent`` records
consent only once it was delivered. The trackers below are shaped as Rasa 3.6 logs them
(reproduced on the real servers: tests/security/test_disclosure_outage.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.consent import ActionGiveConsent, ActionRememberQuestion
from actions.session import DISCLOSURE, ActionSessionStart, disclosed

PERMIS = "la mairie a refusé mon permis de construire pour une extension"


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "timestamp": None, "name": name}


def bot(response: str | None, text: str = "…") -> dict[str, Any]:
    metadata = {"utter_action": response} if response else {"author": "lawyer"}
    return {"event": "bot", "timestamp": None, "text": text, "data": {}, "metadata": metadata}


def user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "timestamp": None, "text": text,
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0}}}


# What the tracker store kept when the first message came while the action server was down:
# the session start logged without its messages, the message answered by Rasa's own fallback
# (« Je n'ai pas bien compris… ») and rewound.
OUTAGE = [
    {"event": "slot", "timestamp": None, "name": "session_started_metadata", "value": {}},
    action("action_session_start"),
    user(PERMIS, "question_urbanisme"),
    action("action_default_fallback"),
    bot("utter_default"),
    {"event": "rewind", "timestamp": None},
    action("action_listen"),
]


def tracker_with(make_tracker, events, text="oui", intent="affirm", slots=None):
    return make_tracker(slots=slots, text=text, intent=intent,
                        events=[*events, user(text, intent)])


def as_bot_events(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """The dispatched messages as Rasa logs them (``utter_action`` in the metadata)."""
    return [bot(message["response"]) for message in dispatcher.messages]


# --- disclosed() ------------------------------------------------------------------------------

async def test_disclosed_after_the_real_session_start(make_tracker) -> None:
    dispatcher = CollectingDispatcher()
    await ActionSessionStart().run(dispatcher, make_tracker(), {})
    events = [action("action_session_start"), *as_bot_events(dispatcher),
              {"event": "session_started", "timestamp": None}, action("action_listen")]
    assert disclosed(tracker_with(make_tracker, events))


def test_disclosed_as_the_tracker_store_loads_the_session(make_tracker) -> None:
    # Rasa's SQL tracker store loads events from the last SessionStarted on: the session
    # start's messages, logged just before it, are not there.
    events = [{"event": "session_started", "timestamp": None},
              {"event": "slot", "timestamp": None, "name": "firm_name", "value": "Cabinet"},
              action("action_listen"), user(PERMIS, "question_urbanisme"),
              action("action_remember_question"),
              {"event": "slot", "timestamp": None, "name": "consent", "value": "pending"},
              action("action_listen")]
    assert disclosed(tracker_with(make_tracker, events))


def test_not_disclosed_when_the_session_start_failed(make_tracker) -> None:
    assert not disclosed(tracker_with(make_tracker, OUTAGE))


@pytest.mark.parametrize("missing", DISCLOSURE)
def test_not_disclosed_when_one_message_is_missing(make_tracker, missing) -> None:
    events = [action("action_session_start"),
              *(bot(name) for name in DISCLOSURE if name != missing)]
    assert not disclosed(tracker_with(make_tracker, events))


def test_the_consent_question_alone_is_not_the_disclosure(make_tracker) -> None:
    events = [*OUTAGE, user("la mairie de Lens", "inform"), action("action_remember_question"),
              bot("utter_ask_consent_again"), action("action_listen")]
    assert not disclosed(tracker_with(make_tracker, events))


def test_the_disclosure_must_come_after_the_session_start(make_tracker) -> None:
    # An opening logged before this session's (failed) start belongs to an earlier attempt.
    events = [bot("utter_opening"), action("action_session_start"),
              bot("utter_ask_consent_again")]
    assert not disclosed(tracker_with(make_tracker, events))


def test_a_previous_sessions_disclosure_does_not_count(make_tracker, session_start_events) -> None:
    events = [*session_start_events, user(PERMIS, "question_urbanisme"),
              action("action_listen"), action("action_session_start")]
    assert not disclosed(tracker_with(make_tracker, events))
    again = [*events, *(bot(name) for name in DISCLOSURE)]
    assert disclosed(tracker_with(make_tracker, again))


def test_a_restart_ends_the_session(make_tracker, session_start_events) -> None:
    events = [*session_start_events, {"event": "restart", "timestamp": None},
              action("action_listen")]
    assert not disclosed(tracker_with(make_tracker, events))


def test_later_messages_do_not_hide_the_disclosure(make_tracker, session_start_events) -> None:
    events = [*session_start_events, user(PERMIS, "question_urbanisme"),
              action("action_remember_question"), bot(None, "Bonjour, ici l'avocate."),
              bot("utter_ask_consent_again"), action("action_listen")]
    assert disclosed(tracker_with(make_tracker, events))


# --- the actions after an outage ---------------------------------------------------------------

@pytest.mark.parametrize(("text", "intent"), [
    ("oui", "affirm"),
    (PERMIS, "question_urbanisme"),
    ("bonjour", "greet"),
    ("es-tu un robot ?", "bot_challenge"),
    ("je veux parler à un avocat", "ask_lawyer"),
    ("non", "deny"),
])
@pytest.mark.parametrize("consent", [None, "pending"])
async def test_the_next_message_gets_the_disclosure_first(
    dispatcher, make_tracker, domain, sent, slot_events, text, intent, consent
) -> None:
    tracker = tracker_with(make_tracker, OUTAGE, text, intent, {"consent": consent})

    events = await ActionRememberQuestion().run(dispatcher, tracker, domain)

    assert sent() == list(DISCLOSURE)
    assert slot_events(events)["consent"] == "pending"  # never "given"
    if intent == "question_urbanisme":  # the question is still kept
        assert slot_events(events)["question_initiale"] == PERMIS


async def test_consent_is_not_recorded_without_the_disclosure(
    dispatcher, make_tracker, domain, sent
) -> None:
    # Consent pending but only « acceptez-vous » was ever sent (the state the outage left).
    events = [*OUTAGE, user("la mairie de Lens", "inform"), action("action_remember_question"),
              bot("utter_ask_consent_again"),
              {"event": "slot", "timestamp": None, "name": "consent", "value": "pending"},
              action("action_listen")]
    tracker = tracker_with(make_tracker, events, slots={"consent": "pending"})

    result = await ActionGiveConsent().run(dispatcher, tracker, domain)

    assert sent() == list(DISCLOSURE)
    assert result == [
        {"event": "slot", "timestamp": None, "name": "consent", "value": "pending"},
        {"event": "followup", "timestamp": None, "name": "action_listen"},
    ]


async def test_after_the_disclosure_the_next_yes_is_consent(
    make_tracker, domain, slot_events
) -> None:
    first = CollectingDispatcher()
    tracker = tracker_with(make_tracker, OUTAGE)  # « oui » right after the recovery
    events = await ActionRememberQuestion().run(first, tracker, domain)
    assert slot_events(events) == {"consent": "pending"}

    history = [*OUTAGE, user("oui", "affirm"), action("action_remember_question"),
               *as_bot_events(first), *events, action("action_listen")]
    second = CollectingDispatcher()
    tracker = tracker_with(make_tracker, history, slots={"consent": "pending"})
    result = await ActionGiveConsent().run(second, tracker, domain)

    assert slot_events(result) == {"consent": "given"}
    assert second.messages == []
