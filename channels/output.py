"""``ChannelOutput``: the assistant's messages to a person, queued in a channel's durable outbox.

Nothing is sent from here: each message is rendered by the channel's adapter
(``ChannelAdapter.render``: its length limit, options as text) and queued in the outbox, which
the channel's sender delivers (``channels/sender.py``).

Recipients are conversation ids, ``<channel>:<local id>`` (``permanence.conversations``), as
Rasa and the desk know them; the outbox keeps the local id. An id of another channel or an
unprefixed one is refused (``InvalidConversationId``, :meth:`local_id`): nothing reaches a
platform for a conversation that did not come from it.

``turn=True`` (the answer to one inbox item): the turn's messages are kept until the turn ends,
each person's consecutive ones rendered together (the adapter packs them into as few platform
messages as fit), then queued in the transaction that marks the item done
(``Store.turn_commit``), with the cursors the channel remembers about what was shown
(:meth:`remembered`, e.g. X's numbered options): a server killed mid-turn leaves no reply
behind, and the turn runs again without repeating any. ``turn=False`` (a push: the lawyer's
reply or hand-back from the desk): each message is rendered and queued at once.

Each part is queued with a priority class (``permanence/priority.py``), which decides what goes
first when the account's sending budget is short: a push is ``LAWYER`` by default; a turn's
replies are ``URGENT`` when the conversation is P0 (its urgency slot, or the desk's case), else
``NORMAL``.

The runtime object given offers ``store``, ``run_db``, ``worker_name``, ``wake_sender`` and
``urgency_slot`` (:class:`channels.runtime.ChannelRuntime` does).
"""

from __future__ import annotations

import itertools
import logging
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rasa.core.channels.channel import OutputChannel

from permanence import conversations, priority
from permanence.logids import ref

logger = logging.getLogger(__name__)

Message = Mapping[str, Any]  # Rasa's message dict: text, buttons, image
Render = Callable[[Sequence[Message]], list[str]]


class ChannelOutput(OutputChannel):
    """Queues a channel's messages in its outbox (see the module's docstring)."""

    channel: str = ""  # a subclass names its channel

    @classmethod
    def name(cls) -> str:
        return conversations.INPUT_CHANNEL[cls.channel]

    def __init__(self, runtime: Any, render: Render, *, turn: bool = False,
                 priority: int = priority.LAWYER) -> None:
        self._runtime = runtime
        self._render = render
        self._turn = turn
        self._priority = priority
        self._messages: list[tuple[str, Message]] = []  # a turn's, in order
        self._cursors: dict[str, str | None] = {}

    # hooks

    def local_id(self, recipient_id: str) -> str:
        """The local id of ``recipient_id`` (``<channel>:<id>``), or
        :class:`~permanence.conversations.InvalidConversationId`."""
        return conversations.local_id(str(recipient_id), self.channel)

    def remembered(self, person: str, message: Message) -> dict[str, str | None]:
        """The cursors to write once ``message`` was shown to ``person`` (e.g. the options to
        read a numbered answer against); default: none."""
        return {}

    # Rasa's OutputChannel

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """``delivery_ref`` (a push from the desk): kept on each queued part, so the desk can
        show what became of the reply (``permanence/deliveries.py``)."""
        await self._add(self.local_id(recipient_id), {"text": text},
                        delivery_ref=kwargs.get("delivery_ref"))

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        await self._add(self.local_id(recipient_id), {"text": text, "buttons": buttons})

    async def send_quick_replies(self, recipient_id: str, text: str,
                                 quick_replies: list[dict[str, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._add(self.local_id(recipient_id), {"image": image})

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        if isinstance(attachment, str) and attachment.strip():
            await self.send_text_message(recipient_id, attachment)
        else:
            logger.warning("%s.output.attachment_skipped", self.channel)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any],
                               **kwargs: Any) -> None:
        # Raw JSON is meant for rich clients; it is never shown to a person on a platform.
        logger.info("%s.output.custom_skipped", self.channel)

    # the runtime's

    async def add_reply(self, recipient_id: str, text: str) -> None:
        """A message outside Rasa's turn (e.g. a refusal): nothing is remembered of it."""
        await self._add(self.local_id(recipient_id), {"text": text}, remember=False)

    async def commit(self, item_id: int) -> bool:
        """Queue the replies of this turn and write its cursors, in the transaction that marks
        inbox item ``item_id`` done; False if another worker took the item over meanwhile."""
        runtime = self._runtime
        messages, self._messages = self._messages, []
        cursors, self._cursors = self._cursors, {}
        replies = [(person, text)
                   for person, run in itertools.groupby(messages, key=operator.itemgetter(0))
                   for text in self._render([message for _, message in run])]
        people = {person for person, _ in replies}
        klass = priority.NORMAL
        if people:
            classes = []
            for person in people:
                conversation_id = conversations.make(self.channel, person)
                tier = await runtime.urgency_slot(conversation_id)
                classes.append(await runtime.run_db(priority.of_conversation,
                                                    conversation_id, tier))
            klass = min(classes)
        committed = await runtime.run_db(runtime.store.turn_commit, item_id,
                                         runtime.worker_name, replies, cursors,
                                         priority=klass)
        if committed and replies:
            logger.info("%s.outbox.enqueued item_id=%s replies=%d", self.channel, item_id,
                        len(replies))
            runtime.wake_sender()
        return committed

    # internals

    async def _add(self, person: str, message: Message, *, remember: bool = True,
                   delivery_ref: str | None = None) -> None:
        """Render ``message`` for ``person`` (a local id); keep it for the turn's commit, or
        queue it at once (a push). An unrenderable message (an image that is not a URL) is
        left out, logged."""
        runtime = self._runtime
        if runtime.store is None:
            raise RuntimeError(f"the {self.channel} channel is not running (no store)")
        try:
            parts = self._render([message])
        except (ValueError, AttributeError):
            logger.warning("%s.output.skipped reason=unrenderable", self.channel)
            return
        if not parts:
            return
        cursors = self.remembered(person, message) if remember else {}
        if self._turn:
            self._messages.append((person, message))
            self._cursors.update(cursors)
            return
        for part in parts:
            item_id = await runtime.run_db(runtime.store.outbox_enqueue, person, part,
                                           priority=self._priority, delivery_ref=delivery_ref)
            logger.info("%s.outbox.enqueued id=%s person=%s", self.channel, item_id,
                        ref(f"{self.channel}:{person}"))
            runtime.wake_sender()
        for name, value in cursors.items():
            await runtime.run_db(runtime.store.cursor_set, name, value)
