"""Polling mode and crash safety of the X channel's runtime, in process, against the real X
emulator (sandbox/x_emulator) on 127.0.0.1 and a real database.

Rasa's agent is replaced by a recorder that answers each message with one reply through the
message's output channel, as Rasa does: the runtime, store, poller, outbox and sender are the
real ones. A "crash" cancels every task of a runtime without any of its shutdown steps, which
is what ``kill -9`` leaves behind (no lease released, no item finished, nothing queued).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, TypeVar

import aiohttp
import pytest
import pytest_asyncio
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.limits import MAX_MESSAGE_CHARS, too_long_text
from connectors.x.client import XApiClient
from connectors.x.config import XSettings
from connectors.x.inbox import person_ref
from connectors.x.payloads import snowflake_at
from connectors.x.polling import LEASE
from connectors.x.runtime import XRuntime
from permanence import public_posts
from permanence.x_store import InboxEvent, Store
from sandbox.stack import free_port
from sandbox.x_emulator import EmulatorConfig, RunningEmulator, run_emulator
from sandbox.x_emulator.routes_tweets import summons_account

T = TypeVar("T")
FAST = {
    "poll_interval_seconds": 0.2,
    "poll_tweets_interval_seconds": 0.2,
    "poll_lease_seconds": 1.5,
    "liveness_seconds": 1.0,
    # At X's 2026 limits in real time (15 DMs a 15-minute window), the pace would hold a
    # test's quick exchange for minutes: it is tested at a time scale in test_x_budget_sender
    # and tests/x_store/test_x_store_priority.py.
    "budget_pace_burst": "off",
}


class Recorder:
    """Stands in for Rasa's agent: records each message (its conversation id ``x:<X user
    id>`` and text), answers it once. A message whose text
    is in ``hang`` never finishes (until its task is cancelled)."""

    def __init__(self, hang: tuple[str, ...] = ()) -> None:
        self.seen: list[tuple[str, str]] = []
        self.hang = set(hang)

    async def __call__(self, message: Any) -> None:
        self.seen.append((message.sender_id, message.text))
        if message.text in self.hang:
            await asyncio.Event().wait()
        await message.output_channel.send_text_message(message.sender_id,
                                                       f"reçu : {message.text}")


@pytest_asyncio.fixture
async def emulator(emulator_with: Any) -> AsyncIterator[RunningEmulator]:
    """The emulator with X's 2022 read limits (300 DM-event and 450 timeline reads per 15
    minutes): these tests poll every 0.2 s to test the runtime (order, dedupe, leases, replay),
    and X's 2026 limit of 15 DM-event reads would spend the window in 3 s and leave a poller
    that takes over waiting out the reset (15 minutes). Pacing under the 2026 limits and 429s
    are tested on their own (``test_rate_limits_and_server_errors_are_waited_out``, the
    polling unit tests)."""
    async with emulator_with(rate_limits={"dm_events": 300, "mentions": 450,
                                          "search_recent": 450}) as emu:
        yield emu


async def eventually(probe: Callable[[], Awaitable[T] | T], timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


def settings_for(emu: RunningEmulator, **extra: Any) -> XSettings:
    cfg = emu.config
    credentials = {
        "consumer_key": cfg.consumer_key, "consumer_secret": cfg.consumer_secret,
        "access_token": cfg.access_token, "access_token_secret": cfg.access_token_secret,
        "api_base_url": emu.base_url, "mode": "polling", "hashtags": ["droitautweet"],
        **FAST, **extra,
    }
    return XSettings.from_credentials({k: v for k, v in credentials.items() if v is not None})


@pytest_asyncio.fixture
async def runtimes(emulator: RunningEmulator, db_url: str):
    """``await start(agent, **settings)``: a started runtime, stopped after the test."""
    started: list[XRuntime] = []

    async def start(agent: Recorder, app: Any = None, **extra: Any) -> XRuntime:
        runtime = XRuntime(settings_for(emulator, **extra), agent)
        await runtime.start(app)
        started.append(runtime)
        await eventually(lambda: runtime.ready)
        return runtime

    yield start
    for runtime in started:
        if runtime.store is not None:
            await runtime.stop()


async def crash(runtime: XRuntime) -> None:
    """What kill -9 leaves: every task gone mid-way, nothing released or recorded."""
    runtime._stopping = True
    tasks = {*runtime._tasks, *runtime._workers}
    if runtime.poller is not None:
        tasks |= set(runtime.poller._tasks.values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if runtime.sender is not None:  # its thread's sends stop mid-way too
        await asyncio.to_thread(runtime.sender.stop)
        runtime.sender = None
    await runtime.client.aclose()
    runtime.store.close()
    runtime.store = None


async def write_dm(http: aiohttp.ClientSession, emu: RunningEmulator, sender: str,
                   text: str) -> str:
    async with http.post(f"{emu.base_url}/_control/dm", json={
            "sender_id": sender, "screen_name": f"p{sender}", "text": text}) as response:
        assert response.status == 200
        return (await response.json())["event_id"]


async def write_tweet(http: aiohttp.ClientSession, emu: RunningEmulator, username: str,
                      text: str, **extra: Any) -> dict:
    async with http.post(f"{emu.base_url}/_control/tweet",
                         json={"username": username, "text": text, **extra}) as response:
        assert response.status == 200
        return await response.json()


def replies(emu: RunningEmulator, person: str) -> list[str]:
    return [dm["text"] for dm in emu.state.outbox()["dms"] if dm["recipient_id"] == person]


def dm_requests(emu: RunningEmulator) -> list[Any]:
    return [r for r in emu.state.requests if r.path == "/2/dm_events"]


async def answered(emu: RunningEmulator, expected: dict[str, list[str]],
                   timeout: float = 20.0) -> dict[str, list[str]]:
    """The replies per person, once every expected one is there (or at the timeout), plus a
    few more polling rounds to let any duplicate show up."""
    def done() -> bool:
        return all(len(replies(emu, person)) >= len(texts) for person, texts in expected.items())

    await eventually(done, timeout)
    await asyncio.sleep(1.0)
    return {person: replies(emu, person) for person in expected}


# ------------------------------------------------------------------------------- polling


async def test_a_dm_is_polled_answered_once_and_the_cursor_kept(emulator, runtimes, http,
                                                                db_url) -> None:
    agent = Recorder()
    runtime = await runtimes(agent)
    event_id = await write_dm(http, emulator, "4242", "bonjour")
    got = await answered(emulator, {"4242": ["reçu : bonjour"]})
    assert got == {"4242": ["reçu : bonjour"]}
    assert agent.seen == [("x:4242", "bonjour")]
    with Store.create(db_url) as store:
        # The account's own reply is on the list too: the cursor moves past it.
        reply_id = emulator.state.outbox()["dms"][-1]["id"]
        assert await eventually(lambda: int(store.cursor_get("x.poll.dm_events")) >= int(
            reply_id))
        assert store.lease_holder(LEASE) == runtime.worker_name
    assert runtime.poller.leading
    assert {r.auth for r in dm_requests(emulator)} == {"oauth1"}
    assert int(event_id) < int(reply_id)


async def test_history_before_the_first_start_is_not_answered(emulator, runtimes,
                                                              http) -> None:
    emulator.clock.offset = -3600.0  # an hour ago
    await write_dm(http, emulator, "1111", "une vieille question")
    emulator.clock.offset = -60.0  # a minute before the first start: answered
    await write_dm(http, emulator, "2222", "juste avant")
    emulator.clock.offset = 0.0
    agent = Recorder()
    await runtimes(agent, poll_backfill_seconds=600)
    await write_dm(http, emulator, "1111", "nouvelle question")
    got = await answered(emulator, {"1111": ["reçu : nouvelle question"],
                                    "2222": ["reçu : juste avant"]})
    assert got == {"1111": ["reçu : nouvelle question"], "2222": ["reçu : juste avant"]}
    assert sorted(agent.seen) == [("x:1111", "nouvelle question"), ("x:2222", "juste avant")]


async def test_a_poller_back_after_the_age_window_leaves_older_messages_out(
        emulator, runtimes, http, db_url, caplog) -> None:
    """The same age window as the webhook: a poller whose cursor is older than
    ``max_event_age_seconds`` (back after a long outage) answers only what is recent; its
    cursor moves past the rest. The poller and the sender log people by reference only."""
    old, recent = "987654321012345", "987654321054321"
    with Store.create(db_url) as store:  # the last round ran three hours ago
        store.cursor_set("x.poll.dm_events", str(snowflake_at(
            datetime.now(timezone.utc) - timedelta(hours=3))))
    emulator.clock.offset = -2 * 3600.0
    await write_dm(http, emulator, old, "il y a deux heures")
    emulator.clock.offset = -60.0
    await write_dm(http, emulator, recent, "il y a une minute")
    emulator.clock.offset = 0.0
    agent = Recorder()
    with caplog.at_level(logging.INFO):
        await runtimes(agent, max_event_age_seconds=3600, poll_backfill_seconds=600)
        got = await answered(emulator, {recent: ["reçu : il y a une minute"]})
    assert got == {recent: ["reçu : il y a une minute"]}
    assert agent.seen == [(f"x:{recent}", "il y a une minute")]
    assert replies(emulator, old) == []
    with Store.create(db_url) as store:
        assert store.inbox_pending_count() == 0
    mine = [r.getMessage() for r in caplog.records
            if r.name in ("connectors.x.polling", "channels.sender")]
    assert any("x.poll.stale_events source=dm_events count=1" in line for line in mine)
    assert any(f"sender={person_ref(recent)}" in line for line in mine)
    assert any(f"recipient={person_ref(recent)}" in line for line in mine)
    assert not [line for line in mine if old in line or recent in line]


async def test_a_restart_neither_loses_nor_repeats(emulator, runtimes, http) -> None:
    first = await runtimes(Recorder())
    await write_dm(http, emulator, "4242", "un")
    await answered(emulator, {"4242": ["reçu : un"]})
    await first.stop()
    await write_dm(http, emulator, "4242", "deux")  # while no server runs
    await write_dm(http, emulator, "777", "trois")
    agent = Recorder()
    await runtimes(agent)
    got = await answered(emulator, {"4242": ["reçu : un", "reçu : deux"],
                                    "777": ["reçu : trois"]})
    assert got == {"4242": ["reçu : un", "reçu : deux"], "777": ["reçu : trois"]}
    assert sorted(agent.seen) == [("x:4242", "deux"), ("x:777", "trois")]


async def test_a_crash_mid_turn_neither_loses_nor_repeats(emulator, runtimes, http,
                                                          db_url) -> None:
    doomed = await runtimes(Recorder(hang=("bloque",)))
    await write_dm(http, emulator, "4242", "bloque")
    with Store.create(db_url) as store:
        assert await eventually(lambda: store.inbox_get(1) and store.inbox_get(1).state
                                == "processing")
    await write_dm(http, emulator, "4242", "ensuite")
    await write_dm(http, emulator, "555", "autre personne")
    await eventually(lambda: len(replies(emulator, "555")) == 1)
    await crash(doomed)
    assert replies(emulator, "4242") == []
    agent = Recorder()
    await runtimes(agent)  # takes over once the dead one's liveness and poller leases expire
    got = await answered(emulator, {"4242": ["reçu : bloque", "reçu : ensuite"]})
    assert got == {"4242": ["reçu : bloque", "reçu : ensuite"]}
    assert replies(emulator, "555") == ["reçu : autre personne"]
    assert agent.seen == [("x:4242", "bloque"), ("x:4242", "ensuite")]


async def test_two_servers_on_one_database_poll_once(emulator, runtimes, http,
                                                     db_url) -> None:
    agents = [Recorder(), Recorder()]
    servers = [await runtimes(agent) for agent in agents]
    # The poller starts once the account is known (GET /2/users/me).
    assert await eventually(lambda: all(server.poller is not None for server in servers))
    assert await eventually(lambda: any(server.poller.leading for server in servers))
    await asyncio.sleep(1.0)  # a few lease rounds: the other one stays out
    [leader] = [server for server in servers if server.poller.leading]
    [follower] = [server for server in servers if not server.poller.leading]
    assert follower.poller._tasks == {}
    with Store.create(db_url) as store:
        assert store.lease_holder(LEASE) == leader.worker_name
    people = {"101": ["a1", "a2"], "202": ["b1", "b2"], "303": ["c1"]}
    for round_ in range(2):
        for person, texts in people.items():
            if round_ < len(texts):
                await write_dm(http, emulator, person, texts[round_])
    expected = {person: [f"reçu : {text}" for text in texts] for person, texts in people.items()}
    assert await answered(emulator, expected) == expected
    seen = sorted(agents[0].seen + agents[1].seen)
    assert seen == sorted((f"x:{p}", t) for p, texts in people.items() for t in texts)

    await crash(leader)
    assert await eventually(lambda: follower.poller.leading, timeout=10)
    await write_dm(http, emulator, "404", "après la panne")
    assert (await answered(emulator, {"404": ["reçu : après la panne"]}))["404"] == [
        "reçu : après la panne"]


async def test_rate_limits_and_server_errors_are_waited_out(emulator, runtimes, http) -> None:
    for status, extra in ((503, {"count": 2}), (429, {"count": 1, "reset_in": 2})):
        async with http.post(f"{emulator.base_url}/_control/faults", json={
                "status": status, "path_prefix": "/2/dm_events", "method": "GET",
                **extra}) as response:
            assert response.status == 200
    await runtimes(Recorder())
    await write_dm(http, emulator, "4242", "malgré tout")
    assert (await answered(emulator, {"4242": ["reçu : malgré tout"]}))["4242"] == [
        "reçu : malgré tout"]
    log = dm_requests(emulator)
    assert [r.status for r in log[:4]] == [503, 503, 429, 200]
    at = [datetime.fromisoformat(r.as_json()["at"].replace("Z", "+00:00")) for r in log[:4]]
    # Backoff after a 5xx; after the 429, nothing before x-rate-limit-reset (>= 2 s ahead).
    assert (at[1] - at[0]).total_seconds() >= 0.9
    assert (at[3] - at[2]).total_seconds() >= 2.0


async def test_only_posts_that_summon_the_account_get_an_invitation(emulator, runtimes,
                                                                     http) -> None:
    """X allows an automated reply only to a post that @mentions or quotes the account: those
    get one neutral invitation, without a URL; a post with only the hashtag gets none and is
    listed for the lawyer (handle and link, never its text)."""
    account = emulator.state.account
    runtime = await runtimes(Recorder(), bearer_token=None)  # search and mentions in user context
    ours = emulator.state.add_tweet(account, "Permanence #droitautweet mardi à 12 h")
    handle = account.username
    mention = await write_tweet(http, emulator, "mentionneur", f"@{handle} une question")
    hashtag = await write_tweet(http, emulator, "tagueur", "#droitautweet ma préfecture")
    both = await write_tweet(http, emulator, "lesdeux", f"@{handle} #DroitAuTweet bonjour")
    quote = await write_tweet(http, emulator, "citeur", "#droitautweet je relaie",
                              quote_of=ours.id)
    retweet = await write_tweet(http, emulator, "relayeur", "#droitautweet à relayer",
                                retweet=True, original_username="autrice")
    other = await write_tweet(http, emulator, "horsujet", "#autrechose rien à voir")
    invited = {mention["tweet_id"], both["tweet_id"], quote["tweet_id"]}
    by_hand = {hashtag["tweet_id"]: "tagueur", retweet["original_tweet_id"]: "autrice"}

    def invitations() -> list[dict]:
        return [t for t in emulator.state.outbox()["tweets"] if t["in_reply_to_tweet_id"]]

    def listed() -> list[dict]:
        return public_posts.source("x").open()

    await eventually(lambda: {t["in_reply_to_tweet_id"] for t in invitations()} >= invited
                     and len(listed()) >= len(by_hand))
    await asyncio.sleep(1.0)  # more polling rounds: nothing else comes
    assert sorted(t["in_reply_to_tweet_id"] for t in invitations()) == sorted(invited)
    for invitation in invitations():
        assert "http" not in invitation["text"] and account.id not in invitation["text"]
        assert f"@{account.username}" in invitation["text"]
    posts = listed()
    assert {(p["handle"], p["link"]) for p in posts} == {
        (handle, f"https://x.com/{handle}/status/{tweet_id}")
        for tweet_id, handle in by_hand.items()}
    assert set(posts[0]) == {"id", "handle", "link", "posted_at", "received_at"}
    # Stored: ids, handle, dates; never the words of the post.
    stored = repr(await runtime.run_db(runtime.store.public_posts_open))
    assert "préfecture" not in stored and "relayer" not in stored
    assert retweet["tweet_id"] not in repr(invitations()) + stored
    assert other["tweet_id"] not in repr(invitations()) + stored
    # Each reply went to a post that summoned the account (the emulator refuses the others,
    # as X does; a 403 here is X refusing a text identical to an earlier one, tried again).
    created = [r.status for r in emulator.state.requests if r.path == "/2/tweets"]
    assert created.count(201) == len(invited) and set(created) <= {201, 403}
    assert all(summons_account(emulator.state, emulator.state.tweets[tweet_id])
               for tweet_id in invited)
    searches = [r for r in emulator.state.requests if r.path == "/2/tweets/search/recent"]
    assert searches and {r.status for r in searches} == {200}
    assert {r.auth for r in searches} == {"oauth1"}
    # The lawyer answered one by hand: off the list; the other stays.
    first = posts[0]
    assert await runtime.run_db(public_posts.source("x").done, first["id"])
    assert [p["id"] for p in listed()] == [p["id"] for p in posts[1:]]


def charged(runtime: XRuntime) -> dict[str, int]:
    """The counts per price kind the channel recorded (x_cost), since the beginning."""
    now = datetime.now(timezone.utc)
    [rows] = runtime.store.cost_totals([(now - timedelta(days=1), now + timedelta(days=1))])
    return {kind: count for kind, count, _ in rows}


def billed(emu: RunningEmulator) -> dict[str, int]:
    """What the emulator billed, per price kind (its usage meter)."""
    return {kind: count for kind, count in emu.state.usage.counts.items() if count}


def requests(emu: RunningEmulator, method: str, prefix: str, status: int) -> int:
    """How many requests the emulator's log has (method, path prefix, status)."""
    return sum(1 for r in emu.state.requests
               if r.method == method and r.path.startswith(prefix) and r.status == status)


