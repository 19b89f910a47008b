"""One step of a scenario's conversation, whatever the channel (pure, no I/O, no Rasa).

Shared by the scenario suite (``run.py``, through the REST door) and the live-hour benchmark
(``bench/live_hour.py``, over X DMs through the emulator): after the assistant's turn, the
tracker's events say whether the conversation ended (handed over, or erased by the
assistant), and otherwise what the person of the scenario says next (:func:`next_step`:
``tracker_reading`` reads what was asked, ``person`` answers it).

On X a button has no payload to send: the person types the option's number, as the X channel
numbers the buttons (:func:`x_option`), and the channel maps it back to the payload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.x import render as x_render
from tests.scenarios import tracker_reading
from tests.scenarios.person import Person

HANDOFF_ACTION = "action_handoff"
SESSION_START = "action_session_start"
HANDOVER = "handover"
ERASED = "erased"

Event = Mapping[str, Any]


def handed_over(events: Sequence[Event]) -> bool:
    """A ``pause`` after ``action_handoff``: the conversation is the lawyer's."""
    seen = False
    for event in events:
        if event.get("event") == "action" and event.get("name") == HANDOFF_ACTION:
            seen = True
        elif event.get("event") == "pause" and seen:
            return True
    return False


def x_dms(messages: Sequence[Mapping[str, Any]]) -> int:
    """How many DMs the X channel sends for one bot turn: buttons rendered as a numbered list,
    long texts split, the turn's parts packed into as few DMs as fit (``connectors.x.render``;
    ``connectors.x.output`` packs a turn the same way)."""
    parts: list[str] = []
    for message in messages:
        text = message.get("text") or ""
        if message.get("buttons"):
            text, _ = x_render.render_buttons(text, list(message["buttons"]))
        parts += x_render.split_text(text)
    return len(x_render.pack(parts))


def latest_bot_events(events: Sequence[Event]) -> list[Event]:
    """The bot events answering the person's latest message: those after it and, when that
    message started a session, the session start's own (the opening: Rasa runs
    ``action_session_start`` and logs its messages before the message itself)."""
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if not users:
        return [e for e in events if e.get("event") == "bot"]
    latest = users[-1]
    previous = users[-2] if len(users) > 1 else -1
    starts = [i for i in range(previous + 1, latest)
              if events[i].get("event") == "action"
              and events[i].get("name") == SESSION_START]
    first = starts[-1] + 1 if starts else latest + 1
    return [e for e in events[first:] if e.get("event") == "bot"]


def latest_bot_messages(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The bot's messages answering the person's latest message, as ``{text, buttons}``."""
    return [{"text": event.get("text") or "",
             "buttons": (event.get("data") or {}).get("buttons") or []}
            for event in latest_bot_events(events)]


def x_option(events: Sequence[Event], payload: str) -> str | None:
    """What a person on X types to tap the button ``payload`` of the latest bot turn: the
    option's number as the X channel shows it; None when that turn shows no such button."""
    for message in reversed(latest_bot_messages(events)):
        options = x_render._options(message["buttons"])
        for number, (_, option_payload) in enumerate(options, 1):
            if option_payload == payload:
                return str(number)
    return None


@dataclass(frozen=True)
class Step:
    """``ended`` (``handover``, ``erased``), or what the person says: ``text``, or
    ``payload`` when they tap a button, with the keys asked, where they were read and where
    the answer came from (``turn``, ``bank``, ``lost``)."""

    ended: str | None = None
    text: str = ""
    payload: str | None = None
    asked: list[str] = field(default_factory=list)
    read: str | None = None
    source: str | None = None


def next_step(person: Person, events: Sequence[Event], domain_button: str | None) -> Step:
    """After the assistant's turn (``events``: the conversation's tracker events), whether the
    conversation ended, else the person's next message."""
    if handed_over(events):
        return Step(ended=HANDOVER)
    if not events:  # the assistant erased the conversation (stop, delete_data, refusal)
        return Step(ended=ERASED)
    asked = tracker_reading.what_was_asked(events, domain_button)
    text, source = person.reply(asked.keys)
    payload = (asked.press.get(asked.keys[0])
               if source == "bank" and len(asked.keys) == 1 else None)
    return Step(text=text, payload=payload, asked=asked.keys, read=asked.read, source=source)
