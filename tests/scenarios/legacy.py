"""FALLBACK for the form dialogue of today (one question at a time): what the bot asked, read
from the tracker, when the dialogue does not set the ``asked`` slot yet. Delete this module
once the story-first dialogue (which sets ``asked``) is merged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The old form's slots (domain.yml triage_form/referral_form/correction_form) as bank keys.
SLOT_KEYS: dict[str, tuple[str, ...]] = {
    "domaine": ("domain",),
    "partie_adverse": ("administration",),
    "role": ("role", "role_applicant_or_neighbour"),
    "type_decision": ("decision",),
    # « À quelle date avez-vous reçu cette décision (ou a-t-elle été affichée, publiée) ? »
    "date_decision": ("date_display_or_notified", "date_notified", "date_election",
                      "date_rejection", "claim_date", "date_damage", "date_effect"),
    "mention_voies_delais": ("voies_delais",),
    "recours_gracieux": ("recours_gracieux", "claim_sent"),
    "recours_gracieux_date": ("recours_gracieux_date", "claim_date"),
    "mesure_privative": ("mesure",),
    "code_postal": ("place",),
    "recit": ("story",),
    "field_to_correct": ("correction",),
}


def asked_and_press(events: Sequence[Mapping[str, Any]], answers: Mapping[str, Any],
                    expected_domain: str | None) -> tuple[list[str], dict[str, str]]:
    """(asked keys, {key: payload to press instead of typing}) after the last bot turn.

    The consent question and the summary are recognised by the ``consent`` slot and the last
    action (``action_summarize``); the summary is confirmed with its button (``/affirm``), and
    the domain question answered with the button of the scenario's domain, as a person would
    click them. A form slot maps to the first bank key of :data:`SLOT_KEYS` the scenario has."""
    slots: dict[str, Any] = {}
    actions: list[str] = []
    for event in events:
        if event.get("event") == "slot":
            slots[event["name"]] = event.get("value")
        elif event.get("event") == "user":
            actions = []
        elif event.get("event") == "action":
            actions.append(event.get("name"))
        elif event.get("event") == "bot":
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter:
                actions.append(utter)
    if "action_summarize" in actions or "utter_summary" in actions:
        return ["confirm"], {"confirm": "/affirm"}
    if slots.get("consent") == "pending":
        return ["consent"], {}
    requested = slots.get("requested_slot")
    if requested in SLOT_KEYS:
        keys = SLOT_KEYS[requested]
        key = next((k for k in keys if k in answers), keys[0])
        press = {"domain": f"/question_{expected_domain}"} if key == "domain" else {}
        return [key], press
    if "utter_ask_domaine" in actions:
        return ["domain"], {"domain": f"/question_{expected_domain}"}
    if "utter_ask_question" in actions:
        return ["story"], {}
    return [], {}
