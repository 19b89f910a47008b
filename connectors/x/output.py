"""``XOutput``: the assistant's messages to a person, queued in the durable outbox as DMs.

Nothing is sent from here: each part goes to ``x_outbox`` and the runtime's sender task
delivers it (rate limits, retries, 403). Buttons become numbered options
(``render.render_buttons``); the options last shown to a person are kept in the store
(cursor ``x.options.<X user id>``) so that "1" or the option's title maps back to its payload.

Recipients are conversation ids, ``x:<X user id>`` (``permanence.conversations``), as Rasa and
the desk know them; the outbox and the options keep the X user id. An id of another channel
(``web:…``, ``rest:…``) or an unprefixed one is refused (``InvalidConversationId``): nothing
reaches X for a conversation that did not come from X.

The replies of a turn (the answer to one inbox item) are kept until the turn ends, packed into
as few DMs as fit (``render.pack``: one DM per answer in practice, which spares the account's
DM rate limit and the person's notifications), then queued in the same transaction that marks
the item done (``Store.turn_commit``): a server killed mid-turn leaves no reply behind, and the
turn runs again without repeating any.

Each DM is queued with a priority class (``permanence/priority.py``), which decides what goes
first when the account's DM budget is short (X: 15 per 15 minutes): a push
(``turn=False``: the lawyer's reply or hand-back from the desk) is ``LAWYER``; a turn's replies
are ``URGENT`` when the conversation is P0 (the desk's case says so), else ``NORMAL``.
"""

from __future__ import annotations

import itertools
import json
import logging
import operator
import re
from typing import TYPE_CHECKING, Any

from rasa.core.channels.channel import OutputChannel

from channels.store import options_cursor  # the X store erases it
from connectors.x import render
from connectors.x.inbox import person_ref
from permanence import conversations, priority

if TYPE_CHECKING:
    from connectors.x.runtime import XRuntime

logger = logging.getLogger(__name__)

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


class XOutput(OutputChannel):
    """Queues DMs for the sender task.

    ``turn=True`` (a reply to the person's message): the replies and the options to remember
    are written once, at the end of the turn, with the inbox item (the runtime calls
    :meth:`commit`); a turn that shows text without buttons forgets earlier options.
    ``turn=False`` (a push, e.g. the lawyer's desk): each message is queued, and updates the
    options, at once, with the priority class ``priority`` (default: the lawyer's).
    """

    @classmethod
    def name(cls) -> str:
        return "x"

    def __init__(self, runtime: XRuntime, *, turn: bool = False,
                 priority: int = priority.LAWYER) -> None:
        self._runtime = runtime
        self._turn = turn
        self._priority = priority
        self._sent: dict[str, list[dict[str, str]] | None] = {}
        self._replies: list[tuple[str, str]] = []

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """``delivery_ref`` (a push from the desk): kept on each queued part, so the desk can
        show what became of the reply (``permanence/deliveries.py``)."""
        person = x_user_id(recipient_id)
        if await self._enqueue(person, text, kwargs.get("delivery_ref")):
            await self._remember(person, None)

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        person = x_user_id(recipient_id)
        rendered, mapping = render.render_buttons(text or "", buttons)
        if await self._enqueue(person, rendered):
            await self._remember(person, button_options(buttons) if mapping else None)

    async def send_quick_replies(self, recipient_id: str, text: str,
                                 quick_replies: list[dict[str, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        try:
            link = render.render_image(image)
        except (ValueError, AttributeError):
            logger.warning("x.output.image_skipped reason=not_http")
            return
        await self.send_text_message(recipient_id, link)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, str) and attachment.strip():
            await self.send_text_message(recipient_id, attachment)
        else:
            logger.warning("x.output.attachment_skipped")

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any],
                               **kwargs: Any) -> None:
        # Raw JSON is meant for rich clients; it is never shown to a person on X.
        logger.info("x.output.custom_skipped")

    async def add_reply(self, recipient_id: str, text: str) -> None:
        """A message outside Rasa's turn (e.g. a refusal): the options last shown stay."""
        await self._enqueue(x_user_id(recipient_id), text)

    async def commit(self, item_id: int) -> bool:
        """Queue the replies of this turn and write its options, in the transaction that marks
        inbox item ``item_id`` done; False if another worker took the item over meanwhile."""
        runtime = self._runtime
        replies, self._replies = _packed(self._replies), []
        sent, self._sent = self._sent, {}
        cursors = {options_cursor(person): _options_value(options)
                   for person, options in sent.items()}
        people = {person for person, _ in replies}
        tiers = {person: await runtime.urgency_slot(conversations.make(conversations.X, person))
                 for person in people}
        klass = min([await runtime.run_db(_turn_priority, person, tiers[person])
                     for person in people], default=priority.NORMAL)
        committed = await runtime.run_db(runtime.store.turn_commit, item_id,
                                         runtime.worker_name, replies, cursors,
                                         priority=klass)
        if committed and replies:
            logger.info("x.outbox.enqueued item_id=%s replies=%d", item_id, len(replies))
            runtime.wake_sender()
        return committed

    async def _enqueue(self, person: str, text: str, delivery_ref: str | None = None) -> bool:
        """Queue ``text`` for the X user ``person`` (an id :func:`x_user_id` gave)."""
        if self._runtime.store is None:
            raise RuntimeError("the x channel is not running (no store)")
        parts = render.split_text(text or "")
        if self._turn:
            self._replies.extend((person, part) for part in parts)
            return bool(parts)
        for part in parts:
            item_id = await self._runtime.run_db(
                self._runtime.store.outbox_enqueue, person, part, priority=self._priority,
                delivery_ref=delivery_ref)
            logger.info("x.outbox.enqueued id=%s person=%s", item_id, person_ref(person))
            self._runtime.wake_sender()
        return bool(parts)

    async def _remember(self, person: str, options: list[dict[str, str]] | None) -> None:
        if self._turn:
            self._sent[person] = options
        else:
            await self._store_options(person, options)

    async def _store_options(self, person: str, options: list[dict[str, str]] | None) -> None:
        await self._runtime.run_db(self._runtime.store.cursor_set,
                                   options_cursor(person), _options_value(options))


def _turn_priority(person: str, slot_tier: str | None = None) -> int:
    """The class of a turn's replies to the X user ``person``: URGENT in a P0 conversation,
    by its urgency slot (the triage's provisional tier) or the desk's case
    (``priority.of_conversation``; synchronous, it may read the desk's database)."""
    return priority.of_conversation(conversations.make(conversations.X, person), slot_tier)


def _packed(replies: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A turn's replies with each person's consecutive messages packed into as few DMs as fit
    (``render.pack``)."""
    return [(person, text)
            for person, run in itertools.groupby(replies, key=operator.itemgetter(0))
            for text in render.pack([text for _, text in run])]


def _options_value(options: list[dict[str, str]] | None) -> str | None:
    return json.dumps(options, ensure_ascii=False) if options else None
