"""The lawyer's reply reaches the person where they last wrote, and goes on the record.

The desk runs in the Rasa server process. It pushes through the ``get_output_channel()`` of the
input channel (``app.ctx.input_channels``) of the person's latest message: the tracker's latest
``user`` event's ``input_channel`` (:func:`latest_input_channel`), else the channel the case
came from. A person on X who continued on the web chat (``permanence/continue_link.py``) gets
the reply in the web chat room of the conversation; one who went back to X, in the X outbox: a
person who prefers X can stay on X. The reply is also added to the conversation's tracker as a
bot message marked ``{"author": "lawyer"}`` (and its ``delivery_ref``), under the
conversation's lock, so the transcript shows who said what. Channels that cannot push (Rasa's
REST channel answers only inside a request) give ``unsupported``: the reply stays on the case.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from rasa.shared.core.events import BotUttered, UserUttered

from permanence.logids import ref

logger = logging.getLogger(__name__)

SENT, UNSUPPORTED, FAILED = "sent", "unsupported", "failed"


def latest_input_channel(events: Iterable[Any]) -> str | None:
    """The ``input_channel`` of the latest ``user`` event (Rasa events), if any says one."""
    for event in reversed(list(events)):
        if isinstance(event, UserUttered) and event.input_channel:
            return event.input_channel
    return None


async def person_channel(app: Any, conversation_id: str, fallback: str | None) -> str | None:
    """Where the person last wrote (:func:`latest_input_channel` of the saved tracker), else
    ``fallback`` (the case's channel)."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return fallback
    tracker = await agent.tracker_store.retrieve(conversation_id)
    latest = latest_input_channel(tracker.events) if tracker is not None else None
    return latest or fallback


def output_channel(app: Any, channel_name: str | None) -> Any:
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == channel_name:
            return channel.get_output_channel()
    return None


async def deliver_reply(app: Any, conversation_id: str, channel_name: str | None,
                        text: str, delivery_ref: str | None = None) -> str:
    """Send ``text`` to the person where they last wrote (``channel_name``: the case's
    channel, when the conversation says none); record it in the conversation. Returns the
    delivery state: ``sent`` means handed to the channel (X queues it: what became of it
    afterwards, the channel tells by ``delivery_ref``, ``permanence/deliveries.py``)."""
    channel_name = await person_channel(app, conversation_id, channel_name)
    output = output_channel(app, channel_name)
    if output is None:
        logger.info("desk.reply.unsupported channel=%s conversation=%s", channel_name,
                    ref(conversation_id))
        return UNSUPPORTED
    try:
        if delivery_ref is None:
            await output.send_text_message(conversation_id, text)
        else:
            await output.send_text_message(conversation_id, text, delivery_ref=delivery_ref)
    except Exception:  # noqa: BLE001 - the boundary: the case keeps the reply as failed
        logger.exception("desk.reply.failed channel=%s conversation=%s", channel_name,
                         ref(conversation_id))
        return FAILED
    agent = getattr(app.ctx, "agent", None)
    if agent is not None and agent.tracker_store is not None:
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.tracker_store.retrieve(conversation_id)
            if tracker is not None:
                # The reference lets the web chat tell which of its kept messages this
                # event is (the history a resumed page gets: connectors/webchat.py).
                metadata = {"author": "lawyer", **({"delivery_ref": delivery_ref}
                                                   if delivery_ref else {})}
                tracker.update(BotUttered(text, metadata=metadata))
                await agent.tracker_store.save(tracker)
    logger.info("desk.reply.sent channel=%s conversation=%s", channel_name,
                ref(conversation_id))
    return SENT