async def test_the_costs_recorded_are_what_x_bills_polling(emulator, runtimes, http) -> None:
    account = emulator.state.account
    runtime = await runtimes(Recorder(), bearer_token=None)
    for person in ("501", "502"):
        await write_dm(http, emulator, person, "bonjour")
        await write_dm(http, emulator, person, "ma question")
    await write_tweet(http, emulator, "mentionneur", f"@{account.username} #droitautweet ?")
    await write_tweet(http, emulator, "tagueur", "#droitautweet ma préfecture")
    await eventually(lambda: all(len(replies(emulator, p)) == 2 for p in ("501", "502"))
                     and requests(emulator, "POST", "/2/tweets", 201) == 1)
    # The account's own DMs come back in the next reads: billed once each, today.
    await eventually(lambda: billed(emulator).get("dm_event_read") == 8, 20)
    await eventually(lambda: charged(runtime) == billed(emulator), 20)
    assert charged(runtime) == billed(emulator)
    counts = charged(runtime)
    assert counts["dm_sent"] == requests(emulator, "POST", "/2/dm_conversations", 201) == 4
    assert counts["dm_event_read"] == 8  # 4 DMs in, 4 out, read many times
    assert counts["post_created_summoned"] == 1 and "post_created_with_url" not in counts
    assert counts["user_read"] == 1
    assert counts["owned_read"] == 1 and counts["post_read"] == 2  # mention; both by search
    # Prices: the emulator's, from the same file.
    now = datetime.now(timezone.utc)
    [rows] = runtime.store.cost_totals([(now - timedelta(days=1), now + timedelta(days=1))])
    recorded = sum(micro for _, _, micro in rows) / 1_000_000
    assert recorded == pytest.approx(emulator.state.usage.report()["cost_usd"])


