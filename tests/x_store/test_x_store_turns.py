"""The X store's crash-safety pieces: a turn committed with its replies in one transaction,
items of dead processes released through their liveness lease, replies already sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from permanence.x_store import InboxEvent, Store

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
ALIVE = "x.alive."


def add(store: Store, *events: tuple[str, str]) -> None:
    store.inbox_add_many([InboxEvent(event_id, "dm", sender, {"text": "t"})
                          for event_id, sender in events], now=T0)


def outbox(store: Store, recipient: str) -> list[str]:
    texts = []
    while (item := store.outbox_next_due(now=T0 + timedelta(hours=1))) is not None:
        texts.append((item.recipient_id, item.text))
        store.outbox_sent(item.id, f"x{item.id}")
    return [text for who, text in texts if who == recipient]


def test_a_commit_queues_the_replies_and_finishes_the_item_at_once(store: Store) -> None:
    add(store, ("dm:1", "42"))
    item = store.inbox_claim_next("w1", now=T0)
    assert store.outbox_pending_count() == 0
    assert store.turn_commit(item.id, "w1", [("42", "un"), ("42", "deux")],
                             {"x.options.42": "[1]"}, now=T0)
    done = store.inbox_get(item.id)
    assert (done.state, done.payload) == ("done", None)
    assert store.cursor_get("x.options.42") == "[1]"
    assert outbox(store, "42") == ["un", "deux"]


def test_a_commit_by_a_worker_that_lost_its_item_writes_nothing(store: Store) -> None:
    add(store, ("dm:1", "42"))
    item = store.inbox_claim_next("dead", now=T0)
    assert store.inbox_release_orphans(ALIVE, now=T0) == 1  # "dead" holds no liveness lease
    again = store.inbox_claim_next("w2", now=T0)
    assert (again.id, again.attempts) == (item.id, 2)
    assert not store.turn_commit(item.id, "dead", [("42", "late")], {"c": "late"}, now=T0)
    assert store.outbox_pending_count() == 0 and store.cursor_get("c") is None
    assert store.turn_commit(item.id, "w2", [("42", "once")], now=T0)
    assert outbox(store, "42") == ["once"]
    assert not store.turn_commit(item.id, "w2", [("42", "twice")], now=T0)  # already done


def test_a_released_item_can_still_be_committed_by_its_late_worker(store: Store) -> None:
    add(store, ("dm:1", "42"))
    item = store.inbox_claim_next("slow", now=T0)
    store.inbox_release_orphans(ALIVE, now=T0)
    assert store.turn_commit(item.id, "slow", [("42", "reply")], now=T0)
    assert store.inbox_claim_next("w2", now=T0) is None  # not handled a second time


def test_only_items_of_processes_without_a_live_lease_are_released(
        open_store: Callable[[], Store]) -> None:
    first, second = open_store(), open_store()
    add(first, ("dm:1", "a"), ("dm:2", "b"), ("dm:3", "c"))
    assert first.lease_acquire(ALIVE + "alive", "alive", 30, now=T0)
    assert first.lease_acquire(ALIVE + "killed", "killed", 30, now=T0)
    first.inbox_claim_next("alive", now=T0)
    second.inbox_claim_next("killed", now=T0)
    second.inbox_claim_next("never-registered", now=T0)
    assert second.inbox_release_orphans(ALIVE, now=T0 + timedelta(seconds=10)) == 1
    states = {first.inbox_get(i).state for i in (1, 2)}
    assert states == {"processing"} and first.inbox_get(3).state == "pending"
    # "alive" keeps renewing; "killed" does not, and its item comes back once the lease expires.
    assert first.lease_acquire(ALIVE + "alive", "alive", 30, now=T0 + timedelta(seconds=25))
    assert second.inbox_release_orphans(ALIVE, now=T0 + timedelta(seconds=31)) == 1
    assert [first.inbox_get(i).state for i in (1, 2, 3)] == ["processing", "pending", "pending"]


def test_an_item_that_keeps_killing_its_worker_fails(store: Store) -> None:
    add(store, ("dm:1", "42"), ("dm:2", "42"))
    for _ in range(3):
        store.inbox_claim_next("dead", now=T0)
        store.inbox_release_orphans(ALIVE, max_attempts=3, now=T0)
    assert store.inbox_get(1).state == "failed"
    assert store.inbox_claim_next("w", now=T0).event_id == "dm:2"  # the sender is not blocked


def test_external_ids_of_sent_replies(store: Store) -> None:
    first = store.outbox_enqueue("42", "a", now=T0)
    store.outbox_enqueue("42", "b", now=T0)
    store.outbox_enqueue("7", "c", now=T0)
    item = store.outbox_next_due(now=T0)
    assert item.id == first and item.created_at == T0
    store.outbox_sent(first, "1001")
    assert store.outbox_external_ids("42") == {"1001"}
    assert store.outbox_external_ids("7") == set()
