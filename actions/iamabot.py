"""Answer « vous êtes un robot ? » / « vous êtes humain ? » as asked (actions/identity.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import intake
from actions.identity import answer_for
from actions.responses import say


class ActionIAmABot(Action):
    """Say that this is an automated assistant, with « Oui » or « Non » as the question needs."""

    def name(self) -> str:
        return "action_iamabot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        say(dispatcher, answer_for((tracker.latest_message or {}).get("text")))
        pending = pending_questions(tracker.get_slot("asked"))
        if pending:
            # « vous êtes humain ? » instead of an answer: the answer, then the same questions
            # again, or the person is left without a question to answer (a dead end).
            say(dispatcher, "utter_intake_questions",
                questions=intake.questions_text(pending, tracker.get_slot("domaine")))
        return []


def pending_questions(asked: list[str] | None) -> tuple[str, ...]:
    """The triage's questions still waiting for an answer (not the consent, the summary or the
    scope question, which their own steps ask again)."""
    keys = tuple(asked or ())
    if not keys or not all(k in intake.QUESTION_TEXT for k in keys):
        return ()
    return keys if intake.CONFIRM not in keys and intake.CORRECTION not in keys else ()