@pytest.mark.parametrize("intake", ["aaa", "xaa"])
async def test_the_costs_recorded_are_what_x_bills_webhook(intake, http, db_url) -> None:
    """Webhook mode (the ingress thread), Account Activity or X Activity API bodies: each DM
    delivered is a dm.received, each post about the account a post.mention.create, billed
    once however often it is delivered; with the DM link on, the invitation is a post with a
    URL ($0.20)."""
    port = free_port()
    config = EmulatorConfig(webhook_url=f"http://127.0.0.1:{port}/webhooks/x/webhook",
                            subscribe=intake, timestamp_skew=None)
    async with run_emulator(config) as emu:
        settings = settings_for(emu, mode="webhook", ingress_port=port,
                                invitation_dm_link=True)
        runtime = XRuntime(settings, Recorder())
        await runtime.start(None)
        try:
            await eventually(lambda: runtime.ready)
            account = emu.state.account
            dms = []
            for text in ("bonjour", "ma question", "merci"):
                async with http.post(f"{emu.base_url}/_control/dm", json={
                        "sender_id": "601", "screen_name": "p601", "text": text}) as response:
                    assert response.status == 200
                    dms.append(await response.json())
            mention = await write_tweet(http, emu, "mentionneur",
                                        f"@{account.username} une question")
            [delivery] = mention["deliveries"]
            assert delivery["status"] == 200
            if intake == "xaa":  # X Activity API deliveries go by their event_uuid
                assert dms[0]["deliveries"][0]["event_id"] in dms[0]["activity_event_uuids"]
            again = (dms[0]["deliveries"][0]["event_id"], delivery["event_id"])
            for event_id in again:  # delivered again: not billed
                async with http.post(f"{emu.base_url}/_control/redeliver",
                                     json={"event_id": event_id}) as response:
                    assert response.status == 200
            await eventually(lambda: len(replies(emu, "601")) == 3
                             and requests(emu, "POST", "/2/tweets", 201) == 1)
            await eventually(lambda: charged(runtime) == billed(emu), 20)
            counts = charged(runtime)
            assert counts == billed(emu)
            assert counts["dm_received"] == 3 and counts["dm_sent"] == 3
            assert counts["post_mention_received"] == 1
            assert counts["post_created_with_url"] == 1 and counts["user_read"] == 1
            assert emu.state.usage.repeats["dm_received"] == 1  # the redelivery
            [invitation] = [t for t in emu.state.outbox()["tweets"]
                            if t["in_reply_to_tweet_id"] == mention["tweet_id"]]
            assert f"recipient_id={account.id}" in invitation["text"]
        finally:
            await runtime.stop()


