"""Validation of the triage form: one question at a time, each answer checked, clear re-asks."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import domains
from actions.parsing import (
    UNKNOWN,
    is_unknown,
    looks_like_chitchat,
    parse_mesure,
    parse_past_date,
    parse_postcode,
    parse_role,
    parse_yes_no,
)
from actions.responses import say
from permanence import clock

PARIS = ZoneInfo("Europe/Paris")
NOT_GIVEN = "non précisé"
MAX_SHORT_ANSWER = 500


def today() -> date:
    """Today in Paris: dates in French administrative law are counted in French local time."""
    return clock.today()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def validate_postcode(value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    if is_unknown(_text(value)):
        return {"code_postal": UNKNOWN}
    postcode = parse_postcode(_text(value))
    if postcode is None:
        say(dispatcher, "utter_invalid_code_postal")
    return {"code_postal": postcode}


def validate_date(slot: str, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    status, parsed = parse_past_date(_text(value), today())
    if status == "ok":
        return {slot: parsed.isoformat()}
    if status == "unknown":
        return {slot: UNKNOWN}
    say(dispatcher, "utter_future_date" if status == "future" else "utter_invalid_date")
    return {slot: None}


def _short_text(slot: str, value: Any, dispatcher: CollectingDispatcher, invalid: str):
    text = _text(value).strip()
    if is_unknown(text):
        return {slot: NOT_GIVEN}
    if looks_like_chitchat(text):
        say(dispatcher, invalid)
        return {slot: None}
    if len(text) > MAX_SHORT_ANSWER:
        text = text[: MAX_SHORT_ANSWER - 1] + "…"
    return {slot: text}


class ValidateTriageForm(FormValidationAction):
    def name(self) -> str:
        return "validate_triage_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Drop the questions that do not apply to this person."""
        slots = list(domain_slots)
        if tracker.get_slot("recours_gracieux") != "oui":
            slots.remove("recours_gracieux_date")
        if tracker.get_slot("domaine") not in domains.LIBERTY_DOMAINS:
            slots.remove("mesure_privative")
        return slots

    def validate_domaine(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        parsed = domains.parse_domain(_text(value))
        if parsed is None:
            say(dispatcher, "utter_invalid_domaine")
        return {"domaine": parsed}

    def validate_partie_adverse(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return _short_text("partie_adverse", value, dispatcher, "utter_invalid_partie_adverse")

    def validate_role(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        role = parse_role(_text(value))
        if role is None:
            say(dispatcher, "utter_invalid_choice")
        return {"role": role}

    def validate_type_decision(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return _short_text("type_decision", value, dispatcher, "utter_invalid_type_decision")

    def validate_date_decision(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return validate_date("date_decision", value, dispatcher)

    def validate_mention_voies_delais(self, value: Any, dispatcher, tracker, domain):
        answer = parse_yes_no(_text(value))
        if answer is None:
            say(dispatcher, "utter_invalid_yes_no")
        return {"mention_voies_delais": answer}

    def validate_recours_gracieux(self, value: Any, dispatcher, tracker, domain):
        text = _text(value)
        answer = parse_yes_no(text)
        if answer is None:
            say(dispatcher, "utter_invalid_yes_no")
            return {"recours_gracieux": None}
        result: dict[str, Any] = {"recours_gracieux": answer}
        if answer == "oui":
            # "oui, le 5 mai": the date comes with the answer, no need to ask it.
            status, parsed = parse_past_date(text, today())
            if status == "ok":
                result["recours_gracieux_date"] = parsed.isoformat()
        else:
            result["recours_gracieux_date"] = None
        return result

    def validate_recours_gracieux_date(self, value: Any, dispatcher, tracker, domain):
        return validate_date("recours_gracieux_date", value, dispatcher)

    def validate_mesure_privative(self, value: Any, dispatcher, tracker, domain):
        mesure = parse_mesure(_text(value))
        if mesure is None:
            say(dispatcher, "utter_invalid_choice")
        return {"mesure_privative": mesure}

    def validate_code_postal(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return validate_postcode(value, dispatcher)

    def validate_recit(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        text = _text(value).strip()
        if looks_like_chitchat(text) or len(text) < 8:
            say(dispatcher, "utter_invalid_recit")
            return {"recit": None}
        return {"recit": text}


class ValidateReferralForm(FormValidationAction):
    def name(self) -> str:
        return "validate_referral_form"

    def validate_code_postal(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return validate_postcode(value, dispatcher)
