"""The class each DM is queued with (connectors/x/output.py, permanence/priority.py): the desk's
pushes are the lawyer's; a turn's replies are URGENT when the desk's case of the conversation
is P0, else NORMAL; a failing lookup never holds a reply back."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from connectors.x.channel import XInput
from connectors.x.config import XSettings
from connectors.x.output import XOutput
from permanence import priority
from permanence.priority import LAWYER, NORMAL, URGENT
from permanence.x_store import InboxEvent, Store, x_outbox


@pytest.fixture
def runtime(db_url: str) -> Iterator[SimpleNamespace]:
    store = Store.create(db_url)

    async def run_db(function, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(function, *args, **kwargs))

    slots: dict[str, str] = {}  # conversation id -> its urgency slot, as Rasa saved it

    async def urgency_slot(conversation_id: str) -> str | None:
        return slots.get(conversation_id)

    yield SimpleNamespace(store=store, run_db=run_db, worker_name="test",
                          wake_sender=lambda: None, urgency_slot=urgency_slot, slots=slots)
    store.close()


@pytest.fixture
def desk_says_p0() -> Iterator[set[str]]:
    """The desk's answer to "is this conversation P0?", as desk/channel.py registers it."""
    urgent: set[str] = set()
    priority.register_case_tier(lambda conversation_id: "P0" if conversation_id in urgent
                                else "P2")
    yield urgent
    priority.unregister_case_tier()


def queued(store: Store) -> list[tuple[str, str, int]]:
    with store._read.begin() as session:
        rows = session.execute(select(x_outbox.c.recipient_id, x_outbox.c.text,
                                      x_outbox.c.priority).order_by(x_outbox.c.id))
        return [tuple(row) for row in rows]


async def a_turn(runtime: SimpleNamespace, person: str, answer: str) -> None:
    store = runtime.store
    await runtime.run_db(store.inbox_add_many,
                         [InboxEvent(f"dm:{person}-{answer}", "dm", person, {"text": "t"})])
    item = await runtime.run_db(store.inbox_claim_next, runtime.worker_name)
    output = XOutput(runtime, turn=True)
    await output.send_text_message(f"x:{person}", answer)
    assert await output.commit(item.id)


async def test_the_desks_push_is_the_lawyers(runtime) -> None:
    channel = XInput(XSettings.from_credentials({
        "consumer_key": "k", "consumer_secret": "s", "access_token": "t",
        "access_token_secret": "ts", "mode": "polling"}))
    channel.runtime = runtime
    await channel.get_output_channel().send_text_message("x:4242", "La réponse de l'avocate")
    assert queued(runtime.store) == [("4242", "La réponse de l'avocate", LAWYER)]


async def test_a_turn_of_a_p0_conversation_is_urgent(runtime, desk_says_p0) -> None:
    desk_says_p0.add("x:777")
    await a_turn(runtime, "777", "Votre dossier est transmis.")
    await a_turn(runtime, "778", "Bonjour, je suis un assistant.")
    assert queued(runtime.store) == [("777", "Votre dossier est transmis.", URGENT),
                                     ("778", "Bonjour, je suis un assistant.", NORMAL)]


async def test_without_a_desk_or_when_it_fails_a_turn_is_normal(runtime) -> None:
    await a_turn(runtime, "777", "sans bureau")

    def broken(conversation_id: str) -> str:
        raise RuntimeError("database is locked")

    priority.register_case_tier(broken)
    try:
        await a_turn(runtime, "777", "bureau en panne")
    finally:
        priority.unregister_case_tier()
    assert queued(runtime.store) == [("777", "sans bureau", NORMAL),
                                     ("777", "bureau en panne", NORMAL)]


def test_the_slot_or_the_case_makes_a_conversation_urgent(desk_says_p0) -> None:
    assert priority.of_conversation("x:1", slot_tier="P0") == URGENT
    assert priority.of_conversation("x:1", slot_tier="P1") == NORMAL
    desk_says_p0.add("x:1")
    assert priority.of_conversation("x:1") == URGENT


async def test_a_provisional_p0_from_the_triage_makes_the_turn_urgent(runtime) -> None:
    # No case yet: the triage's provisional tier (the urgency slot) is P0 (an OQTF).
    runtime.slots["x:901"] = "P0"
    runtime.slots["x:902"] = "P2"
    await a_turn(runtime, "901", "Il me manque quelques précisions")
    await a_turn(runtime, "902", "Il me manque quelques précisions")
    assert [row[2] for row in queued(runtime.store)] == [URGENT, NORMAL]
