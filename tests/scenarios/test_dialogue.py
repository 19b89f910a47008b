"""One step of a scenario's conversation (tests/scenarios/dialogue.py), shared by the suite and
the live-hour benchmark: the end, the next message, the button as an X person types it."""

from __future__ import annotations

from tests.scenarios.dialogue import (
    ERASED,
    HANDOVER,
    latest_bot_events,
    latest_bot_messages,
    next_step,
    x_option,
)
from tests.scenarios.person import Person

DOMAINS = [{"title": "Urbanisme", "payload": "/question_urbanisme"},
           {"title": "Étrangers", "payload": "/question_etrangers"}]


def scenario() -> dict:
    return {"say": "mon permis est refusé", "answers": {"place": "59000"},
            "expect": {"route": "triage"}}


def test_the_end_of_a_conversation():
    handover = [{"event": "user", "text": "x"}, {"event": "action", "name": "action_handoff"},
                {"event": "pause"}]
    assert next_step(Person.of(scenario()), handover, "urbanisme").ended == HANDOVER
    assert next_step(Person.of(scenario()), [], "urbanisme").ended == ERASED


def test_the_person_answers_what_the_latest_turn_asked():
    events = [{"event": "user", "text": "mon permis"},
              {"event": "slot", "name": "asked", "value": ["place"]},
              {"event": "bot", "text": "Votre code postal ?"}]
    step = next_step(Person.of(scenario()), events, "urbanisme")
    assert (step.ended, step.text, step.payload, step.asked, step.source) == (
        None, "59000", None, ["place"], "bank")


def test_the_domain_buttons_are_tapped_and_typed_as_a_number_on_x():
    events = [{"event": "user", "text": "bonjour"},
              {"event": "bot", "text": "Quel domaine ?", "data": {"buttons": DOMAINS},
               "metadata": {"utter_action": "utter_ask_domaine"}}]
    step = next_step(Person.of(scenario()), events, "etrangers")
    assert step.payload == "/question_etrangers"
    assert x_option(events, step.payload) == "2"
    assert x_option(events, "/question_fiscalite") is None


def test_only_the_latest_turn_counts():
    events = [{"event": "bot", "text": "ancien", "data": {"buttons": DOMAINS}},
              {"event": "user", "text": "oui"}, {"event": "bot", "text": "nouveau"}]
    assert latest_bot_messages(events) == [{"text": "nouveau", "buttons": []}]
    assert x_option(events, "/question_urbanisme") is None


def test_the_opening_of_a_session_answers_the_message_that_started_it():
    events = [{"event": "action", "name": "action_session_start"},
              {"event": "bot", "text": "Je suis une IA. Acceptez-vous ?",
               "data": {"buttons": [{"title": "Oui", "payload": "/affirm"}]}},
              {"event": "session_started"}, {"event": "action", "name": "action_listen"},
              {"event": "user", "text": "bonjour, mon permis"},
              {"event": "action", "name": "action_listen"}]
    assert [m["text"] for m in latest_bot_messages(events)] == [
        "Je suis une IA. Acceptez-vous ?"]
    assert x_option(events, "/affirm") == "1"
    later = events + [{"event": "user", "text": "oui"}, {"event": "bot", "text": "Merci."}]
    assert [e["text"] for e in latest_bot_events(later)] == ["Merci."]
