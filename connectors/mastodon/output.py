"""``MastodonOutput``: the assistant's messages to a person on Mastodon, queued in the durable
outbox (``channels/output.py``) as the texts of direct statuses.

Rendered by :meth:`MastodonRuntime.render` (``connectors/mastodon/render.py``: buttons as
numbered options, room kept for the ``@acct`` the adapter puts in front, the instance's
``max_characters``); recipients ``mastodon:<account id>`` only (digits); the options shown with
a message kept in the store (cursor ``x.options.<account id>`` of the channel ``mastodon``,
written with the turn's commit), so that « 1 » or an option's title maps back to its payload
(``MastodonRuntime.message_text``), as on X.
"""

from __future__ import annotations

import json
import re
from typing import Any

from channels.output import ChannelOutput, Message
from channels.store import options_cursor
from connectors.x.render import render_buttons
from permanence import conversations, priority

_ACCOUNT_ID = re.compile(r"[0-9]{1,20}")


def account_id(conversation_id: str) -> str:
    """The account id of ``mastodon:<id>``; raises ``InvalidConversationId`` otherwise."""
    person = conversations.local_id(str(conversation_id), conversations.MASTODON)
    if not _ACCOUNT_ID.fullmatch(person):
        raise conversations.InvalidConversationId("not a Mastodon account id")
    return person


class MastodonOutput(ChannelOutput):
    """Queues direct statuses (``turn=True``: a turn's; else a push of class ``priority``)."""

    channel = conversations.MASTODON

    def __init__(self, runtime: Any, *, turn: bool = False,
                 priority: int = priority.LAWYER) -> None:
        super().__init__(runtime, runtime.render, turn=turn, priority=priority)

    def local_id(self, recipient_id: str) -> str:
        return account_id(recipient_id)

    def remembered(self, person: str, message: Message) -> dict[str, str | None]:
        """The options shown with ``message``, or none: forget earlier ones."""
        options = None
        buttons = message.get("buttons")
        if buttons:
            _, mapping = render_buttons(message.get("text") or "", list(buttons))
            options = [{"title": b.get("title"), "payload": b.get("payload")}
                       for b in buttons if isinstance(b, dict)] if mapping else None
        return {options_cursor(person): json.dumps(options, ensure_ascii=False)
                if options else None}
