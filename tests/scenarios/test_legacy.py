"""FALLBACK for today's form dialogue (delete with legacy.py): what the bot asked, read from
the tracker's events (tests/scenarios/legacy.py)."""

from __future__ import annotations

from tests.scenarios.legacy import asked_and_press


def slot(name, value):
    return {"event": "slot", "name": name, "value": value}


def user(text="x"):
    return {"event": "user", "text": text}


def action(name):
    return {"event": "action", "name": name}


def test_consent_pending():
    assert asked_and_press([user(), slot("consent", "pending")], {}, "etrangers") == (
        ["consent"], {})


def test_a_form_slot_is_the_first_bank_key_the_scenario_has():
    events = [slot("consent", "given"), user(), slot("requested_slot", "date_decision")]
    assert asked_and_press(events, {"date_election": "dimanche"}, "elections")[0] == [
        "date_election"]
    assert asked_and_press(events, {}, "elections")[0] == ["date_display_or_notified"]
    events.append(slot("requested_slot", "code_postal"))
    assert asked_and_press(events, {}, "elections") == (["place"], {})


def test_the_summary_is_confirmed_with_its_button():
    events = [slot("requested_slot", "recit"), user(), slot("requested_slot", None),
              action("action_summarize")]
    assert asked_and_press(events, {}, "urbanisme") == (["confirm"], {"confirm": "/affirm"})
    assert asked_and_press([*events, user("non"), action("action_listen")], {}, "urbanisme") == (
        [], {})


def test_the_domain_buttons_are_tapped_for_the_expected_domain():
    events = [slot("consent", "given"), user(), action("action_route_question"),
              {"event": "bot", "metadata": {"utter_action": "utter_ask_domaine"}}]
    assert asked_and_press(events, {}, "fiscalite") == (
        ["domain"], {"domain": "/question_fiscalite"})


def test_the_field_to_correct_is_the_correction_answer():
    events = [user(), slot("requested_slot", "field_to_correct")]
    assert asked_and_press(events, {}, "urbanisme")[0] == ["correction"]
