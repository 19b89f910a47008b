"""The assistant takes the conversation back: after a hand back, or once the lawyer closes a case.

A handover paused the Rasa conversation (``ConversationPaused``): Rasa kept recording the
person's messages but predicted nothing. Here, under the conversation's lock, the desk appends

- ``ConversationResumed``: the assistant answers again;
- the case's facts and the urgency emptied, and ``route`` back to ``question``: the person's next
  message is treated as a new question (the rules in ``data/rules.yml`` route it), consent kept;
- on a hand back, the assistant's ``utter_handback`` ("Maître … a terminé…"), rendered by Rasa's
  own response generator with the firm's details, sent through the person's channel (web chat
  room, X outbox) and recorded as the assistant's message;
- then ``action_listen``, so that the next message starts a turn as after any bot turn (the
  messages the person wrote during the pause have none, and the rules would not match).

A close resumes silently: the lawyer's last reply was the conversation's end.

A reopened case (desk/teamwork.py) takes the conversation back from the assistant:
:func:`pause_conversation` appends ``ConversationPaused`` again, as the handover did, so that
what the person writes next goes on the case (desk/hooks.py) instead of to the assistant.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SlotSet,
)

from actions.case import CASE_SLOTS
from desk.delivery import FAILED, SENT, UNSUPPORTED, latest_input_channel, output_channel
from permanence.firm import load_firm
from permanence.logids import ref

logger = logging.getLogger(__name__)

HANDBACK_RESPONSE = "utter_handback"
RESUMED, MISSING, PAUSED = "resumed", "missing", "paused"
# What the assistant forgets when it takes the conversation back (the case keeps it all).
CLEARED_SLOTS = (*CASE_SLOTS, "handoff_requested", "asked", "requested_slot",
                 "urgence", "urgence_motifs", "echeance_estimee", "echeance_regle",
                 "echeance_source", "ordres")


def resume_events(domain_slots: set[str]) -> list[Event]:
    """The events that give the conversation back to the assistant, for the slots in the domain."""
    events: list[Event] = [ConversationResumed()]
    events += [SlotSet(slot, None) for slot in CLEARED_SLOTS if slot in domain_slots]
    events.append(SlotSet("route", "question"))
    return events


async def resume_conversation(app: Any, conversation_id: str, channel_name: str | None,
                              announce: bool) -> str:
    """Resume ``conversation_id``; with ``announce``, the assistant tells the person.

    Returns ``missing`` (no agent or no such conversation: nothing to resume), else the
    delivery of the announcement: ``sent``, ``unsupported`` or ``failed`` (the conversation
    is resumed either way), or ``resumed`` when nothing was to be announced.
    """
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None or agent.domain is None:
        return MISSING
    text = None
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            return MISSING
        # Where the person last wrote (desk/delivery.py), else the case's channel.
        channel_name = latest_input_channel(tracker.events) or channel_name
        for event in resume_events({slot.name for slot in agent.domain.slots}):
            tracker.update(event)
        if announce:
            message = await agent.nlg.generate(HANDBACK_RESPONSE, tracker, channel_name or "",
                                               **load_firm().as_slots())
            text = (message or {}).get("text")
            if text:
                tracker.update(ActionExecuted(HANDBACK_RESPONSE))
                tracker.update(BotUttered(text, metadata={"author": "assistant",
                                                          "utter_action": HANDBACK_RESPONSE}))
        # A clean turn boundary: the policies read the next message as after any bot turn.
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await agent.tracker_store.save(tracker)
    logger.info("desk.resume conversation=%s channel=%s announce=%s", ref(conversation_id),
                channel_name, announce)
    if not text:
        return RESUMED
    output = output_channel(app, channel_name)
    if output is None:
        return UNSUPPORTED
    try:
        await output.send_text_message(conversation_id, text)
    except Exception:  # noqa: BLE001 - the boundary: the conversation is resumed anyway
        logger.exception("desk.resume.announce_failed channel=%s conversation=%s",
                         channel_name, ref(conversation_id))
        return FAILED
    return SENT


async def pause_conversation(app: Any, conversation_id: str) -> str:
    """The lawyer has the conversation again (a reopened case): ``ConversationPaused``, under
    the conversation's lock, unless it is paused already. Returns ``paused``, or ``missing``
    (no agent or no such conversation: nothing to pause)."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return MISSING
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            return MISSING
        if not tracker.is_paused():
            tracker.update(ConversationPaused())
            await agent.tracker_store.save(tracker)
    logger.info("desk.pause conversation=%s", ref(conversation_id))
    return PAUSED
