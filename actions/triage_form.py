"""The referral form's check (the postcode, to find the right Ordre), and the date of today.

The triage itself is story-first: ``actions/intake.py`` (pure) and ``actions/intake_action.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

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


class ValidateReferralForm(FormValidationAction):
    def name(self) -> str:
        return "validate_referral_form"

    def validate_code_postal(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return validate_postcode(value, dispatcher,
                                 times_sent(tracker, "utter_invalid_code_postal"))
