"""What the bot's latest turn asked, read from the tracker's events: the ``asked`` slot only when
that turn set it, else the turn itself (tests/scenarios/tracker_reading.py)."""

from __future__ import annotations

from tests.scenarios.tracker_reading import what_was_asked


def slot(name, value):
    return {"event": "slot", "name": name, "value": value}


def user(text="x"):
    return {"event": "user", "text": text}


def action(name):
    return {"event": "action", "name": name}


def bot(utter):
    return {"event": "bot", "text": "…", "metadata": {"utter_action": utter}}


def loop(name):
    return {"event": "active_loop", "name": name}


OPENING = [action("action_session_start"), {"event": "session_started"},
           action("action_listen")]
FIRST = [*OPENING, user("la mairie a refusé mon permis"), action("action_remember_question"),
         slot("consent", "pending")]
CONSENTED = [*FIRST, user("oui"), action("action_give_consent"), slot("consent", "given"),
             action("action_route_question"), slot("route", "triage")]


def test_the_consent_question_while_consent_is_pending():
    asked = what_was_asked(FIRST, "urbanisme")
    assert (asked.keys, asked.press, asked.read) == (["consent"], {}, "tracker")


def test_the_intakes_asked_slot_when_the_latest_turn_set_it():
    events = [*CONSENTED, action("action_intake"),
              slot("asked", ["role_applicant_or_neighbour", "date_notified"])]
    asked = what_was_asked(events, "urbanisme")
    assert (asked.keys, asked.read) == (["role_applicant_or_neighbour", "date_notified"], "asked")
    events += [user("c'est mon permis, le 2 octobre"), action("action_intake"),
               slot("asked", ["confirm"])]
    assert what_was_asked(events, "urbanisme").keys == ["confirm"]


def test_a_stale_asked_slot_is_not_read_again():
    """The slot keeps the intake's last question; a later turn that did not set it asked
    something else (here the domain buttons) or nothing."""
    events = [*FIRST, slot("asked", ["date_notified"]), user("oui"),
              action("action_give_consent"), slot("consent", "given"),
              action("action_route_question"), bot("utter_ask_domaine"),
              slot("route", "question")]
    asked = what_was_asked(events, "fiscalite")
    assert (asked.keys, asked.press) == (["domain"], {"domain": "/question_fiscalite"})
    events += [user("au revoir"), bot("utter_goodbye")]
    assert what_was_asked(events, "fiscalite") == ([], {}, "none")


def test_the_handover_clears_the_question():
    events = [*CONSENTED, action("action_intake"), slot("asked", ["confirm"]), user("oui"),
              action("action_intake"), slot("asked", None), action("action_handoff")]
    assert what_was_asked(events, "urbanisme").keys == []


def test_the_generic_question_is_answered_with_the_story():
    for utter in ("utter_ask_question", "utter_ask_question_or_lawyer"):
        events = [*FIRST, user("oui"), action("action_give_consent"),
                  slot("consent", "given"), action("action_route_question"), bot(utter)]
        assert what_was_asked(events, None).keys == ["story"]


def test_the_referral_forms_postcode_is_the_place_answer():
    events = [*FIRST, user("oui"), slot("consent", "given"), action("action_route_question"),
              bot("utter_out_of_scope"), slot("route", "referral"), action("referral_form"),
              loop("referral_form"), slot("requested_slot", "code_postal")]
    assert what_was_asked(events, "hors_champ").keys == ["place"]
    events += [user("je préfère pas"), action("referral_form"),
               bot("utter_invalid_code_postal"), slot("requested_slot", "code_postal")]
    assert what_was_asked(events, "hors_champ").keys == ["place"]
    events += [user("75011"), action("referral_form"), slot("code_postal", "75011"),
               loop(None), slot("requested_slot", None), action("action_referral"),
               action("action_handoff")]
    assert what_was_asked(events, "hors_champ").keys == []


def test_the_postcode_asked_after_the_scope_answer_is_the_place_answer():
    # The scope question answered: action_route_question clears ``asked`` in the very turn
    # where the referral form asks the postcode.
    events = [*FIRST, user("oui"), slot("consent", "given"), action("action_route_question"),
              bot("utter_ask_scope"), slot("asked", ["scope"]), slot("route", "question"),
              user("non"), action("action_route_question"), slot("asked", None),
              slot("domaine", "hors_champ"), slot("route", "referral"), action("referral_form"),
              loop("referral_form"), bot("utter_out_of_scope_postcode"),
              slot("requested_slot", "code_postal")]
    assert what_was_asked(events, "hors_champ") == (["place"], {}, "tracker")


def test_an_aside_leaves_the_question_before_it_open():
    """« vous êtes un humain ? » in answer to the intake's question: the answer to the aside
    asks nothing, the intake's question is still on the person's screen."""
    events = [*CONSENTED, action("action_intake"), slot("asked", ["date_notified", "place"]),
              user("vous êtes un humain ?"), bot("utter_iamabot")]
    asked = what_was_asked(events, "collectivites")
    assert (asked.keys, asked.read) == (["date_notified", "place"], "open")


def test_an_aside_before_consent_leaves_the_consent_question():
    events = [*OPENING, user("vous êtes un robot ?"), bot("utter_iamabot"),
              action("action_remember_question"), slot("consent", "pending"),
              user("c'est payant ?"), bot("utter_fees")]
    assert what_was_asked(events, None).keys == ["consent"]


def test_a_turn_that_asks_nothing_known_is_nothing():
    events = [*CONSENTED, action("action_intake"), slot("asked", ["place"]), user("merci"),
              bot("utter_default")]
    assert what_was_asked(events, "urbanisme") == ([], {}, "none")
