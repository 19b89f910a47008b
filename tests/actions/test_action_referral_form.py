"""validate_referral_form: the postcode that finds the right Ordre, checked, clear re-asks."""

from __future__ import annotations

import pytest

from actions.triage_form import ValidateReferralForm


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
