"""Handover to the lawyer, and erasure on request."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import domains
from actions.alerts import alert_payload, send_alert
from actions.case import CASE_SLOTS
from actions.responses import say
from actions.triage_form import today
from actions.urgency import compute_urgency


def case_record(slots: dict[str, Any]) -> dict[str, Any]:
    """The facts gathered so far, as the urgency rules and the desk read them."""
    return {slot: slots.get(slot) for slot in CASE_SLOTS}


def urgency_events(case: dict[str, Any]) -> tuple[str, list[EventType]]:
    """The urgency tier and the slot events that put it (and the deadline) on the record."""
    urgency = compute_urgency(case, today())
    deadline = urgency.deadline
    events: list[EventType] = [
        SlotSet("urgence", urgency.tier),
        SlotSet("urgence_motifs", list(urgency.reasons)),
        SlotSet("echeance_estimee", deadline.deadline.isoformat() if deadline else None),
        SlotSet("echeance_regle", deadline.rule if deadline else None),
        SlotSet("echeance_source", deadline.source if deadline else None),
    ]
    return urgency.tier, events


class ActionHandoff(Action):
    """Pause the conversation: from now on the lawyer answers, the assistant stays silent.

    The estimated deadline goes on the case record for the lawyer only; the person is told at
    most that the request is treated as a priority (LEGAL.md N1).
    """

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        slots = tracker.current_slot_values()
        tier, events = urgency_events(case_record(slots))
        if slots.get("domaine") == domains.OUT_OF_SCOPE:
            say(dispatcher, "utter_handoff_referral")
        elif slots.get("recit") and slots.get("code_postal"):
            say(dispatcher, "utter_handoff")
        else:
            say(dispatcher, "utter_handoff_early")
        if tier == "P0":
            say(dispatcher, "utter_handoff_priority")
            record = {**slots, **{e["name"]: e["value"] for e in events}}
            channel = (tracker.get_latest_input_channel() or None)
            await send_alert(alert_payload(tracker.sender_id, channel, record))
        # Asked for the lawyer in the middle of a form: the form ends here.
        events += [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("route", "handoff")]
        return events + [ConversationPaused()]


class ActionForget(Action):
    """'stop' or 'supprimez mes données': acknowledge, then the tracker store erases it all."""

    def name(self) -> str:
        return "action_forget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        say(dispatcher, "utter_forget_delete" if intent == "delete_data" else "utter_forget_stop")
        return [SlotSet("purge_requested", True)]
