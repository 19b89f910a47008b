"""What the bot's latest turn asked, read from the tracker's events (pure, no Rasa).

The story-first intake (``actions/intake_action.py``) sets the list slot ``asked`` to the keys
it asks (``story``, fact keys, ``confirm``, ``correction``; None at the handover). The other
bot turns do not set it, so the slot can be stale. :func:`what_was_asked` therefore reads:

1. ``asked``, only when it was set in the latest bot turn (after the person's latest message);
2. otherwise the turn itself:
   - the consent question (the ``consent`` slot is still ``pending``);
   - the referral form's postcode question (``requested_slot`` is ``code_postal``);
   - the domain buttons (``utter_ask_domaine``), tapped for the scenario's domain;
   - the generic « Quelle est votre question ? » (``utter_ask_question``, or
     ``utter_ask_question_or_lawyer`` after two tries), answered with the story;
3. a turn that only answered an aside (« vous êtes un humain ? », the fees, « merci »)
   leaves the question before it open: the person answers that one, as they would with the
   question still on their screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

ASKED = "asked"
# The referral form's slot as a bank key.
POSTCODE_SLOT = "code_postal"
POSTCODE_KEY = "place"
# Keys the runner reads from the tracker (not set in ``asked``).
CONSENT = "consent"
DOMAIN = "domain"
STORY = "story"
TRACKER_KEYS = (CONSENT, DOMAIN)
ASK_QUESTION = ("utter_ask_question", "utter_ask_question_or_lawyer")
ASK_DOMAIN = "utter_ask_domaine"
# Bot turns that answer the person's aside and ask nothing new.
ASIDES = frozenset({"utter_iamabot", "utter_fees", "utter_youre_welcome"})

Event = Mapping[str, Any]


class Asked(NamedTuple):
    """The keys asked, {key: payload the person taps instead of typing}, and where they were
    read: ``asked`` (the slot, set in the latest bot turn), ``tracker`` (the turn itself),
    ``open`` (the question before an aside), ``none`` (nothing the person can answer)."""

    keys: list[str]
    press: dict[str, str]
    read: str


def bot_turns(events: Sequence[Event]) -> list[list[Event]]:
    """The events after each of the person's messages (the first: before any message)."""
    turns: list[list[Event]] = [[]]
    for event in events:
        if event.get("event") == "user":
            turns.append([])
        else:
            turns[-1].append(event)
    return turns


def _utterances(turn: Sequence[Event]) -> list[str]:
    names = []
    for event in turn:
        if event.get("event") == "action":
            names.append(event.get("name") or "")
        elif event.get("event") == "bot":
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter:
                names.append(utter)
    return names


def slots_after(events: Sequence[Event]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for event in events:
        if event.get("event") == "slot":
            slots[event["name"]] = event.get("value")
        elif event.get("event") == "active_loop":
            slots["active_loop"] = event.get("name")
    return slots


def _turn_asked(turn: Sequence[Event], slots: Mapping[str, Any],
                expected_domain: str | None) -> Asked | None:
    """What one bot turn asked; None when it asked nothing this module knows."""
    set_here = [e for e in turn if e.get("event") == "slot" and e.get("name") == ASKED]
    if set_here and set_here[-1].get("value"):
        return Asked(list(set_here[-1]["value"]), {}, "asked")
    if slots.get(CONSENT) == "pending":
        return Asked([CONSENT], {}, "tracker")
    if slots.get("requested_slot") == POSTCODE_SLOT and slots.get("active_loop"):
        return Asked([POSTCODE_KEY], {}, "tracker")
    said = _utterances(turn)
    if ASK_DOMAIN in said:
        return Asked([DOMAIN], {DOMAIN: f"/question_{expected_domain}"}, "tracker")
    if any(name in said for name in ASK_QUESTION):
        return Asked([STORY], {}, "tracker")
    if set_here:
        # Cleared (the handover, or the scope answered): nothing asked, unless the referral
        # form asks the postcode in the same turn (above).
        return Asked([], {}, "asked")
    return None


def what_was_asked(events: Sequence[Event], expected_domain: str | None) -> Asked:
    """What the latest bot turn asked (``[]``: nothing the person can answer). A turn that
    only answered an aside (:data:`ASIDES`) leaves the previous turn's question open."""
    turns = bot_turns(events)
    slots = slots_after(events)
    read = None
    for position in range(len(turns) - 1, -1, -1):
        turn = turns[position]
        found = _turn_asked(turn, slots, expected_domain)
        if found is not None:
            return found._replace(read=read or found.read)
        if not set(_utterances(turn)) & ASIDES:
            break
        # The question before the aside is still open: the slots as they were then.
        read = "open"
        slots = slots_after([e for t in turns[:position] for e in t])
    return Asked([], {}, "none")
