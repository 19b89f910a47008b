"""Out of scope: point the person to the Ordre des avocats of their place (LEGAL.md S7).

The lawyer confirms the referral afterwards (N6): ``action_handoff`` follows.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import domains
from actions.referral import (
    NATIONAL_DIRECTORY_URL,
    POINT_JUSTICE_URL,
    ReferralError,
    referral_for,
)
from actions.responses import say


def ordres_text(names_and_seats: list[tuple[str, str]]) -> str:
    """"l'Ordre des avocats (Barreau d'Arras)", or the list of the département's Ordres."""
    if len(names_and_seats) == 1:
        return f"l'Ordre des avocats ({names_and_seats[0][0]})"
    listed = " ou ".join(f"{name} ({seat})" for name, seat in names_and_seats)
    return f"l'un des Ordres des avocats de votre département : {listed}"


class ActionReferral(Action):
    def name(self) -> str:
        return "action_referral"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("domaine") in domains.IN_SCOPE:
            # The person corrected what was understood: an administration decided after all
            # (``validate_referral_form``). No referral: the public-law triage takes over.
            return [SlotSet("route", "triage"), FollowupAction("action_route_question")]
        links = {"directory_url": NATIONAL_DIRECTORY_URL, "point_justice_url": POINT_JUSTICE_URL}
        try:
            referral = referral_for(tracker.get_slot("code_postal") or "")
        except ReferralError:
            say(dispatcher, "utter_referral_unknown", **links)
            return [SlotSet("ordres", [])]
        pairs = [(o.name, o.seat) for o in referral.ordres]
        say(dispatcher, "utter_referral", ordres_text=ordres_text(pairs), **links)
        return [SlotSet("ordres", [name for name, _ in pairs])]
