"""The outbox sender (connectors/x/sender.py) on its own thread, against the real X emulator on
127.0.0.1 and a real database: order, wake-up from another thread, 429 pause, 403 given up,
5xx retried, and a reply X already has not sent twice."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from channels import sender as sender_module  # the generic sender's pace
from connectors.x.sender import OutboxSender
from permanence.x_store import OUTBOX_FAILED, Store
from sandbox.x_emulator import RunningEmulator
from tests.x.test_polling_runtime import eventually, replies, settings_for, write_dm

PEOPLE = ("4242", "5353")


@pytest_asyncio.fixture
async def outbox(emulator: RunningEmulator, db_url: str, http) -> AsyncIterator[tuple]:
    for person in PEOPLE:  # X lets the account answer people who wrote to it
        await write_dm(http, emulator, person, "bonjour")
    store = Store.create(db_url)
    # A refused send is tried again after half a second, doubling (the default: 5 s).
    settings = settings_for(emulator, mode="webhook", senders=2, send_retry_seconds=0.5)
    sender = OutboxSender(settings, store, lambda: emulator.config.account_id)
    await asyncio.to_thread(sender.start)
    yield store, sender
    await asyncio.to_thread(sender.stop)
    store.close()


async def fault(http: aiohttp.ClientSession, emu: RunningEmulator, **body) -> None:
    async with http.post(f"{emu.base_url}/_control/faults",
                         json={"path_prefix": "/2/dm_conversations", **body}) as response:
        assert response.status == 200, await response.text()


def sends(emu: RunningEmulator) -> list:
    return [r for r in emu.state.requests
            if r.method == "POST" and r.path.startswith("/2/dm_conversations")]


async def test_runs_on_its_own_thread_and_delivers_each_person_in_order(emulator, outbox):
    store, sender = outbox
    assert sender._thread.name == "x-sender" and sender._thread is not threading.current_thread()
    for index in range(6):
        for person in ("4242", "5353"):
            store.outbox_enqueue(person, f"{person} message {index}")
    # Woken from a thread that is not the sender's (Rasa's loop, the desk's executor...).
    await asyncio.to_thread(sender.wake)
    await eventually(lambda: len(replies(emulator, "4242")) == 6
                     and len(replies(emulator, "5353")) == 6)
    for person in ("4242", "5353"):
        assert replies(emulator, person) == [f"{person} message {i}" for i in range(6)]
    assert await eventually(lambda: store.outbox_pending_count() == 0)


async def test_a_wake_is_faster_than_the_poll(emulator, outbox, monkeypatch):
    store, sender = outbox
    await asyncio.sleep(0.3)  # the senders are idle, waiting on their event
    monkeypatch.setattr(sender_module, "POLL_SECONDS", 30.0)  # only for the next wait
    monkeypatch.setattr(sender_module, "IDLE_POLL_SECONDS", 30.0)
    await asyncio.sleep(0.3)  # both senders have started a 30 s wait
    store.outbox_enqueue("4242", "vite")
    started = time.monotonic()
    sender.wake()
    assert await eventually(lambda: replies(emulator, "4242") == ["vite"], timeout=10)
    assert time.monotonic() - started < 10


async def test_429_pauses_every_send_until_the_reset(emulator, outbox, http):
    store, sender = outbox
    await fault(http, emulator, status=429, count=1, reset_in=2, method="POST")
    first = store.outbox_enqueue("4242", "un")
    sender.wake()
    assert await eventually(lambda: any(r.status == 429 for r in sends(emulator)))
    [refused] = [r for r in sends(emulator) if r.status == 429]
    store.outbox_enqueue("5353", "deux")  # another person: the account's limit holds it too
    sender.wake()
    assert await eventually(lambda: len(replies(emulator, "4242")) == 1
                            and len(replies(emulator, "5353")) == 1, timeout=15)
    accepted = [r for r in sends(emulator) if r.status in (200, 201)]
    assert len(accepted) == 2
    assert all(r.at >= refused.at + 1.0 for r in accepted)  # x-rate-limit-reset: now + 2 s
    assert store.outbox_get(first).attempts == 2


async def test_403_is_given_up_and_the_next_reply_goes(emulator, outbox, http):
    store, sender = outbox
    await fault(http, emulator, status=403, count=1)
    refused = store.outbox_enqueue("4242", "refusé")
    store.outbox_enqueue("4242", "suivant")
    sender.wake()
    assert await eventually(lambda: replies(emulator, "4242") == ["suivant"])
    item = store.outbox_get(refused)
    assert (item.state, item.last_error_code) == (OUTBOX_FAILED, "403")
    assert item.text == "refusé"  # kept for the desk


async def test_503_is_retried_with_backoff(emulator, outbox, http):
    store, sender = outbox
    assert sender.settings.send_retry_seconds == 0.5
    await fault(http, emulator, status=503, count=2, method="POST")
    item_id = store.outbox_enqueue("4242", "patience")
    sender.wake()
    assert await eventually(lambda: replies(emulator, "4242") == ["patience"], timeout=15)
    assert store.outbox_get(item_id).attempts == 3
    assert [r.status for r in sends(emulator)][:3] == [503, 503, 201]


async def test_a_reply_x_already_has_is_recorded_not_sent_again(emulator, outbox, http):
    store, sender = outbox
    await asyncio.to_thread(sender.stop)  # the senders of a process that then died...
    item_id = store.outbox_enqueue("4242", "déjà parti")
    assert store.outbox_next_due(hold_seconds=0.1).id == item_id  # ...had reserved it,
    settings = settings_for(emulator, mode="webhook")
    client = settings.api_client()
    try:  # ...and its request reached X, but nothing was recorded.
        await client.create_direct_message(participant_id="4242", text="déjà parti",
                                           user_auth=True)
    finally:
        await client.aclose()
    await asyncio.sleep(0.2)  # the hold has run out
    restarted = OutboxSender(settings, store, lambda: emulator.config.account_id)
    await asyncio.to_thread(restarted.start)
    try:
        restarted.wake()
        assert await eventually(lambda: store.outbox_get(item_id).state == "sent")
        await asyncio.sleep(0.5)
        assert replies(emulator, "4242") == ["déjà parti"]  # once
    finally:
        await asyncio.to_thread(restarted.stop)
