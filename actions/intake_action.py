"""The story-first triage in the conversation: ``action_intake`` runs on each message of the
person once the question is routed to triage (``data/rules.yml``), reads the whole
conversation again (``actions/intake.py``), and asks what is missing, shows the summary, or
hands over. The slot ``asked`` keeps what the last message asked (the scenario suite reads it
too); the case slots are rewritten from the facts at every turn.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import domains, intake, understood
from actions.case import CASE_SLOTS
from actions.dates_fr import PARIS
from actions.handoff import case_record
from actions.parsing import MESURE_LABELS, ROLE_LABELS, YES_NO_LABELS
from actions.responses import say
from actions.triage_form import today
from actions.urgency import compute_urgency
from permanence import clock

ASKED = "asked"
MIN_STORY_PART = 12


def _at(event: dict[str, Any]) -> datetime:
    """When the person wrote: relative dates (« hier ») count from there. A frozen clock
    (scenarios, tests) stands for every message."""
    pinned = clock.frozen()
    if pinned is not None or not event.get("timestamp"):
        return pinned or clock.now()
    return datetime.fromtimestamp(float(event["timestamp"]), tz=timezone.utc)


def provisional_tier(text: str, domain: str | None, event: dict[str, Any]) -> str:
    """The tier the first message alone gives, read as the intake reads it (every fact, the
    date its domain's rule needs, the urgency rules): only an order of sending before consent
    (``permanence/priority.py``), never shown; the intake recomputes it at every turn."""
    reading = intake.read([intake.Turn(text, _at(event), ())])
    case = {**intake.case_slots(reading, domain, text), "domaine": domain or "",
            "recit": text, "question_initiale": text}
    return compute_urgency(case, today()).tier


def conversation_turns(tracker: Tracker) -> list[intake.Turn]:
    """The person's messages of this session, each with what it answered: those before
    consent (the story) with nothing asked, the consent answer marked as such."""
    turns: list[intake.Turn] = []
    asked: tuple[str, ...] = ()
    consented = False
    for event in tracker.events_after_latest_restart():
        kind = event.get("event")
        if kind == "session_started":
            turns, asked, consented = [], (), False
        elif kind == "slot" and event.get("name") == ASKED:
            asked = tuple(event.get("value") or ())
        elif kind == "slot" and event.get("name") == "consent":
            if event.get("value") == "given" and not consented and turns:
                consented = True
                last = turns[-1]
                turns[-1] = intake.Turn(last.text, last.at, ("consent",))
        elif kind == "user":
            text = (event.get("text") or "").strip()
            if text.startswith("/"):
                text = "oui" if text.startswith("/affirm") else (
                    "non" if text.startswith("/deny") else "")
            if text:
                turns.append(intake.Turn(text, _at(event), asked if consented else ()))
    return turns


def story_of(turns: list[intake.Turn]) -> str:
    """The person's own account: every message that tells something (not the consent, not a
    bare « oui »)."""
    parts = [t.text for t in turns
             if t.asked != ("consent",) and t.asked not in ((intake.CONFIRM,),)
             and (len(t.text) >= MIN_STORY_PART or t.asked == (intake.STORY,))]
    return "\n".join(parts)


def reading_of(tracker: Tracker) -> tuple[list[intake.Turn], intake.Reading, dict[str, Any]]:
    turns = conversation_turns(tracker)
    reading = intake.read(turns)
    story = story_of(turns)
    slots = intake.case_slots(reading, legal_domain_of(tracker, reading, story), story)
    return turns, reading, slots


def legal_domain_of(tracker: Tracker, reading: intake.Reading, story: str = "") -> str | None:
    """The domain slot, unless the decisions the person named belong to another one, or the
    person is a user of a local public service, not its agent (``intake.service_user``)."""
    domain = domains.consistent(tracker.get_slot("domaine"),
                                [d.value for d in reading.facts.decisions])
    return intake.as_public_law_lawyer(domain, reading.facts, story)


def slot_events(slots: dict[str, Any]) -> list[EventType]:
    return [SlotSet(name, value) for name, value in slots.items() if name in CASE_SLOTS]


def summary_text(domain: str | None, slots: dict[str, Any]) -> str:
    """The summary the person confirms: short, one line per fact."""
    lines = []
    if domain:
        lines.append(f"• Domaine : {domains.LABELS.get(domain, domain)}")
    if slots.get("partie_adverse"):
        lines.append(f"• En face : {slots['partie_adverse']}")
    if slots.get("role"):
        lines.append(f"• Vous êtes : {ROLE_LABELS.get(slots['role'], slots['role'])}")
    if slots.get("type_decision"):
        lines.append(f"• Décision : {slots['type_decision']}")
    for line in slots.get("faits") or ():
        lines.append("• " + line.split(" — « ")[0])
    if slots.get("mesure_privative"):
        mesure = slots["mesure_privative"]
        lines.append(f"• Mesure : {MESURE_LABELS.get(mesure, mesure)}")
    if slots.get("recours_gracieux"):
        answer = slots["recours_gracieux"]
        lines.append(f"• Recours gracieux : {YES_NO_LABELS.get(answer, answer)}")
    if slots.get("code_postal"):
        lines.append(f"• Code postal : {slots['code_postal']}")
    return "\n".join(lines) or "• (rien de précis pour l'instant)"


class ActionIntake(Action):
    def name(self) -> str:
        return "action_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turns, reading, slots = reading_of(tracker)
        events = slot_events(slots)
        # A provisional tier from what is known (OQTF, rétention, an election, a near date):
        # the channels send a P0 person's answers first; the handover computes the final one.
        legal_domain = legal_domain_of(tracker, reading, story_of(turns))
        if legal_domain != tracker.get_slot("domaine"):
            events.append(SlotSet("domaine", legal_domain))
        case = {**case_record({**tracker.current_slot_values(), "domaine": legal_domain}),
                **slots}
        events.append(SlotSet("urgence", compute_urgency(case, today()).tier))
        asked = tuple(tracker.get_slot(ASKED) or ())
        latest = turns[-1] if turns and turns[-1].asked == asked and asked else None

        if latest is not None and asked in ((intake.CONFIRM,), (intake.CORRECTION,)) and (
                understood.corrects_to_private(latest.text, latest.at.astimezone(PARIS))):
            # « non, c'est mon employeur privé, pas la mairie »: out of scope after all. The
            # referral names the Ordre of the postcode (asked if unknown).
            return events + [SlotSet(ASKED, None), SlotSet("domaine", domains.OUT_OF_SCOPE),
                             SlotSet("route", "referral"), SlotSet("urgence", "OUT"),
                             FollowupAction("action_route_question")]

        if latest is not None and asked == (intake.CONFIRM,):
            before = intake.read(turns[:-1]).facts
            changed = intake.brings_facts(before, reading.facts)
            confirm_rounds = sum(1 for t in turns if t.asked == (intake.CONFIRM,))
            if (intake.confirms(latest.text) and not changed) or (
                    confirm_rounds >= intake.MAX_CONFIRM_ROUNDS):
                return events + [SlotSet(ASKED, None), FollowupAction("action_handoff")]
            if intake.denies(latest.text) and not changed:
                say(dispatcher, "utter_ask_correction")
                return events + [SlotSet(ASKED, [intake.CORRECTION])]
            return events + self._summary(dispatcher, legal_domain, slots)

        if latest is not None and asked == (intake.CORRECTION,):
            return events + self._summary(dispatcher, legal_domain, slots)

        step = intake.next_step(reading, legal_domain or "", turns, story_of(turns))
        if step.kind == "ask":
            say(dispatcher, "utter_intake_questions",
                questions=intake.questions_text(step.keys, legal_domain))
            return events + [SlotSet(ASKED, list(step.keys))]
        return events + self._summary(dispatcher, legal_domain, slots)

    @staticmethod
    def _summary(dispatcher: CollectingDispatcher, legal_domain: str | None,
                 slots: dict[str, Any]) -> list[EventType]:
        say(dispatcher, "utter_summary", summary=summary_text(legal_domain, slots))
        return [SlotSet(ASKED, [intake.CONFIRM])]
