"""XOutput takes conversation ids (``x:<X user id>``), as Rasa and the desk give them, and
queues DMs to the X user; an id of another channel never reaches X."""

from __future__ import annotations

import asyncio
import functools
from types import SimpleNamespace

import pytest

from connectors.x.output import XOutput, options_cursor, x_user_id
from permanence.conversations import InvalidConversationId
from permanence.x_store import Store


def test_an_x_conversation_maps_back_to_the_x_user_id() -> None:
    assert x_user_id("x:1234567890") == "1234567890"


@pytest.mark.parametrize("conversation_id", [
    "1234567890", "web:1234567890", "rest:1234567890", "mastodon:42", "x:abc", "x:",
    "x:12 3", "x:" + "1" * 21, "", "X:42", "x:42\n"])
def test_any_other_id_is_refused(conversation_id: str) -> None:
    with pytest.raises(InvalidConversationId):
        x_user_id(conversation_id)


@pytest.fixture
def runtime(db_url: str):
    store = Store.create(db_url)

    async def run_db(function, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(function, *args, **kwargs))

    async def urgency_slot(conversation_id: str) -> None:
        return None

    yield SimpleNamespace(store=store, run_db=run_db, worker_name="test",
                          wake_sender=lambda: None, urgency_slot=urgency_slot)
    store.close()


def outbox(store: Store) -> list[tuple[str, str]]:
    item = store.outbox_next_due()
    items = []
    while item is not None:
        items.append((item.recipient_id, item.text))
        store.outbox_sent(item.id, f"sent-{item.id}")
        item = store.outbox_next_due()
    return items


async def test_a_push_to_an_x_conversation_is_queued_for_the_x_user(runtime) -> None:
    output = XOutput(runtime)
    await output.send_text_with_buttons("x:4242", "Votre choix ?", [
        {"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}])
    assert outbox(runtime.store) == [("4242", "Votre choix ?\n\n1. Oui\n2. Non")]
    assert "/affirm" in runtime.store.cursor_get(options_cursor("4242"))


@pytest.mark.parametrize("conversation_id", ["4242", "web:4242", "rest:4242"])
async def test_a_push_to_another_channels_conversation_is_refused(runtime,
                                                                  conversation_id) -> None:
    """As the desk's delivery would see it: an exception (the reply is ``failed``), nothing
    queued for X."""
    output = XOutput(runtime)
    with pytest.raises(InvalidConversationId):
        await output.send_text_message(conversation_id, "La réponse de l'avocate")
    with pytest.raises(InvalidConversationId):
        await output.add_reply(conversation_id, "trop long")
    assert outbox(runtime.store) == []
    assert runtime.store.cursor_get(options_cursor("4242")) is None