# ------------------------------------------------------------------------- crash safety


async def test_a_turn_saved_before_a_crash_is_read_back_not_run_again(
        emulator, runtimes, http, db_url) -> None:
    """Rasa saved the turn, then the server died before queueing its replies."""
    await write_dm(http, emulator, "4242", "bonjour")  # so that X lets the account answer
    tracker_store = InMemoryTrackerStore(Domain.empty())
    await tracker_store.save(DialogueStateTracker.from_events("x:4242", [
        ActionExecuted("action_session_start"), SessionStarted(),
        BotUttered("avertissement"), ActionExecuted("action_listen"),
        UserUttered("bonjour", message_id="900"),
        BotUttered("Acceptez-vous ?", data={"buttons": [
            {"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}]}),
        ActionExecuted("action_listen"),
    ]))
    with Store.create(db_url) as store:
        store.inbox_add_many([InboxEvent("dm:900", "dm", "4242", {"text": "bonjour"})])
        assert store.inbox_claim_next("killed-worker") is not None
    agent = Recorder()
    app = SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(
        tracker_store=tracker_store)))
    await runtimes(agent, app=app, mode="webhook")
    # The turn's two messages, packed into one DM as when it first ran.
    got = await answered(emulator, {"4242": ["avertissement"]})
    assert got["4242"] == ["avertissement\n\nAcceptez-vous ?\n\n1. Oui\n2. Non"]
    assert agent.seen == []


async def test_a_reply_x_accepted_before_a_crash_is_not_sent_again(
        emulator, runtimes, http, db_url) -> None:
    await write_dm(http, emulator, "4242", "bonjour")
    cfg = emulator.config
    client = XApiClient(emulator.base_url, consumer_key=cfg.consumer_key,
                        consumer_secret=cfg.consumer_secret, access_token=cfg.access_token,
                        access_token_secret=cfg.access_token_secret)
    with Store.create(db_url) as store:
        sent = store.outbox_enqueue("4242", "déjà parti")
        store.outbox_enqueue("4242", "pas encore parti")
        # The dead process reserved the first reply and X accepted it; nothing was recorded.
        assert store.outbox_next_due(hold_seconds=0).id == sent
        await client.create_direct_message(participant_id="4242", text="déjà parti",
                                           user_auth=True)
        await client.aclose()
        await runtimes(Recorder(), mode="webhook")
        got = await answered(emulator, {"4242": ["déjà parti", "pas encore parti"]})
        assert got["4242"] == ["déjà parti", "pas encore parti"]
        first = store.outbox_get(sent)
        assert first.state == "sent"
        assert first.attempts == 2
        assert store.outbox_external_ids("4242") == {
            dm["id"] for dm in emulator.state.outbox()["dms"]}


async def test_a_message_over_the_limit_is_refused_and_the_options_kept(
        emulator, runtimes, http, db_url) -> None:
    await write_dm(http, emulator, "4242", "bonjour")  # so that X lets the account answer
    options = '[{"title": "Oui", "payload": "/affirm"}]'
    long_text = "x" * (MAX_MESSAGE_CHARS + 1)
    with Store.create(db_url) as store:
        store.cursor_set("x.options.4242", options)
        store.inbox_add_many([InboxEvent("dm:901", "dm", "4242", {"text": long_text})])
        agent = Recorder()
        await runtimes(agent, mode="webhook")
        got = await answered(emulator, {"4242": [too_long_text(long_text)]})
        assert got["4242"] == [too_long_text(long_text)]
        assert agent.seen == []
        assert store.cursor_get("x.options.4242") == options
        assert store.inbox_get(1).state == "done"


@pytest.mark.parametrize(("last_wrote_on", "rasa_gets"), [("x", "/affirm"), ("webchat", "1")])
async def test_options_shown_on_x_answer_only_until_the_person_writes_elsewhere(
        emulator, runtimes, http, db_url, last_wrote_on, rasa_gets) -> None:
    """A person who went on writing on the web chat (the link to continue there) and comes
    back to X: « 1 » is no longer the first option of the DM they had on X, which is not the
    question any more. The conversation as Rasa saved it says where they last wrote."""
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker_store = InMemoryTrackerStore(Domain.empty())
    tracker = DialogueStateTracker("x:4242", slots=[])
    tracker.update(UserUttered("bonjour", input_channel="x"))
    tracker.update(UserUttered("la suite de mon histoire", input_channel=last_wrote_on))
    await tracker_store.save(tracker)
    app = SimpleNamespace(ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=tracker_store)))
    await write_dm(http, emulator, "4242", "bonjour")  # so that X lets the account answer
    with Store.create(db_url) as store:
        store.cursor_set("x.options.4242", '[{"title": "Oui", "payload": "/affirm"}]')
        store.inbox_add_many([InboxEvent("dm:902", "dm", "4242", {"text": "1"})])
        agent = Recorder()
        await runtimes(agent, app, mode="webhook")
        await answered(emulator, {"4242": [f"reçu : {rasa_gets}"]})
        assert agent.seen == [("x:4242", rasa_gets)]


