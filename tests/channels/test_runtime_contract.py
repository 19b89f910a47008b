"""The generic channel runtime (channels/runtime.py, output.py, sender.py) with a tiny adapter
written here: nothing of X. A real store (SQLite, and PostgreSQL when configured), the real
workers, output and sender thread; only Rasa's agent is a recorder answering each message, as
Rasa does, through the message's output channel.

The adapter takes the ``mastodon`` namespace (the next channel's): every row and id here is of
a channel that is not X.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import pytest_asyncio

from channels.adapter import ChannelAdapter
from channels.outcomes import Delivery, GiveUp, Outcome, RetryAfter, Sent
from channels.output import ChannelOutput
from channels.poller import AdapterPoller
from channels.runtime import ChannelRuntime
from channels.sender import ChannelSender
from channels.store import InboxEvent, Store
from permanence.deliveries import FAILED, QUEUED, SENT, Status

CHANNEL = "mastodon"
SETTINGS = SimpleNamespace(workers=2, liveness_seconds=1.0, stale_after_seconds=60.0,
                           senders=1, send_retry_seconds=0.05, budget_margin_seconds=0.0,
                           budget_pace_burst=None)


class TinyAdapter:
    """The contract's smallest platform: it renders a person's run of messages as one text
    (« a / b »), and sends by answering the outcomes queued in ``outcomes`` (else ``Sent``)."""

    name = CHANNEL

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.outcomes: deque[Outcome] = deque()
        self.source: list[InboxEvent] = []  # what poll reads, oldest first
        self.polls = 0
        self.lock = threading.Lock()

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        return headers.get("x-tiny") == "ok"

    def parse_webhook(self, raw: bytes) -> list[InboxEvent]:
        return []

    async def poll(self, client: Any, cursor: str | None
                   ) -> tuple[list[InboxEvent], str | None]:
        """The source's events from the cursor's on (the last one read again: an overlap),
        and the newest id read."""
        self.polls += 1
        events = [row for row in self.source if int(row.event_id[3:]) >= int(cursor or 0)]
        return events, (events[-1].event_id[3:] if events else None)

    async def send(self, recipient_id: str, text: str) -> Delivery:
        with self.lock:  # called on the sender's thread
            outcome = self.outcomes.popleft() if self.outcomes else Sent(f"p{len(self.sent)}")
            if isinstance(outcome, Sent):
                self.sent.append((recipient_id, text))
        return Delivery(outcome, {}, None)

    def render(self, messages: Sequence[Mapping[str, Any]]) -> list[str]:
        texts = [str(message.get("text") or "") for message in messages]
        return [" / ".join(text for text in texts if text)] if any(texts) else []

    def is_own_echo(self, event: Any) -> bool:
        return False


class TinyOutput(ChannelOutput):
    channel = CHANNEL


class TinySender(ChannelSender):
    channel = CHANNEL

    def __init__(self, settings: Any, store: Store, adapter: TinyAdapter) -> None:
        super().__init__(settings, store)
        self._tiny = adapter

    async def open(self) -> None:
        self.adapter = self._tiny


class TinyRuntime(ChannelRuntime):
    channel = CHANNEL

    def __init__(self, url: str, adapter: TinyAdapter, agent: Any) -> None:
        super().__init__(SETTINGS, agent)
        self.url = url
        self.adapter = adapter

    def open_store(self) -> Store:
        return Store.create(self.url, channel=CHANNEL)

    def make_sender(self) -> ChannelSender:
        return TinySender(self.settings, self.store, self.adapter)

    def output(self, *, turn: bool = False) -> ChannelOutput:
        return TinyOutput(self, self.adapter.render, turn=turn)


class Agent:
    """Stands in for Rasa's agent: two messages in answer to each message."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    async def __call__(self, message: Any) -> None:
        self.seen.append((message.sender_id, message.text, message.input_channel))
        await message.output_channel.send_text_message(message.sender_id, "reçu")
        await message.output_channel.send_text_message(message.sender_id, message.text)


