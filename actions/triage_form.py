"""The referral form's check (the postcode, to find the right Ordre), and the date of today.

The triage itself is story-first: ``actions/intake.py`` (pure) and ``actions/intake_action.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import domains, intake, understood
from actions import facts as F
from actions.parsing import UNKNOWN, asks_for_lawyer, is_unknown, parse_postcode
from actions.responses import say, times_sent
from permanence import clock

PARIS = ZoneInfo("Europe/Paris")


def today() -> date:
    """Today in Paris: dates in French administrative law are counted in French local time."""
    return clock.today()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def validate_postcode(value: Any, dispatcher: CollectingDispatcher,
                      failed_before: int = 0) -> dict[str, Any]:
    """The postcode, « je ne sais pas », or after a second answer that is not one, going on
    without it (never a dead end: the referral then names the national directories)."""
    if is_unknown(_text(value)):
        return {"code_postal": UNKNOWN}
    postcode = parse_postcode(_text(value))
    if postcode is None and asks_for_lawyer(_text(value)):
        return {"code_postal": UNKNOWN}  # « avocat »: no postcode, the lawyer reads it all
    if postcode is None and failed_before >= 1:
        say(dispatcher, "utter_postcode_skipped")
        return {"code_postal": UNKNOWN}
    if postcode is None:
        say(dispatcher, "utter_invalid_code_postal")
    return {"code_postal": postcode}


# The postcode question of the referral (``action_ask_code_postal``): the first one shows what
# was understood; ``utter_ask_code_postal`` asks again after an answer that is not a postcode.
UNDERSTOOD_ASKS = ("utter_out_of_scope_postcode", "utter_referral_check")


def story_facts(tracker: Any):
    """The facts of the whole conversation (``actions/intake.py``)."""
    from actions.intake_action import conversation_turns  # imports this module: not at the top
    return intake.read(conversation_turns(tracker)).facts


def rescoped_domain(tracker: Any) -> str:
    """The public-law domain of a conversation the person says an administration is in: their
    latest message's, else their first question's, else the local authorities (the lawyer
    reviews the domain anyway)."""
    latest = domains.from_message(tracker.latest_message or {})
    if latest in domains.IN_SCOPE:
        return latest
    return (domains.ranked_in_scope(tracker.events, latest=True)
            or domains.ranked_in_scope(tracker.events) or "collectivites")


class ValidateReferralForm(FormValidationAction):
    def name(self) -> str:
        return "validate_referral_form"

    def validate_code_postal(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        """The postcode; or a correction of what was understood: an administration decided
        after all (to the public-law triage, ``action_referral`` hands on), another private
        matter (shown again with the postcode question), or « oui » to the postcode of the
        story (``utter_referral_check``)."""
        text = _text(value)
        now = clock.now().astimezone(PARIS)
        if understood.corrects_to_public_law(text, now):
            return {"code_postal": parse_postcode(text) or UNKNOWN,
                    "domaine": rescoped_domain(tracker)}
        if parse_postcode(text) is None and times_sent(tracker, "utter_referral_check"):
            known = story_facts(tracker).postcode
            if known is not None and intake.confirms(text):
                return {"code_postal": known.value}
        reshown = max(0, times_sent(tracker, "utter_out_of_scope_postcode") - 1)
        if (parse_postcode(text) is None and not is_unknown(text) and not reshown
                and understood.topic(F.extract(text, now), text) != understood.GENERIC):
            return {"code_postal": None}  # another private matter: shown again, asked again
        return validate_postcode(value, dispatcher,
                                 times_sent(tracker, "utter_invalid_code_postal") + reshown)


class ActionAskCodePostal(Action):
    """The referral's postcode question. The first time, in the same message, what was
    understood (« J'ai compris : un litige avec votre employeur privé, sans administration »)
    and how to correct it; with the story's postcode, whether it is the right one."""

    def name(self) -> str:
        return "action_ask_code_postal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        latest = _text((tracker.latest_message or {}).get("text"))
        now = clock.now().astimezone(PARIS)
        first = not times_sent(tracker, *UNDERSTOOD_ASKS)
        corrected = (not first and parse_postcode(latest) is None
                     and understood.topic(F.extract(latest, now), latest) != understood.GENERIC)
        if not (first or corrected):
            say(dispatcher, "utter_ask_code_postal")
            return []
        from actions.intake_action import conversation_turns, story_of  # (see story_facts)
        facts = story_facts(tracker)
        line = (understood.understood(F.extract(latest, now), latest) if corrected
                else understood.understood(facts, story_of(conversation_turns(tracker))))
        if first and facts.postcode is not None:
            say(dispatcher, "utter_referral_check", understood=line,
                postcode=facts.postcode.value)
        else:
            say(dispatcher, "utter_out_of_scope_postcode", understood=line)
        return []
