"""``XOutput``: the assistant's messages to a person on X, queued in the durable outbox as DMs.

The buffering, the commit with the inbox item and the priority classes are the generic
output's (``channels/output.py``); this is what X adds:

- rendering by the X adapter's :func:`connectors.x.adapter.render_messages`: buttons as
  numbered options, images as links, each text cut to X's length, a turn's consecutive DMs to
  one person packed into as few as fit (one DM per answer in practice, which spares the
  account's DM rate limit, 15 per 15 minutes, and the person's notifications);
- recipients ``x:<X user id>`` only (:func:`x_user_id`: digits, or
  ``InvalidConversationId``);
- the options last shown to a person, kept in the store (cursor ``x.options.<X user id>``,
  written with the turn's commit) so that "1" or the option's title maps back to its payload
  (``XRuntime.message_text``); a message without buttons forgets earlier options.
"""

from __future__ import annotations

import json
import re
from typing import Any

from channels.output import ChannelOutput, Message
from channels.store import options_cursor  # the X store erases it
from connectors.x import render
from connectors.x.adapter import render_messages
from permanence import conversations, priority

__all__ = ["XOutput", "button_options", "options_cursor", "x_user_id"]

_X_ID = re.compile(r"[0-9]{1,20}")


def x_user_id(conversation_id: str) -> str:
    """The X user id of the conversation ``x:<id>``; raises
    :class:`~permanence.conversations.InvalidConversationId` for any other id."""
    person = conversations.local_id(str(conversation_id), conversations.X)
    if not _X_ID.fullmatch(person):
        raise conversations.InvalidConversationId("not an X user id")
    return person


def button_options(buttons: Any) -> list[dict[str, str]]:
    """The title/payload of each button, as ``render.map_reply`` reads them."""
    if not isinstance(buttons, list):
        return []
    return [{"title": button.get("title"), "payload": button.get("payload")}
            for button in buttons if isinstance(button, dict)]


class XOutput(ChannelOutput):
    """Queues DMs for the sender (``turn=True``: a turn's, with its inbox item; else a push,
    of class ``priority``, default the lawyer's)."""

    channel = conversations.X

    def __init__(self, runtime: Any, *, turn: bool = False,
                 priority: int = priority.LAWYER) -> None:
        super().__init__(runtime, render_messages, turn=turn, priority=priority)

    def local_id(self, recipient_id: str) -> str:
        return x_user_id(recipient_id)

    def remembered(self, person: str, message: Message) -> dict[str, str | None]:
        """The options shown with ``message`` (numbered buttons), or none: forget them."""
        options = None
        buttons = message.get("buttons")
        if buttons:
            _, mapping = render.render_buttons(message.get("text") or "", list(buttons))
            options = button_options(list(buttons)) if mapping else None
        return {options_cursor(person): json.dumps(options, ensure_ascii=False)
                if options else None}
