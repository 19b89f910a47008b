"""The simulated person answers what the assistant asked, from its bank, and its explicit turns
when they apply (tests/scenarios/person.py)."""

from __future__ import annotations

from tests.scenarios.person import DONT_KNOW, LOST, SCOPE_NO, SCOPE_YES, Person, applies


def person(**scenario) -> Person:
    return Person.of({"say": "ma question", "expect": {"route": "triage"}, **scenario})


def test_answers_every_asked_key_in_one_message_from_the_bank():
    who = person(answers={"date_notified": "le 3 mars", "place": "33800"})
    assert who.reply(["date_notified", "place"]) == ("le 3 mars, 33800", "bank")


def test_an_unknown_key_is_not_known_and_goes_last_when_others_are_answered():
    who = person(answers={"place": "33800"})
    assert who.reply(["hour_notified"]) == (DONT_KNOW, "bank")
    assert who.reply(["hour_notified", "place"]) == (f"33800, le reste {DONT_KNOW}", "bank")


def test_dialogue_defaults_consent_confirm_story_and_scope_by_route():
    who = person()
    assert who.reply(["consent"])[0] == "oui"
    assert who.reply(["confirm"])[0] == "c'est bien ça, merci"
    assert who.reply(["story"])[0] == "ma question"
    assert who.reply(["scope"])[0] == SCOPE_YES
    referral = Person.of({"say": "divorce", "expect": {"route": "referral"}})
    assert referral.reply(["scope"])[0] == SCOPE_NO


def test_the_display_or_notification_date_answers_the_narrower_question_the_intake_asks():
    who = person(answers={"date_display_or_notified": "le panneau est là depuis le 5 octobre"})
    assert who.reply(["date_display"])[0] == "le panneau est là depuis le 5 octobre"
    assert who.reply(["date_notified"])[0] == "le panneau est là depuis le 5 octobre"
    both = person(answers={"date_display_or_notified": "le 5", "date_notified": "le 2"})
    assert both.reply(["date_notified"])[0] == "le 2"


def test_the_domain_buttons_are_not_a_fact_question():
    who = person(turns=[{"when": "fact", "say": "avocat"}])
    assert who.reply(["domain"])[1] == "bank"
    assert who.reply(["place"]) == ("avocat", "turn")


def test_a_list_is_said_in_turn_each_time_the_key_is_asked_again_then_the_last_one():
    who = person(answers={"role": ["je suis sa fille", "Particulier"]})
    assert [who.reply(["role"])[0] for _ in range(3)] == [
        "je suis sa fille", "Particulier", "Particulier"]


def test_a_plain_turn_is_said_at_the_next_question_whatever_it_asks():
    who = person(turns=["Sorry, can we speak English?"], answers={"consent": "yes"})
    assert who.reply(["consent"]) == ("Sorry, can we speak English?", "turn")
    assert who.reply(["consent"]) == ("yes", "bank")


def test_a_turn_waits_for_a_question_on_its_keys():
    who = person(turns=[{"when": "place", "say": "avocat"}], answers={"place": "75011"})
    assert who.reply(["consent"]) == ("oui", "bank")
    assert who.reply(["administration"]) == (DONT_KNOW, "bank")
    assert who.reply(["date_notified", "place"]) == ("avocat", "turn")
    assert who.reply(["place"]) == ("75011", "bank")


def test_when_fact_waits_for_any_fact_question_not_the_dialogue_s_own():
    who = person(turns=[{"when": "fact", "say": "avocat"}])
    assert who.reply(["consent"])[1] == "bank"
    assert who.reply(["story"])[1] == "bank"
    assert who.reply(["mesure"]) == ("avocat", "turn")


def test_a_correction_updates_the_bank_for_the_questions_that_follow():
    who = person(
        answers={"date_notified": ["le 4 décembre", "le 4"]},
        turns=[{"when": "confirm", "say": "non, c'était le 3 décembre",
                "then": {"date_notified": "le 3 décembre", "correction": "la date"}}])
    assert who.reply(["date_notified"])[0] == "le 4 décembre"
    assert who.reply(["confirm"]) == ("non, c'était le 3 décembre", "turn")
    assert who.reply(["correction"])[0] == "la date"
    assert who.reply(["date_notified"])[0] == "le 3 décembre"


def test_not_understood_the_person_repeats_once_then_asks_for_the_lawyer():
    who = person(answers={"place": "33800"})
    assert who.reply(["place"]) == ("33800", "bank")
    assert who.reply([]) == ("33800", "lost")
    assert who.reply([]) == (LOST, "lost")
    assert who.reply(["place"]) == ("33800", "bank")
    assert who.reply([]) == ("33800", "lost")


def test_not_understood_after_the_first_message_repeats_it():
    assert person().reply([]) == ("ma question", "lost")


def test_a_pending_plain_turn_is_said_even_when_nothing_recognisable_was_asked():
    who = person(turns=["No hablo francés."])
    assert who.reply([]) == ("No hablo francés.", "turn")


def test_applies():
    assert applies("texte", [])
    assert applies({"say": "x"}, ["consent"])
    assert applies({"when": ["place", "mesure"], "say": "x"}, ["mesure"])
    assert not applies({"when": ["place"], "say": "x"}, ["mesure", "consent"])
    assert not applies({"when": "fact", "say": "x"}, ["confirm", "correction", "scope"])