class Failing(Recorder):
    """Rasa's agent when the conversation cannot be saved: the first ``failures`` turns raise
    (as ``on_new_message`` does once the tracker store refuses the save), then it recovers."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def __call__(self, message: Any) -> None:
        self.seen.append((message.sender_id, message.text))
        await message.output_channel.send_text_message(message.sender_id, "jamais envoyé")
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("the tracker store refused the save")
        await message.output_channel.send_text_message(message.sender_id,
                                                       f"reçu : {message.text}")


async def test_a_turn_that_could_not_be_saved_is_tried_again_in_order(
        emulator, runtimes, http, monkeypatch) -> None:
    """No silent loss (#11): a failed turn sends nothing, goes back to the queue ahead of the
    person's next message, and is answered once it succeeds."""
    monkeypatch.setattr("channels.runtime.TURN_RETRY_SECONDS", 0.1)
    agent = Failing(failures=2)
    await runtimes(agent)
    await write_dm(http, emulator, "4242", "un")
    await write_dm(http, emulator, "4242", "deux")
    got = await answered(emulator, {"4242": ["un", "deux"]})  # one DM per turn
    assert got == {"4242": ["jamais envoyé\n\nreçu : un", "jamais envoyé\n\nreçu : deux"]}
    assert agent.seen == [("x:4242", "un")] * 3 + [("x:4242", "deux")]


async def test_a_turn_that_keeps_failing_tells_the_person_to_write_again(
        emulator, runtimes, http, monkeypatch, db_url) -> None:
    monkeypatch.setattr("channels.runtime.TURN_RETRY_SECONDS", 0.05)
    monkeypatch.setattr("channels.runtime.TURN_ATTEMPTS", 3)
    agent = Failing(failures=3)
    await runtimes(agent)
    await write_dm(http, emulator, "4242", "un")
    await write_dm(http, emulator, "4242", "deux")
    got = await answered(emulator, {"4242": ["?", "?"]})
    assert got["4242"][0].startswith("Un incident technique a empêché d'enregistrer")
    assert got["4242"][1:] == ["jamais envoyé\n\nreçu : deux"]
    assert agent.seen == [("x:4242", "un")] * 3 + [("x:4242", "deux")]
    with Store.create(db_url) as store:
        assert store.inbox_pending_count() == 0
