"""The outbox sender under X's 2026 DM budget (15 sends per 15 minutes), against the real X
emulator on 127.0.0.1 at a time scale (a 15-minute window lasts ``WINDOW`` seconds) and a real
database: nothing is sent into a window known to be spent, the lawyer's reply goes first, then
a P0 person's, then a first answer, then the rest fairly, each person's replies in order; a
429 met because another client spent the window is retried after the reset and delivered once.

"Requests into a spent window" are counted by the emulator: its 429s from the limits
(``usage.rate_limited``), injected faults excluded. No assertion on durations.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace

import aiohttp
import pytest_asyncio

from connectors.x.sender import BUDGET, OutboxSender
from permanence.continue_link import Settings as ContinueSettings
from permanence.continue_link import find_continue_token
from permanence.continue_store import ContinueStore
from permanence.priority import LAWYER, URGENT
from permanence.x_store import ERASED, Store, utcnow
from sandbox.x_emulator import EmulatorConfig, RunningEmulator, run_emulator
from tests.x.test_polling_runtime import eventually, settings_for, write_dm

SCALE = 90.0  # a 15-minute window lasts 10 s
WINDOW = 900 / SCALE
LIMIT = 15  # limits/x-2026.yml: POST /2/dm_conversations/... per user per 15 minutes
DELIVERY_TIMEOUT = 6 * WINDOW


@pytest_asyncio.fixture
async def x2026() -> AsyncIterator[RunningEmulator]:
    config = EmulatorConfig(limits="x-2026", time_scale=SCALE, timestamp_skew=None)
    async with run_emulator(config) as emu:
        assert emu.state.limiter.limits["dm_send"] == LIMIT
        yield emu


@pytest_asyncio.fixture
async def senders(x2026: RunningEmulator, db_url: str) -> AsyncIterator[Callable]:
    """``await start(count)``: a store and its started sender (a "process"), stopped after."""
    started: list[tuple[Store, OutboxSender]] = []

    async def start(count: int = 1, links: ContinueSettings | None = None) -> SimpleNamespace:
        store = Store.create(db_url)
        links_store = ContinueStore.create(db_url) if links else None
        sender = OutboxSender(settings_for(x2026, mode="webhook", senders=count,
                                           budget_pace_burst=3), store,
                              lambda: x2026.config.account_id, None, links, links_store)
        await asyncio.to_thread(sender.start)
        started.append((store, sender))
        return SimpleNamespace(store=store, sender=sender, links=links_store)

    yield start
    for store, sender in started:
        await asyncio.to_thread(sender.stop)
        store.close()


async def people_write(http: aiohttp.ClientSession, emu: RunningEmulator,
                       people: list[str]) -> None:
    """They write first (X lets the account answer people who wrote to it), all at once."""
    await asyncio.gather(*(write_dm(http, emu, person, "bonjour") for person in people))


def delivered(emu: RunningEmulator) -> list[tuple[str, str]]:
    """(recipient, text) of every DM X accepted from the account, oldest first."""
    return [(dm["recipient_id"], dm["text"]) for dm in emu.state.outbox()["dms"]]


def into_spent_window(emu: RunningEmulator) -> int:
    return emu.state.usage.rate_limited.get("dm_send", 0)


def windows(emu: RunningEmulator) -> list[int]:
    """How many DM sends X accepted in each of its windows, from the emulator's request log:
    a window opens at the first request after the previous one ended (the emulator's rule)."""
    accepted = sorted(r.at for r in emu.state.requests
                      if r.method == "POST" and r.path.startswith("/2/dm_conversations")
                      and r.status in (200, 201))
    counts: list[int] = []
    start = None
    for at in accepted:
        if start is None or at >= start + WINDOW:
            start = at
            counts.append(0)
        counts[-1] += 1
    return counts


def spent(store: Store) -> bool:
    """The senders know the window is spent (and wait for its reset)."""
    return store.budget_get(BUDGET).spent_until(utcnow()) is not None


async def test_priorities_when_the_budget_is_short(x2026, senders, http) -> None:
    """Ten people get two messages each: fifteen go in the first window, then the sender
    waits. Meanwhile the lawyer answers a client, a P0 conversation gets its first answer and
    a new person writes. After the reset: the lawyer's, the P0 person's, the new person's
    first answer, then the rest, fairly, each person in order."""
    people = [f"10{i}" for i in range(10)]
    await people_write(http, x2026, people + ["900", "901", "902"])
    process = await senders(1)
    store = process.store
    for round_ in (1, 2):
        for person in people:
            store.outbox_enqueue(person, f"{person}-{round_}")
    process.sender.wake()
    assert await eventually(lambda: len(delivered(x2026)) == LIMIT, timeout=DELIVERY_TIMEOUT)
    assert await eventually(lambda: spent(store), timeout=DELIVERY_TIMEOUT)
    store.outbox_enqueue("902", "902-first")  # a new person (NORMAL, no answer yet)
    store.outbox_enqueue("901", "901-p0", priority=URGENT)
    store.outbox_enqueue("900", "900-lawyer", priority=LAWYER)
    process.sender.wake()
    total = 2 * len(people) + 3
    assert await eventually(lambda: len(delivered(x2026)) == total, timeout=DELIVERY_TIMEOUT)

    sent = delivered(x2026)
    assert sent[:10] == [(p, f"{p}-1") for p in people]  # first answers, in arrival order
    assert sent[10:LIMIT] == [(p, f"{p}-2") for p in people[:5]]  # then the rest, fairly
    assert sent[LIMIT:LIMIT + 3] == [("900", "900-lawyer"), ("901", "901-p0"),
                                     ("902", "902-first")]
    assert sent[LIMIT + 3:] == [(p, f"{p}-2") for p in people[5:]]
    assert into_spent_window(x2026) == 0
    assert windows(x2026) == [LIMIT, 8]
    assert await eventually(lambda: store.outbox_pending_count() == 0)  # recorded after X


async def test_many_people_two_processes_never_into_a_spent_window(x2026, senders, http
                                                                   ) -> None:
    """Twelve people at once, three DMs each, sent by two processes of four senders each:
    every DM delivered once, each person's in order, none into a spent window."""
    people = [f"20{i:02d}" for i in range(12)]
    await people_write(http, x2026, people)
    one, two = await senders(4), await senders(4)
    for index in range(3):
        for person in people:
            (one if index % 2 else two).store.outbox_enqueue(person, f"{person}-{index}")
    one.sender.wake()
    two.sender.wake()
    total = 3 * len(people)
    assert await eventually(lambda: len(delivered(x2026)) == total, timeout=DELIVERY_TIMEOUT)
    await asyncio.sleep(0.5)  # nothing more arrives
    sent = delivered(x2026)
    assert len(sent) == total
    for person in people:
        assert [text for who, text in sent if who == person] == [
            f"{person}-{i}" for i in range(3)]
    assert into_spent_window(x2026) == 0
    assert all(count <= LIMIT for count in windows(x2026))
    assert sum(windows(x2026)) == total


async def test_a_429_from_another_client_is_retried_after_the_reset(x2026, senders, http
                                                                    ) -> None:
    """Another client of the account spends the window: the sender's next request meets a
    429 (the one it could not know of), waits for the reset X reports, and delivers; no other
    request goes into that window, and nothing is lost or sent twice."""
    await people_write(http, x2026, ["3000", "3001"])
    settings = settings_for(x2026, mode="webhook", budget_pace_burst=3)
    other = settings.api_client()
    try:
        for index in range(LIMIT):
            await other.create_direct_message(participant_id="3001", text=f"autre {index}",
                                              user_auth=True)
    finally:
        await other.aclose()
    process = await senders(2)
    first = process.store.outbox_enqueue("3000", "un")
    process.store.outbox_enqueue("3000", "deux")
    process.store.outbox_enqueue("3001", "trois")
    process.sender.wake()
    assert await eventually(lambda: into_spent_window(x2026) == 1, timeout=DELIVERY_TIMEOUT)
    assert await eventually(
        lambda: [t for who, t in delivered(x2026) if who == "3000"] == ["un", "deux"]
        and ("3001", "trois") in delivered(x2026), timeout=DELIVERY_TIMEOUT)
    assert into_spent_window(x2026) == 1
    assert process.store.outbox_get(first).attempts == 2
    assert await eventually(lambda: process.store.outbox_pending_count() == 0)
    assert len(delivered(x2026)) == LIMIT + 3
    assert windows(x2026) == [LIMIT, 3]


async def test_the_desk_figures_follow_the_budget(x2026, senders, http) -> None:
    """What the desk shows (Store.budget_status) once the sender has spent the window:
    nothing left, a reset ahead, the DMs and people still waiting, a positive wait."""
    people = [f"40{i}" for i in range(9)]
    await people_write(http, x2026, people)
    process = await senders(2)
    for round_ in (1, 2):
        for person in people:
            process.store.outbox_enqueue(person, f"{person}-{round_}")
    process.sender.wake()
    assert await eventually(lambda: len(delivered(x2026)) == LIMIT, timeout=DELIVERY_TIMEOUT)
    status = await eventually(lambda: _spent_status(process.store), timeout=DELIVERY_TIMEOUT)
    assert status["dms_left"] == 0 and status["limit"] == LIMIT
    assert status["waiting"]["pending"] == 3 and status["waiting"]["people"] == 3
    assert status["next_reset"] is not None and status["estimated_wait_seconds"] > 0
    assert status["period_seconds"] is not None and status["period_seconds"] <= WINDOW + 1
    assert await eventually(lambda: len(delivered(x2026)) == 18, timeout=DELIVERY_TIMEOUT)
    assert into_spent_window(x2026) == 0


def _spent_status(store: Store) -> dict | None:
    status = store.budget_status(BUDGET)
    return status if status["dms_left"] == 0 and status["waiting"]["pending"] == 3 else None



async def test_a_dm_carries_the_web_chat_link_when_the_next_answer_would_wait(
        x2026, senders, http) -> None:
    """Ten people get two messages each, 15 DMs per window: while the window runs out, a DM
    whose person's next answer would wait for the reset (longer than ``after_seconds``)
    carries the link, once per person; the first DM (nothing known of the budget yet) and
    those of the next window (nothing ahead) do not. Each link opens its own conversation."""
    links = ContinueSettings(b"k" * 32, "https://chat.cabinet.example",
                             after_seconds=WINDOW / 10)
    people = [f"50{i}" for i in range(10)]
    await people_write(http, x2026, people)
    process = await senders(1, links)
    erased = people[5]  # asked for the erasure: the confirmations leave no token behind
    long = people[1]  # a first answer too long to take the line: the link waits for the next
    for round_ in (1, 2):
        for person in people:
            text = f"{person}-{round_}" + ("x" * 9_900 if (person, round_) == (long, 1) else "")
            process.store.outbox_enqueue(person, text,
                                         conversation_key=ERASED if person == erased else None)
    process.sender.wake()
    assert await eventually(lambda: len(delivered(x2026)) == 20, timeout=DELIVERY_TIMEOUT)
    sent = delivered(x2026)
    tokens = [(who, find_continue_token(text)) for who, text in sent]
    assert tokens[0][1] is None  # the probe: the budget was not known yet
    assert all(token is None for _, token in tokens[LIMIT:])  # a new window, nothing ahead
    offered = [(who, token) for who, token in tokens if token is not None]
    # Once per person: the first answers of all but the first person, its second answer;
    # never to the person whose data was erased.
    assert sorted(who for who, _ in offered) == [p for p in people if p != erased]
    assert not process.links.offered(f"x:{erased}")
    long_dms = [find_continue_token(text) for who, text in sent if who == long]
    assert long_dms[0] is None and long_dms[1] is not None
    assert all(text.startswith(f"{who}-") for who, text in sent)  # the reply, then the line
    for index, (who, token) in enumerate(offered):
        assert process.links.redeem(links, token, f"secret-{index}") == f"x:{who}"
    assert into_spent_window(x2026) == 0
    assert await eventually(lambda: process.store.outbox_pending_count() == 0)
