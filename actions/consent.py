"""Before consent: keep the person's question, ask consent, and act on the answer."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import domains
from actions.intake_action import provisional_tier
from actions.language import NOTES, detect_language
from actions.responses import say
from actions.session import disclose, disclosed
from actions.urgency import first_words_tier
from permanence.logids import ref

logger = logging.getLogger(__name__)

# The question kept for the lawyer and the summary (all the person's messages stay in the
# conversation): a message may be up to 10,000 characters (connectors/limits.py).
QUESTION_MAX_CHARS = 2000
ELLIPSIS = " […]"


def keep_question(previous: str | None, text: str) -> str:
    """``text`` added to the question kept so far, cut at ``QUESTION_MAX_CHARS`` at a word
    boundary and marked « […] » when too long; once full, nothing more is added."""
    joined = f"{previous}\n{text}" if previous else text
    if len(joined) <= QUESTION_MAX_CHARS:
        return joined
    if previous and previous.endswith(ELLIPSIS):
        return previous
    room = QUESTION_MAX_CHARS - len(ELLIPSIS)
    cut = joined[:room]
    space = cut.rfind(" ")
    if space >= room // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def question_events(tracker: Tracker, *, foreign: bool = False) -> list[EventType]:
    """Slot events that keep the latest message as (part of) the person's question.

    ``foreign``: the message is in another language (``actions.language``). It is kept for the
    lawyer, but the NLU, trained on French, does not tell its domain.
    """
    message = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    intent = (message.get("intent") or {}).get("name")
    if not text or text.startswith("/"):
        domain = domains.from_intent(intent)
        return [SlotSet("domaine", domain)] if domain else []
    domain = None if foreign else domains.from_message(message)
    if domain is None and not ((foreign or intent in ("inform", "nlu_fallback"))
                               and len(text) >= domains.MIN_QUESTION_CHARS):
        return []
    events: list[EventType] = []
    previous = tracker.get_slot("question_initiale")
    events.append(SlotSet("question_initiale", keep_question(previous, text)))
    if domain and not tracker.get_slot("domaine"):
        events.append(SlotSet("domaine", domain))
    return events


def first_message_is_p0(tracker: Tracker, events: list[EventType]) -> bool:
    """A liberty measure or an imminent execution named, or what the intake would read as P0
    from this message alone (an election days ago, a rejected offer in its standstill...)."""
    message = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    if not text or text.startswith("/"):
        return False
    if first_words_tier(text) == "P0":
        return True
    domain = next((e["value"] for e in events if e.get("name") == "domaine"),
                  tracker.get_slot("domaine"))
    event = next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})
    return provisional_tier(text, domain, event) == "P0"


class ActionRememberQuestion(Action):
    """Keep the message if it is a question; ask consent again if it was already asked."""

    def name(self) -> str:
        return "action_remember_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = detect_language((tracker.latest_message or {}).get("text"))
        events = question_events(tracker, foreign=language is not None)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "ask_lawyer":
            events.append(SlotSet("handoff_requested", True))
        if not tracker.get_slot("urgence") and first_message_is_p0(tracker, events):
            # Only an order of sending (the DM budget): the person's answers go first.
            events.append(SlotSet("urgence", "P0"))
        if not disclosed(tracker):
            # The session start's messages never went out (the action server was down at the
            # first message): the disclosure and the consent question come first, now.
            logger.warning("consent.disclosure_missing conversation=%s action=disclosed_now",
                           ref(tracker.sender_id))
            disclose(dispatcher)
        elif tracker.get_slot("consent") == "pending":
            say(dispatcher, "utter_ask_consent_again")
        # Otherwise this is the first message: session start just sent the disclosure and asked.
        if language:
            # Written in another language: after the French consent question, say in that
            # language that the service is in French, how to reach the lawyer, and what the
            # question above asks. Never a dead end: a French answer goes on as usual.
            logger.info("consent.other_language conversation=%s language=%s",
                        ref(tracker.sender_id), language)
            say(dispatcher, NOTES[language])
        events.append(SlotSet("consent", "pending"))
        return events


class ActionGiveConsent(Action):
    """Record consent, only once this session's disclosure and consent question reached the
    person (LEGAL.md S1, S5); otherwise send them and wait for the answer to them."""

    def name(self) -> str:
        return "action_give_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not disclosed(tracker):
            logger.warning("consent.disclosure_missing conversation=%s action=not_recorded",
                           ref(tracker.sender_id))
            disclose(dispatcher)
            # Not routed: the rule that follows consent expects it given; wait for the answer.
            return [SlotSet("consent", "pending"), FollowupAction("action_listen")]
        return [SlotSet("consent", "given")]


class ActionRefuseConsent(Action):
    """Close politely; the tracker store then erases the whole conversation."""

    def name(self) -> str:
        return "action_refuse_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        say(dispatcher, "utter_consent_refused")
        return [SlotSet("consent", "refused"), SlotSet("purge_requested", True)]
