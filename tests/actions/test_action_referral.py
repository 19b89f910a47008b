"""action_referral: neutral referral to the Ordre des avocats of the person's place (LEGAL.md S7).

The postcode -> Ordre table itself is tested in tests/legal/test_referral.py; here: what the
action says and stores.
"""

from __future__ import annotations

import pytest

from actions.referral import NATIONAL_DIRECTORY_URL, POINT_JUSTICE_URL
from actions.referral_action import ActionReferral

LINKS = {"directory_url": NATIONAL_DIRECTORY_URL, "point_justice_url": POINT_JUSTICE_URL}


@pytest.mark.parametrize(
    ("postcode", "ordre"),
    [
        ("92100", "Barreau des Hauts-de-Seine"),  # Boulogne-Billancourt -> TJ Nanterre
        ("62000", "Barreau d'Arras"),
        ("20000", "Barreau d'Ajaccio"),  # Corse-du-Sud (2A)
        ("20200", "Barreau de Bastia"),  # Haute-Corse (2B)
    ],
)
async def test_referral_to_one_ordre(
    dispatcher, make_tracker, domain, sent, slot_events, render, postcode, ordre
) -> None:
    tracker = make_tracker(slots={"domaine": "hors_champ", "code_postal": postcode},
                           active_loop=None, latest_action_name="referral_form")

    events = await ActionReferral().run(dispatcher, tracker, domain)

    assert slot_events(events) == {"ordres": [ordre]}
    assert sent() == ["utter_referral"]
    (message,) = dispatcher.messages
    assert ordre in message["ordres_text"]
    assert " ou " not in message["ordres_text"]
    assert {k: message[k] for k in LINKS} == LINKS
    text = render(message)
    assert ordre in text and NATIONAL_DIRECTORY_URL in text and POINT_JUSTICE_URL in text
    # Neutral wording (S7, N2): no opinion, no ranking.
    for word in ("meilleur", "spécialiste", "gagner"):
        assert word not in text.lower()


async def test_referral_lists_every_ordre_when_the_town_is_unknown(
    dispatcher, make_tracker, domain, sent, slot_events
) -> None:
    # Lens (62300) is not a court seat; the Pas-de-Calais has four tribunaux judiciaires.
    tracker = make_tracker(slots={"domaine": "hors_champ", "code_postal": "62300"})

    events = await ActionReferral().run(dispatcher, tracker, domain)

    ordres = slot_events(events)["ordres"]
    assert len(ordres) > 1 and "Barreau d'Arras" in ordres
    assert sent() == ["utter_referral"]
    text = dispatcher.messages[0]["ordres_text"]
    for name in ordres:
        assert name in text
    assert text.count(" ou ") == len(ordres) - 1


@pytest.mark.parametrize("postcode", ["00000", "96000", "99999", "98000", "20700", "", None])
async def test_referral_without_a_usable_postcode(
    dispatcher, make_tracker, domain, sent, slot_events, render, postcode
) -> None:
    tracker = make_tracker(slots={"domaine": "hors_champ", "code_postal": postcode})

    events = await ActionReferral().run(dispatcher, tracker, domain)

    assert slot_events(events) == {"ordres": []}
    assert sent() == ["utter_referral_unknown"]
    (message,) = dispatcher.messages
    assert {k: message[k] for k in LINKS} == LINKS
    assert "ordres_text" not in message
    assert NATIONAL_DIRECTORY_URL in render(message)


async def test_no_referral_when_the_person_said_an_administration_decided(
    dispatcher, make_tracker, domain, sent, slot_events
) -> None:
    # validate_referral_form set a public-law domain from the person's correction.
    tracker = make_tracker(slots={"domaine": "fonction_publique", "code_postal": "nsp"})

    events = await ActionReferral().run(dispatcher, tracker, domain)

    assert sent() == []
    assert slot_events(events) == {"route": "triage"}
    assert {"event": "followup", "timestamp": None, "name": "action_route_question"} in events
