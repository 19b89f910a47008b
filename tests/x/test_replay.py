"""Reading a saved turn's messages back (connectors/x/replay.py), on Rasa's own event classes."""

from __future__ import annotations

from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from channels.replay import turn_messages

BUTTONS = [{"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}]


def texts(messages: list[dict] | None) -> list[str] | None:
    return None if messages is None else [message["text"] for message in messages]


def conversation() -> list:
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        BotUttered("disclosure"),
        BotUttered("consent?", data={"buttons": BUTTONS}),
        ActionExecuted("action_listen"),
        UserUttered("bonjour", message_id="m1"),
        SlotSet("question_initiale", "bonjour"),
        BotUttered("ask again", data={"buttons": BUTTONS}),
        ActionExecuted("action_listen"),
        UserUttered("oui", message_id="m2"),
        BotUttered("first question"),
        BotUttered("from the desk", metadata={"author": "lawyer"}),
        ActionExecuted("action_listen"),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        BotUttered("disclosure again"),
        ActionExecuted("action_listen"),
        UserUttered("me revoilà", message_id="m3"),
        BotUttered("welcome back"),
    ]


def test_the_first_message_gets_the_session_start_messages_too() -> None:
    messages = turn_messages(conversation(), "m1")
    assert texts(messages) == ["disclosure", "consent?", "ask again"]
    assert messages[1]["buttons"] == BUTTONS


def test_a_later_turn_stops_at_the_next_message_and_leaves_the_lawyer_out() -> None:
    assert texts(turn_messages(conversation(), "m2")) == ["first question"]


def test_a_new_session_belongs_to_the_message_that_opened_it() -> None:
    assert texts(turn_messages(conversation(), "m3")) == ["disclosure again", "welcome back"]


def test_an_unsaved_message_is_not_found() -> None:
    assert turn_messages(conversation(), "m4") is None
    assert turn_messages([], "m1") is None


def test_a_saved_message_without_answer_has_none() -> None:
    # After the handover Rasa records the person's messages but predicts nothing.
    events = [UserUttered("merci", message_id="m9"), ActionExecuted("action_listen")]
    assert turn_messages(events, "m9") == []


def test_rasa_logs_the_disclosure_before_session_started() -> None:
    # The order Rasa 3.6 really stores (seen after a kill -9 in CI): the session start's
    # messages, then SessionStarted, then the person's first message.
    events = [
        ActionExecuted("action_session_start"),
        BotUttered("disclosure"),
        BotUttered("consent?", data={"buttons": BUTTONS}),
        SessionStarted(),
        SlotSet("firm_name", "Cabinet"),
        ActionExecuted("action_listen"),
        UserUttered("bonjour", message_id="m1"),
        ActionExecuted("action_remember_question"),
        ActionExecuted("action_listen"),
        UserUttered("1", message_id="m2"),
        BotUttered("first question"),
        ActionExecuted("action_listen"),
        ActionExecuted("action_session_start"),
        BotUttered("disclosure again"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("me revoilà", message_id="m3"),
    ]
    assert texts(turn_messages(events, "m1")) == ["disclosure", "consent?"]
    assert texts(turn_messages(events, "m2")) == ["first question"]
    assert texts(turn_messages(events, "m3")) == ["disclosure again"]
