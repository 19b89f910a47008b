"""What the runner counts and reads without the servers: DMs on X per bot turn, the handover,
the route on the card (tests/scenarios/run.py)."""

from __future__ import annotations

from tests.scenarios.run import handed_over, observed_route, x_dms


def test_a_turn_of_several_short_messages_is_one_dm():
    opening = [{"text": "Bonjour, je suis une IA."}, {"text": "Conditions."},
               {"text": "Confidentialité."}, {"text": "Délais courts."},
               {"text": "Acceptez-vous ?", "buttons": [
                   {"title": "J'accepte", "payload": "/affirm"},
                   {"title": "Je refuse", "payload": "/deny"}]}]
    assert x_dms(opening) == 1


def test_no_message_no_dm_and_a_long_text_is_split():
    assert x_dms([]) == 0
    assert x_dms([{"text": "mot " * 6000}]) == 3  # 24,000 characters, 10,000 per DM


def test_handed_over_is_a_pause_after_the_handoff():
    assert handed_over([{"event": "action", "name": "action_handoff"}, {"event": "pause"}])
    assert not handed_over([{"event": "pause"}, {"event": "action", "name": "action_handoff"}])
    assert not handed_over([{"event": "action", "name": "action_handoff"}])


def test_route_from_the_card():
    assert observed_route({"domaine": "urbanisme"}, {"kind": "lawyer"}) == "triage"
    assert observed_route({"domaine": "hors_champ"}, None) == "referral"
    assert observed_route({"domaine": None}, {"kind": "referral"}) == "referral"
    assert observed_route({"domaine": None}, {"kind": "lawyer"}) is None
