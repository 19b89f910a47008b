"""Handover to the lawyer, and erasure on request."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import domains
from actions.case import CASE_SLOTS
from actions.parsing import asks_erasure, asks_to_stop
from actions.responses import say
from actions.triage_form import PARIS, today
from actions.urgency import Urgency, compute_urgency
from permanence import clock
from permanence.logids import ref
from permanence.schedule import ScheduleError, SessionStatus, format_session_fr, load_schedule

logger = logging.getLogger(__name__)

# Outside a session, a P1 case gets the "do not wait" text when the next session starts later
# than its estimated deadline minus this margin (time for the lawyer to act after answering).
OFFLINE_URGENT_MARGIN = timedelta(days=3)


def now() -> datetime:
    """The current moment: the one clock the handoff reads for the schedule (tests pin it)."""
    return clock.now()


def case_record(slots: dict[str, Any]) -> dict[str, Any]:
    """The facts gathered so far, as the urgency rules and the desk read them."""
    return {slot: slots.get(slot) for slot in CASE_SLOTS}


def urgency_events(case: dict[str, Any]) -> tuple[Urgency, list[EventType]]:
    """The urgency and the slot events that put it (and the deadline) on the record."""
    urgency = compute_urgency(case, today())
    deadline = urgency.deadline
    events: list[EventType] = [
        SlotSet("urgence", urgency.tier),
        SlotSet("urgence_motifs", list(urgency.reasons)),
        SlotSet("echeance_estimee", deadline.deadline.isoformat() if deadline else None),
        SlotSet("echeance_regle", deadline.rule if deadline else None),
        SlotSet("echeance_source", deadline.source if deadline else None),
    ]
    return urgency, events


def permanence_status() -> SessionStatus | None:
    """Whether the lawyer is live now; ``None`` (and an error in the log) when the schedule
    cannot be read: the handover then goes on as during a session."""
    try:
        return load_schedule().status(now())
    except ScheduleError as error:
        logger.error("handoff.schedule.invalid error=%s", error)
        return None


def deadline_end(urgency: Urgency) -> datetime | None:
    """When the estimated deadline expires, as an aware datetime (French local time)."""
    if urgency.deadline is None:
        return None
    end = urgency.deadline.end_datetime()
    return end if end.tzinfo is not None else end.replace(tzinfo=PARIS)


def act_now_warning(tier: str, next_start: datetime | None, deadline: datetime | None) -> bool:
    """Outside a session: whether the person is told not to wait for the next one.

    Always for P0; for P1 when the next session may come too late for the estimated deadline
    (or there is no next session, or no deadline to compare with). The deadline itself is never
    told (LEGAL.md N1)."""
    if tier == "P0":
        return True
    if tier != "P1":
        return False
    if next_start is None or deadline is None:
        return True
    return next_start > deadline - OFFLINE_URGENT_MARGIN


def offline_responses(status: SessionStatus | None, urgency: Urgency) -> list[tuple[str, dict]]:
    """The responses (and their values) added to the handover when the lawyer is not live."""
    if status is None or status.live:
        return []
    if status.next_start is None:
        responses = [("utter_handoff_offline_unscheduled", {})]
    else:
        next_session = format_session_fr(status.next_start)
        responses = [("utter_handoff_offline", {"next_session": next_session})]
    if act_now_warning(urgency.tier, status.next_start, deadline_end(urgency)):
        responses.append(("utter_offline_urgent", {}))
    return responses


class ActionHandoff(Action):
    """Pause the conversation: from now on the lawyer answers, the assistant stays silent.

    The estimated deadline goes on the case record for the lawyer only; the person is told at
    most that the request is treated as a priority (LEGAL.md N1). Outside a live session
    (``schedule.yml``), the person is also told that the question is recorded for the next
    session, and when it is; in urgent cases, not to wait for it.
    """

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        # The case slots are on the record already: action_intake writes them at every turn.
        slots = tracker.current_slot_values()
        urgency, events = urgency_events(case_record(slots))
        tier = urgency.tier
        if slots.get("domaine") == domains.OUT_OF_SCOPE:
            say(dispatcher, "utter_handoff_referral")
        elif slots.get("recit") and (slots.get("code_postal") or slots.get("faits")):
            say(dispatcher, "utter_handoff")
        else:
            say(dispatcher, "utter_handoff_early")
        if tier == "P0":
            # The alert to the firm is sent by the desk once the case exists (desk/alerts.py).
            say(dispatcher, "utter_handoff_priority")
        for response, values in offline_responses(permanence_status(), urgency):
            say(dispatcher, response, **values)
        # Asked for the lawyer in the middle of a form: the form ends here.
        events += [SlotSet("asked", None), ActiveLoop(None), SlotSet("requested_slot", None),
                   SlotSet("route", "handoff")]
        return events + [ConversationPaused()]


class ActionForget(Action):
    """'stop' or 'supprimez mes données': acknowledge, then the tracker store erases it all."""

    def name(self) -> str:
        return "action_forget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        text = message.get("text") or ""
        meant = asks_erasure(text) or (intent != "delete_data" and asks_to_stop(text))
        if not meant and not text.startswith("/"):
            # Read as erasure or stop, but the words do not say so: an answer, taken as such.
            logger.info("forget.not_meant conversation=%s intent=%s", ref(tracker.sender_id),
                        intent)
            return [FollowupAction(next_step(tracker))]
        say(dispatcher, "utter_forget_delete" if intent == "delete_data" else "utter_forget_stop")
        return [SlotSet("purge_requested", True)]


def next_step(tracker: Tracker) -> str:
    """Where a message goes in the conversation as it stands (an erasure that was not one)."""
    if tracker.get_slot("consent") != "given":
        return "action_remember_question"
    route = tracker.get_slot("route")
    if route == "triage":
        return "action_intake"
    if route == "referral" and not tracker.get_slot("code_postal"):
        return "referral_form"
    return "action_route_question"
