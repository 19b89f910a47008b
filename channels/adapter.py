"""The contract between the durable runtime and one platform (X today; Mastodon next).

The runtime owns what must not be lost or repeated (``channels/store.py``: ordering per
person, dedupe, claims and liveness leases, replay after a crash, retries, the doorbell, the
poller's lease); the adapter owns the platform and nothing durable. An adapter:

- ``name``: the channel's name, the store's ``channel`` column and the namespace of its
  conversation ids (``permanence/conversations.py``: ``x:<user id>``);
- ``verify_webhook(raw, headers)``: whether a pushed body is authentic (signature), before
  anything is parsed or stored;
- ``parse_webhook(raw)``: the events of an authentic body, as :class:`channels.store.InboxEvent`
  rows (event id unique per channel, kind, sender, JSON payload), minus the account's echoes;
- ``poll(client, cursor)``: one round of reading a source when nothing is pushed (stream or
  polling): the events and the next cursor (the runtime writes both in one transaction);
- ``send(recipient_id, text)``: one outbound message; returns a
  :class:`channels.outcomes.Delivery` (Sent / RetryAfter / PauseChannel / GiveUp): it never
  touches the store, never retries by itself and never raises for the platform's answers;
- ``render(messages)``: a turn's messages (Rasa's dicts: text, buttons, image) as the texts the
  platform accepts (length limits, options as text);
- ``is_own_echo(event)``: whether an event is the account's own message coming back.

The X adapter (``connectors/x/adapter.py``) is the first. Adapters are checked against this
protocol in the tests (``isinstance`` works: the protocol is runtime-checkable).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from channels.outcomes import Delivery
from channels.store import InboxEvent


@runtime_checkable
class ChannelAdapter(Protocol):
    name: str

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool: ...

    def parse_webhook(self, raw: bytes) -> list[InboxEvent]: ...

    async def poll(self, client: Any, cursor: str | None
                   ) -> tuple[list[InboxEvent], str | None]: ...

    async def send(self, recipient_id: str, text: str) -> Delivery: ...

    def render(self, messages: Sequence[Mapping[str, Any]]) -> list[str]: ...

    def is_own_echo(self, event: Any) -> bool: ...