async def eventually(probe: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return value


@pytest_asyncio.fixture
async def tiny(fresh_database_url: str) -> AsyncIterator[tuple[TinyRuntime, TinyAdapter, Agent]]:
    adapter, agent = TinyAdapter(), Agent()
    runtime = TinyRuntime(fresh_database_url, adapter, agent)
    await runtime.start()
    yield runtime, adapter, agent
    await runtime.stop()


def test_the_tiny_adapter_fulfils_the_contract() -> None:
    assert isinstance(TinyAdapter(), ChannelAdapter)


async def test_messages_reach_rasa_in_order_once_and_replies_go_through_the_adapter(tiny):
    runtime, adapter, agent = tiny
    rows = [InboxEvent("dm:1", "dm", "alice", {"text": "un"}),
            InboxEvent("dm:2", "dm", "bob", {"text": "/deux"}),
            InboxEvent("dm:3", "dm", "alice", {"text": "trois"})]
    assert await runtime.accept_rows(rows) == 3
    assert await runtime.accept_rows(rows[:1]) == 0  # a redelivery: stored once
    assert await eventually(lambda: len(adapter.sent) == 3)
    alice = [text for person, text in adapter.sent if person == "alice"]
    # One platform message per turn: the adapter rendered the turn's two messages together.
    assert alice == ["reçu / un", "reçu / trois"]
    assert ("bob", "reçu / deux") in adapter.sent  # typed, never an intent
    assert [seen for seen in agent.seen if seen[0] == "mastodon:alice"] == [
        ("mastodon:alice", "un", "mastodon"), ("mastodon:alice", "trois", "mastodon")]
    assert len(agent.seen) == 3
    assert await eventually(lambda: runtime.store.outbox_pending_count() == 0)


async def test_outcomes_are_applied_retry_then_sent_and_give_up_kept_for_the_desk(tiny):
    runtime, adapter, _ = tiny
    adapter.outcomes.extend([RetryAfter(None, "503"),
                             GiveUp("403", "la personne n'accepte plus vos messages")])
    push = runtime.output()  # the desk's push: queued at once
    await push.send_text_message("mastodon:carol", "premier", delivery_ref="desk-message:1")
    await push.send_text_message("mastodon:carol", "second", delivery_ref="desk-message:2")
    refs = ["desk-message:1", "desk-message:2"]

    def final() -> dict[str, Status] | None:
        found = runtime.store.outbox_deliveries(refs)
        return found if all(ref in found and found[ref].state != QUEUED for ref in refs) else None

    statuses = await eventually(final)
    # The first was refused with a 503 (retried with the runtime's backoff), then given up
    # (403): the second, after it in the person's order, went then.
    assert statuses["desk-message:1"] == Status(
        FAILED, None, "la personne n'accepte plus vos messages")
    assert statuses["desk-message:2"].state == SENT
    assert adapter.sent == [("carol", "second")]
    assert not adapter.outcomes  # both outcomes were met: one retry, one give-up


async def test_a_push_to_another_channel_is_refused(tiny):
    runtime, adapter, _ = tiny
    push = runtime.output()
    for conversation_id in ("x:42", "web:abc", "carol"):
        try:
            await push.send_text_message(conversation_id, "non")
        except ValueError:
            continue
        raise AssertionError(f"{conversation_id} was accepted")
    assert runtime.store.outbox_pending_count() == 0


async def test_a_polled_source_is_read_into_the_inbox_with_its_cursor_once(tiny):
    runtime, adapter, agent = tiny
    poller = AdapterPoller(runtime, adapter, lease_name="mastodon.poller",
                           cursor_name="mastodon.poll", interval=0.05, ttl_seconds=1.5)
    runtime.spawn(poller.run())
    adapter.source.extend([InboxEvent("dm:7", "dm", "dave", {"text": "sept"}),
                           InboxEvent("dm:9", "dm", "dave", {"text": "neuf"})])
    assert await eventually(lambda: len(adapter.sent) == 2)
    polls = adapter.polls
    assert await eventually(lambda: adapter.polls > polls + 2)  # read again, overlapping
    await poller.stop()
    assert adapter.sent == [("dave", "reçu / sept"), ("dave", "reçu / neuf")]
    assert [text for _, text, _ in agent.seen] == ["sept", "neuf"]  # each once
    assert runtime.store.cursor_get("mastodon.poll") == "9"
    assert runtime.store.lease_holder("mastodon.poller") is None  # given up on stop
