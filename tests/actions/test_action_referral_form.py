"""validate_referral_form: the postcode that finds the right Ordre, checked, clear re-asks."""

from __future__ import annotations

import pytest

from actions.triage_form import ActionAskCodePostal, ValidateReferralForm


@pytest.mark.parametrize(
    ("answer", "expected", "responses"),
    [
        ("92100", "92100", []),
        ("mon code postal est le 62 000", "62000", []),
        ("20200", "20200", []),
        ("97600", "97600", []),
        ("00000", None, ["utter_invalid_code_postal"]),
        ("99999", None, ["utter_invalid_code_postal"]),
        ("Arras", None, ["utter_invalid_code_postal"]),
        ("avocat", "nsp", []),
        ("je veux parler à quelqu'un", "nsp", []),
    ],
)
async def test_referral_form_postcode(
    make_form_tracker, dispatcher, domain, sent, answer, expected, responses
) -> None:
    tracker = make_form_tracker("referral_form", "code_postal", answer,
                                slots={"domaine": "hors_champ"})
    events = await ValidateReferralForm().run(dispatcher, tracker, domain)

    # required_slots is not overridden: Rasa's form asks the next slot itself.
    assert events == [{"event": "slot", "timestamp": None, "name": "code_postal",
                       "value": expected}]
    assert sent() == responses


@pytest.mark.parametrize(("answer", "expected", "responses"), [
    ("je préfère pas le dire", "nsp", ["utter_postcode_skipped"]),
    ("Arras", "nsp", ["utter_postcode_skipped"]),
    ("62000", "62000", []),
    ("je ne sais pas", "nsp", []),
])
async def test_a_second_answer_that_is_not_a_postcode_goes_on_without_it(
    make_form_tracker, dispatcher, domain, sent, answer, expected, responses
) -> None:
    tracker = make_form_tracker("referral_form", "code_postal", answer,
                                slots={"domaine": "hors_champ"})
    tracker.events.insert(0, {"event": "bot", "timestamp": None, "text": "…",
                              "metadata": {"utter_action": "utter_invalid_code_postal"}})
    events = await ValidateReferralForm().run(dispatcher, tracker, domain)
    assert events == [{"event": "slot", "timestamp": None, "name": "code_postal",
                       "value": expected}]
    assert sent() == responses


# --- what was understood, and its correction (issue #12, item 6) ---

def _story(text: str) -> list[dict]:
    """The person's story before consent, then the consent (the conversation the form reads)."""
    return [
        {"event": "user", "timestamp": None, "text": text,
         "parse_data": {"intent": {"name": "question_hors_champ"}, "intent_ranking": [
             {"name": "question_hors_champ", "confidence": 0.8},
             {"name": "question_fonction_publique", "confidence": 0.1}]}},
        {"event": "user", "timestamp": None, "text": "oui", "parse_data": {}},
        {"event": "slot", "timestamp": None, "name": "consent", "value": "given"},
    ]


async def test_a_correction_naming_an_administration_leaves_the_referral(
    make_form_tracker, dispatcher, domain, sent, slot_events
) -> None:
    tracker = make_form_tracker("referral_form", "code_postal",
                                "non, c'est la mairie qui m'a licencié",
                                slots={"domaine": "hors_champ"})
    tracker.events[:0] = _story("j'ai été licencié, c'est injuste")

    events = await ValidateReferralForm().run(dispatcher, tracker, domain)

    # The form ends; action_referral sees a public-law domain and hands on to the triage.
    assert slot_events(events) == {"code_postal": "nsp", "domaine": "fonction_publique"}
    assert sent() == []


async def test_another_private_matter_is_shown_again_not_called_an_invalid_postcode(
    make_form_tracker, dispatcher, domain, sent, slot_events
) -> None:
    tracker = make_form_tracker("referral_form", "code_postal", "non, c'est pour un divorce",
                                slots={"domaine": "hors_champ"})
    tracker.events[:0] = _story("j'ai un problème avec mon patron")

    events = await ValidateReferralForm().run(dispatcher, tracker, domain)

    assert slot_events(events) == {"code_postal": None}
    assert sent() == []


async def test_yes_to_the_story_postcode_keeps_it(
    make_form_tracker, dispatcher, domain, sent, slot_events
) -> None:
    tracker = make_form_tracker("referral_form", "code_postal", "/affirm",
                                slots={"domaine": "hors_champ"}, intent="affirm")
    tracker.events[:0] = _story("mon patron m'a viré, j'habite au 33800") + [
        {"event": "bot", "timestamp": None, "text": "…",
         "metadata": {"utter_action": "utter_referral_check"}}]

    events = await ValidateReferralForm().run(dispatcher, tracker, domain)

    assert slot_events(events) == {"code_postal": "33800"}


@pytest.mark.parametrize(("story", "response"), [
    ("mon patron m'a licencié sans raison", "utter_out_of_scope_postcode"),
    ("mon patron m'a licencié sans raison, j'habite au 33800", "utter_referral_check"),
])
async def test_the_postcode_question_says_what_was_understood(
    make_tracker, dispatcher, domain, sent, render, story, response
) -> None:
    tracker = make_tracker(slots={"domaine": "hors_champ"}, text="oui",
                           active_loop="referral_form", requested_slot="code_postal",
                           events=_story(story))

    assert await ActionAskCodePostal().run(dispatcher, tracker, domain) == []

    assert sent() == [response]
    text = render(dispatcher.messages[0])
    assert text.startswith("J'ai compris : un litige avec votre employeur privé")
    assert "corrigez-moi" in text


async def test_the_postcode_is_asked_plainly_after_a_wrong_one(
    make_tracker, dispatcher, domain, sent
) -> None:
    events = _story("mon patron m'a licencié") + [
        {"event": "bot", "timestamp": None, "text": "…",
         "metadata": {"utter_action": "utter_out_of_scope_postcode"}},
        {"event": "user", "timestamp": None, "text": "Arras", "parse_data": {}}]
    tracker = make_tracker(slots={"domaine": "hors_champ"}, text="Arras",
                           active_loop="referral_form", requested_slot="code_postal",
                           events=events)

    await ActionAskCodePostal().run(dispatcher, tracker, domain)

    assert sent() == ["utter_ask_code_postal"]
