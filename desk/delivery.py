"""The lawyer's reply reaches the person through their own channel, and goes on the record.

The desk runs in the Rasa server process. It finds the input channel the conversation came
from (``app.ctx.input_channels``) and pushes through its ``get_output_channel()``: the web chat
room of the person's session, or the X outbox. The reply is also added to the conversation's
tracker as a bot message marked ``{"author": "lawyer"}``, under the conversation's lock, so the
transcript shows who said what. Channels that cannot push (Rasa's REST channel answers only
inside a request) give ``unsupported``: the reply stays on the case.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.events import BotUttered

logger = logging.getLogger(__name__)

SENT, UNSUPPORTED, FAILED = "sent", "unsupported", "failed"


def output_channel(app: Any, channel_name: str | None) -> Any:
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == channel_name:
            return channel.get_output_channel()
    return None


async def deliver_reply(app: Any, conversation_id: str, channel_name: str | None,
                        text: str) -> str:
    """Send ``text`` to the person; record it in the conversation. Returns the delivery state."""
    output = output_channel(app, channel_name)
    if output is None:
        logger.info("desk.reply.unsupported channel=%s conversation=%s", channel_name,
                    conversation_id)
        return UNSUPPORTED
    try:
        await output.send_text_message(conversation_id, text)
    except Exception:  # noqa: BLE001 - the boundary: the case keeps the reply as failed
        logger.exception("desk.reply.failed channel=%s conversation=%s", channel_name,
                         conversation_id)
        return FAILED
    agent = getattr(app.ctx, "agent", None)
    if agent is not None and agent.tracker_store is not None:
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.tracker_store.retrieve(conversation_id)
            if tracker is not None:
                tracker.update(BotUttered(text, metadata={"author": "lawyer"}))
                await agent.tracker_store.save(tracker)
    logger.info("desk.reply.sent channel=%s conversation=%s", channel_name, conversation_id)
    return SENT
