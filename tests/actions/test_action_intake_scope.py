"""action_intake at the summary: a correction saying no administration is in it sends the
conversation to the referral (issue #12, item 6); other corrections stay in the triage."""

from __future__ import annotations

import pytest

from actions.intake_action import ActionIntake

STORY = ("je suis agent de restauration à la cantine de l'école de la ville d'Arras, on m'a "
         "licencié le 27 novembre")


def _events(answer: str) -> list[dict]:
    return [
        {"event": "user", "timestamp": None, "text": STORY, "parse_data": {}},
        {"event": "user", "timestamp": None, "text": "oui", "parse_data": {}},
        {"event": "slot", "timestamp": None, "name": "consent", "value": "given"},
        {"event": "slot", "timestamp": None, "name": "asked", "value": ["confirm"]},
        {"event": "user", "timestamp": None, "text": answer, "parse_data": {}},
    ]


async def test_no_administration_at_the_summary_goes_to_the_referral(
    make_tracker, dispatcher, domain, sent, slot_events
) -> None:
    answer = "non, mon employeur c'est une société privée de restauration, pas la mairie"
    tracker = make_tracker(slots={"consent": "given", "domaine": "fonction_publique",
                                  "route": "triage", "asked": ["confirm"]},
                           text=answer, events=_events(answer))

    events = await ActionIntake().run(dispatcher, tracker, domain)

    slots = slot_events(events)
    assert (slots["domaine"], slots["route"], slots["asked"]) == ("hors_champ", "referral", None)
    assert events[-1] == {"event": "followup", "timestamp": None,
                          "name": "action_route_question"}
    assert sent() == []  # the referral says what was understood


@pytest.mark.parametrize("answer", ["non, la date c'est le 26 novembre", "oui"])
async def test_other_answers_at_the_summary_stay_in_the_triage(
    make_tracker, dispatcher, domain, sent, slot_events, answer
) -> None:
    tracker = make_tracker(slots={"consent": "given", "domaine": "fonction_publique",
                                  "route": "triage", "asked": ["confirm"]},
                           text=answer, events=_events(answer))

    events = await ActionIntake().run(dispatcher, tracker, domain)

    assert slot_events(events).get("domaine") != "hors_champ"
    assert "route" not in slot_events(events)
