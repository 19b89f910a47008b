"""Stream mode of the X channel's runtime (connectors/x/stream.py), in process, against the real
X emulator on 127.0.0.1 and a real database: a gap longer than X's backfill is caught up from
the DM list, a line that could not be stored is read again, one reader per database, what the
stream delivers is counted once as X bills it.

Rasa's agent is replaced by a recorder that answers each message once through the message's
output channel, as Rasa does; the runtime, store, stream reader, outbox and sender are real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import aiohttp
import pytest_asyncio

from connectors.x.config import XSettings
from connectors.x.runtime import XRuntime
from connectors.x.stream import LEASE, SEEN_CURSOR
from permanence.x_store import Store, utcnow
from sandbox.x_emulator import EmulatorConfig, RunningEmulator, run_emulator

T = TypeVar("T")


class Recorder:
    """Stands in for Rasa's agent: records each message, answers it once."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, message: Any) -> None:
        self.seen.append((message.sender_id, message.text))
        await message.output_channel.send_text_message(message.sender_id,
                                                       f"reçu : {message.text}")


async def eventually(probe: Callable[[], Awaitable[T] | T], timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    """XAA subscriptions for the stream; emissions kept a moment only (what X keeps for
    ``backfill_minutes``, shortened), so that what the backfill cannot give is visible."""
    config = EmulatorConfig(subscribe="xaa", timestamp_skew=None, activity_retention_seconds=2.0,
                            stream_keepalive_seconds=0.5)
    async with run_emulator(config) as emu:
        yield emu


@pytest_asyncio.fixture
async def runtimes(emulator: RunningEmulator, db_url: str):
    started: list[XRuntime] = []

    async def start(agent: Recorder) -> XRuntime:
        cfg = emulator.config
        settings = XSettings.from_credentials({
            "consumer_key": cfg.consumer_key, "consumer_secret": cfg.consumer_secret,
            "access_token": cfg.access_token, "access_token_secret": cfg.access_token_secret,
            "bearer_token": cfg.bearer_token, "api_base_url": emulator.base_url,
            "mode": "stream", "stream_retry_seconds": 0.1, "poll_lease_seconds": 1.5,
            "liveness_seconds": 1.0})
        runtime = XRuntime(settings, agent)
        await runtime.start()
        started.append(runtime)
        await eventually(lambda: runtime.ready)
        return runtime

    yield start
    for runtime in started:
        if runtime.store is not None:
            await runtime.stop()


async def write_dm(http: aiohttp.ClientSession, emu: RunningEmulator, sender: str,
                   text: str) -> str:
    async with http.post(f"{emu.base_url}/_control/dm", json={
            "sender_id": sender, "screen_name": f"p{sender}", "text": text}) as response:
        assert response.status == 200
        return (await response.json())["event_id"]


def replies(emu: RunningEmulator, person: str) -> list[str]:
    return [dm["text"] for dm in emu.state.outbox()["dms"] if dm["recipient_id"] == person]


async def test_a_gap_longer_than_x_keeps_is_caught_up_from_the_dm_list(
        emulator, runtimes, http, db_url) -> None:
    # The server read the stream last 20 minutes ago; a DM came meanwhile, which X no longer
    # holds for the stream's backfill.
    with Store.create(db_url) as store:
        store.cursor_set(SEEN_CURSOR, (utcnow() - timedelta(minutes=20)).isoformat())
    person = "4242"
    await write_dm(http, emulator, person, "pendant la panne")
    await asyncio.sleep(2.5)  # past the emulator's retention: only GET /2/dm_events has it
    agent = Recorder()
    runtime = await runtimes(agent)
    assert await eventually(lambda: runtime.streamer and runtime.streamer.connected)
    await write_dm(http, emulator, person, "après la reprise")
    assert await eventually(lambda: len(replies(emulator, person)) == 2)
    await asyncio.sleep(1.0)  # a duplicate would show up
    assert agent.seen == [("x:4242", "pendant la panne"), ("x:4242", "après la reprise")]
    assert replies(emulator, person) == ["reçu : pendant la panne", "reçu : après la reprise"]
    reads = [r for r in emulator.state.requests if r.path == "/2/dm_events"]
    assert len(reads) == 1 and reads[0].auth == "oauth1"  # one catch-up read, no polling


async def test_a_line_that_could_not_be_stored_is_read_again(emulator, runtimes, http) -> None:
    agent = Recorder()
    runtime = await runtimes(agent)
    assert await eventually(lambda: runtime.streamer and runtime.streamer.connected)
    store = runtime.store
    real = store.inbox_add_many
    failures: list[int] = []

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise RuntimeError("database unavailable")
        return real(*args, **kwargs)

    store.inbox_add_many = failing_once  # type: ignore[method-assign]
    await write_dm(http, emulator, "5151", "bonjour")
    assert await eventually(lambda: replies(emulator, "5151"))
    await asyncio.sleep(1.0)
    assert failures == [1]
    assert agent.seen == [("x:5151", "bonjour")]
    assert replies(emulator, "5151") == ["reçu : bonjour"]
    assert emulator.state.activity.connections_total >= 2  # it reconnected, with backfill


async def test_one_reader_per_database_and_a_successor_takes_over(emulator, runtimes, http,
                                                                  db_url) -> None:
    first, second = await runtimes(Recorder()), await runtimes(Recorder())
    assert await eventually(lambda: first.streamer.connected or second.streamer.connected)
    await asyncio.sleep(1.0)  # lease rounds of both
    assert len(emulator.state.activity.streams) == 1
    leader, follower = (first, second) if first.streamer.leading else (second, first)
    await leader.stop()
    assert await eventually(lambda: follower.streamer.connected)
    with Store.create(db_url) as store:
        assert store.lease_holder(LEASE) == follower.worker_name
    await write_dm(http, emulator, "6161", "toujours là ?")
    assert await eventually(lambda: replies(emulator, "6161") == ["reçu : toujours là ?"])


def charged(runtime: XRuntime) -> dict[str, int]:
    """The counts per price kind the channel recorded (x_cost), since the beginning."""
    now = utcnow()
    [rows] = runtime.store.cost_totals([(now - timedelta(days=1), now + timedelta(days=1))])
    return {kind: count for kind, count, _ in rows}


def billed(emu: RunningEmulator) -> dict[str, int]:
    """What the emulator billed, per price kind (its usage meter)."""
    return {kind: count for kind, count in emu.state.usage.counts.items() if count}


async def test_what_the_stream_delivers_is_counted_once_as_x_bills_it(
        emulator, runtimes, http) -> None:
    emulator.state.activity.retention_seconds = 300.0  # X's 5 minutes: the backfill has them
    agent = Recorder()
    runtime = await runtimes(agent)
    assert await eventually(lambda: runtime.streamer and runtime.streamer.connected)
    account = emulator.state.account
    for text in ("bonjour", "ma question"):
        await write_dm(http, emulator, "7171", text)
    async with http.post(f"{emulator.base_url}/_control/tweet", json={
            "username": "mentionneur", "text": f"@{account.username} une question"}) as response:
        assert response.status == 200
    assert await eventually(lambda: len(replies(emulator, "7171")) == 2)
    # Cut the stream: the new connection's backfill writes the same events again, which X
    # does not bill twice the same day, nor does the channel count them twice.
    async with http.post(f"{emulator.base_url}/_control/stream",
                         json={"drop": True}) as response:
        assert (await response.json())["dropped"] == 1
    assert await eventually(lambda: emulator.state.activity.connections_total >= 2
                            and runtime.streamer.connected)
    assert await eventually(lambda: emulator.state.usage.repeats["dm_received"] >= 2)
    assert await eventually(lambda: charged(runtime) == billed(emulator))
    counts = charged(runtime)
    assert counts["dm_received"] == 2 and counts["post_mention_received"] == 1
    assert counts["dm_sent"] == 2 and counts["user_read"] == 1
    assert agent.seen == [("x:7171", "bonjour"), ("x:7171", "ma question")]
