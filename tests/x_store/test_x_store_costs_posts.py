"""The X store's costs (``x_cost``) and public posts for the desk (``x_public_post``), on
SQLite and PostgreSQL: charged once per day where X charges once, in the transaction of what
caused them, never a text or a person id; posts listed, taken off, erased and pruned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import inspect, select

from permanence.x_costs import CostMeter
from permanence.x_store import InboxEvent, Store, x_cost, x_public_post
from tests.x_store.legacy import legacy_store

T0 = datetime(2026, 12, 1, 11, 5, tzinfo=timezone.utc)
METER = CostMeter.from_file()


def rows(store: Store, table) -> list:
    with store.engine.connect() as connection:
        return list(connection.execute(select(table)))


def totals(store: Store, start: datetime = T0 - timedelta(days=1),
           end: datetime = T0 + timedelta(days=3)) -> dict[str, tuple[int, int]]:
    [found] = store.cost_totals([(start, end)])
    return {kind: (count, micro) for kind, count, micro in found}


def test_a_resource_is_charged_once_a_day_a_request_each_time(
        open_store: Callable[[], Store]) -> None:
    store, other_process = open_store(), open_store()
    assert store.costs_add(METER.resources("dm_event_read", ["1", "2"], T0), now=T0) == 2
    # Read again the same day, by this process or another: nothing more.
    assert other_process.costs_add(METER.resources("dm_event_read", ["2", "1"], T0),
                                   now=T0 + timedelta(hours=5)) == 0
    assert store.costs_add(METER.resources("dm_event_read", ["2", "3"], T0), now=T0) == 1
    tomorrow = T0 + timedelta(days=1)
    assert store.costs_add(METER.resources("dm_event_read", ["1"], tomorrow), now=tomorrow) == 1
    assert store.costs_add(METER.call("dm_sent") * 2, now=T0) == 2
    assert store.costs_add([], now=T0) == 0
    assert totals(store) == {"dm_event_read": (4, 40_000), "dm_sent": (2, 30_000)}
    # Intervals: [start, end)
    assert store.cost_totals([(T0, T0), (tomorrow, tomorrow + timedelta(seconds=1))]) == [
        [], [("dm_event_read", 1, 10_000)]]


def test_costs_go_with_the_events_and_the_sent_reply(store: Store) -> None:
    charges = METER.resources("dm_received", ["41", "42"], T0)
    added = store.inbox_add_many([InboxEvent("dm:41", "dm", "4242", {"text": "bonjour"})],
                                 now=T0, costs=charges)
    assert added == [True]
    # A redelivery: not a new event, not charged again the same day.
    store.inbox_add_many([InboxEvent("dm:41", "dm", "4242", {"text": "bonjour"})], now=T0,
                         costs=METER.resources("dm_received", ["41"], T0))
    store.outbox_enqueue("4242", "Votre réponse", now=T0)
    item = store.outbox_next_due(now=T0)
    assert store.outbox_sent(item.id, "x-dm-1", now=T0, costs=METER.call("dm_sent"))
    assert totals(store) == {"dm_received": (2, 20_000), "dm_sent": (1, 15_000)}
    # Nothing of the person or of a text: kinds, prices, times and hashed keys.
    stored = repr(rows(store, x_cost))
    for secret in ("4242", "bonjour", "Votre réponse", "x-dm-1", "'41'", "'42'"):
        assert secret not in stored
    assert {column.name for column in x_cost.columns} == {
        "id", "kind", "micro_usd", "at", "dedupe"}


def test_retention_keeps_the_costs_and_drops_their_day_keys(store: Store) -> None:
    store.costs_add(METER.resources("dm_received", ["7"], T0), now=T0)
    store.costs_add(METER.call("dm_sent"), now=T0)
    store.prune(T0 + timedelta(days=1))
    assert totals(store) == {"dm_received": (1, 10_000), "dm_sent": (1, 15_000)}
    assert [row.dedupe for row in rows(store, x_cost)] == [None, None]


def test_public_posts_listed_once_taken_off_erased_and_pruned(store: Store) -> None:
    assert store.public_post_add("1601", "4242", "citoyenne", T0 - timedelta(minutes=2), now=T0)
    assert not store.public_post_add("1601", "4242", "citoyenne", now=T0)  # found twice
    assert store.public_post_add("1602", "777", None, None, now=T0 + timedelta(minutes=1))
    assert store.public_post_add("1603", "4242", "citoyenne", now=T0 + timedelta(minutes=2))
    listed = store.public_posts_open()
    assert [(p["tweet_id"], p["username"]) for p in listed] == [
        ("1601", "citoyenne"), ("1602", None), ("1603", "citoyenne")]
    assert listed[0]["posted_at"] == (T0 - timedelta(minutes=2)).isoformat()
    assert set(listed[0]) == {"id", "tweet_id", "username", "posted_at", "received_at"}

    assert store.public_post_done(listed[1]["id"], now=T0)
    assert not store.public_post_done(listed[1]["id"], now=T0)  # already off the list
    assert not store.public_post_done(999_999, now=T0)
    assert [p["tweet_id"] for p in store.public_posts_open()] == ["1601", "1603"]

    assert store.erase_conversation("x:4242") == 2  # the person's posts go with the rest
    assert "4242" not in repr(rows(store, x_public_post))
    assert store.prune(T0 + timedelta(days=1)) == 1  # the other one (answered) by retention
    assert rows(store, x_public_post) == []


def test_an_older_store_gets_the_new_tables(store_url: str) -> None:
    legacy_store(store_url, without=("x_cost", "x_public_post"))
    second = Store.create(store_url)
    names = set(inspect(second.engine).get_table_names())
    assert {"x_cost", "x_public_post"} <= names
    assert second.costs_add(METER.call("dm_sent"), now=T0) == 1
    assert second.public_post_add("1", "2", "h", now=T0)
