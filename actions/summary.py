"""The summary the person confirms before handover, and corrections to it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import domains
from actions.parsing import (
    MESURE_LABELS,
    ROLE_LABELS,
    UNKNOWN,
    YES_NO_LABELS,
    parse_field,
)
from actions.responses import say

MAX_RECIT_IN_SUMMARY = 280

# (slot, label) in the order the summary lists them.
SUMMARY_FIELDS = (
    ("domaine", "Domaine"),
    ("partie_adverse", "Administration / partie"),
    ("role", "Vous êtes"),
    ("type_decision", "Décision"),
    ("date_decision", "Date de la décision"),
    ("mention_voies_delais", "Voies et délais indiqués"),
    ("recours_gracieux", "Recours déjà fait"),
    ("recours_gracieux_date", "Date du recours"),
    ("mesure_privative", "Mesure"),
    ("code_postal", "Code postal"),
    ("recit", "Récit"),
)


def _french_date(value: str) -> str:
    if value == UNKNOWN:
        return "ne sait pas"
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def display_value(slot: str, value: Any) -> str:
    """How a slot value reads in the summary and on the lawyer's fact card."""
    text = str(value)
    if slot == "domaine":
        return domains.LABELS.get(text, text)
    if slot == "role":
        return ROLE_LABELS.get(text, text)
    if slot in ("mention_voies_delais", "recours_gracieux"):
        return YES_NO_LABELS.get(text, text)
    if slot == "mesure_privative":
        return MESURE_LABELS.get(text, text)
    if slot in ("date_decision", "recours_gracieux_date"):
        return _french_date(text)
    if slot == "recit" and len(text) > MAX_RECIT_IN_SUMMARY:
        return text[: MAX_RECIT_IN_SUMMARY - 1] + "…"
    return text


def render_summary(slots: Mapping[str, Any]) -> str:
    """One line per answered field, e.g. '• Code postal : 62000'."""
    lines = [
        f"• {label} : {display_value(slot, slots[slot])}"
        for slot, label in SUMMARY_FIELDS
        if slots.get(slot) not in (None, "")
    ]
    return "\n".join(lines)


class ActionSummarize(Action):
    def name(self) -> str:
        return "action_summarize"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        say(dispatcher, "utter_summary", summary=render_summary(tracker.current_slot_values()))
        return []


class ValidateCorrectionForm(FormValidationAction):
    def name(self) -> str:
        return "validate_correction_form"

    def validate_field_to_correct(self, value: Any, dispatcher, tracker, domain):
        field = parse_field(value if isinstance(value, str) else "")
        if field is None:
            say(dispatcher, "utter_invalid_field_to_correct")
        return {"field_to_correct": field}


class ActionResetField(Action):
    """Empty the field to correct so that the triage form asks it again."""

    def name(self) -> str:
        return "action_reset_field"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        field = tracker.get_slot("field_to_correct")
        events: list[EventType] = [SlotSet("field_to_correct", None)]
        if field:
            events.append(SlotSet(field, None))
        if field == "recours_gracieux":
            events.append(SlotSet("recours_gracieux_date", None))
        return events
