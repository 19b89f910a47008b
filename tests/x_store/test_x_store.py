"""Tests of the X channel's durable storage (permanence/x_store.py).

Every test runs on a fresh SQLite file and, when PostgreSQL is configured (see conftest.py), on
a fresh PostgreSQL schema. Several ``Store`` instances on one database stand for several server
processes; a Store that is closed without finishing its work stands for a killed process. Time
is passed explicitly (``now``), never slept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from permanence.x_store import (
    InboxEvent,
    Store,
    backoff_delay,
    metadata,
    x_cursor,
    x_inbox,
    x_invitation,
    x_outbox,
)

T0 = datetime(2025, 3, 6, 18, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def run_concurrently(functions: list[Callable[[], Any]]) -> list[Any]:
    """Run each function in its own thread, all released at once by a barrier."""
    barrier = threading.Barrier(len(functions))
    results: list[Any] = [None] * len(functions)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = functions[index]()
        except BaseException as error:  # re-raised in the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


def inbox_rows(store: Store) -> list[Any]:
    with store.engine.connect() as connection:
        return connection.execute(select(x_inbox).order_by(x_inbox.c.id)).all()


def outbox_rows(store: Store) -> list[Any]:
    with store.engine.connect() as connection:
        return connection.execute(select(x_outbox).order_by(x_outbox.c.id)).all()


def empty_tables(store: Store) -> None:
    with store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(delete(table))


# --------------------------------------------------------------------- schema


def test_create_makes_every_table_and_is_idempotent(open_store: Callable[[], Store]) -> None:
    first = open_store()
    second = open_store()  # tables already exist: no error, nothing dropped
    first.cursor_set("since_id", "1", now=T0)
    assert second.cursor_get("since_id") == "1"
    from sqlalchemy import inspect

    names = set(inspect(first.engine).get_table_names())
    assert {"x_inbox", "x_outbox", "x_cursor", "x_lease", "x_invitation"} <= names
    assert {table.name for table in metadata.sorted_tables} <= names


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.cursor_set("since_id", "1", now=datetime(2025, 3, 6, 18, 0))


def test_times_come_back_in_utc(store: Store) -> None:
    paris = timezone(timedelta(hours=1))
    store.inbox_add("ev-1", "dm", "alice", {}, now=datetime(2025, 3, 6, 19, 0, tzinfo=paris))
    item = store.inbox_claim_next("w1", now=T0)
    assert item.received_at == T0
    assert item.received_at.utcoffset() == timedelta(0)


# ---------------------------------------------------------------------- inbox


def test_inbox_dedupes_redeliveries_across_restarts(open_store: Callable[[], Store]) -> None:
    store = open_store()
    payload = {"text": "Bonjour, mon permis de construire", "n": [1, 2]}
    assert store.inbox_add("ev-1", "dm", "alice", payload, now=T0) is True
    assert store.inbox_add("ev-1", "dm", "alice", payload, now=T0) is False
    store.close()
    restarted = open_store()
    assert restarted.inbox_add("ev-1", "dm", "alice", payload, now=T0 + MINUTE) is False
    assert restarted.inbox_add("ev-2", "tweet", "alice", payload, now=T0) is True
    assert restarted.inbox_pending_count() == 2
    item = restarted.inbox_claim_next("w1", now=T0)
    assert (item.event_id, item.kind, item.sender_id, item.payload) == (
        "ev-1",
        "dm",
        "alice",
        payload,
    )
    assert item.received_at == T0  # the redelivery did not overwrite the first copy


def test_inbox_refuses_unknown_kind(store: Store) -> None:
    with pytest.raises(ValueError):
        store.inbox_add("ev-1", "email", "alice", {})  # type: ignore[arg-type]
    assert store.inbox_pending_count() == 0


def test_inbox_concurrent_duplicates_are_stored_once(open_store: Callable[[], Store]) -> None:
    stores = [open_store() for _ in range(4)]
    for event_id in ("ev-a", "ev-b", "ev-c"):
        results = run_concurrently(
            [
                lambda s=s, i=i: s.inbox_add(event_id, "dm", "alice", {"i": i}, now=T0)
                for i, s in enumerate(stores)
            ]
        )
        assert sorted(results) == [False, False, False, True]
    assert [row.event_id for row in inbox_rows(stores[0])] == ["ev-a", "ev-b", "ev-c"]


def test_inbox_per_sender_order_with_interleaved_senders(store: Store) -> None:
    arrivals = [("a1", "alice"), ("b1", "bob"), ("a2", "alice"), ("c1", "carol"), ("b2", "bob")]
    arrivals += [("a3", "alice")]
    for event_id, sender in arrivals:
        store.inbox_add(event_id, "dm", sender, {}, now=T0)

    # One item per sender at a time, oldest first.
    first = [store.inbox_claim_next("w", now=T0) for _ in range(3)]
    assert [item.event_id for item in first] == ["a1", "b1", "c1"]
    assert store.inbox_claim_next("w", now=T0) is None  # a2, b2 wait for a1, b1

    by_id = {item.event_id: item for item in first}
    assert store.inbox_done(by_id["b1"].id, now=T0)
    assert store.inbox_claim_next("w", now=T0).event_id == "b2"
    assert store.inbox_claim_next("w", now=T0) is None
    assert store.inbox_failed(by_id["a1"].id, "RasaTimeout", now=T0)  # failed unblocks too
    a2 = store.inbox_claim_next("w", now=T0)
    assert a2.event_id == "a2"
    assert store.inbox_claim_next("w", now=T0) is None  # a3 waits for a2
    store.inbox_done(a2.id, now=T0)
    assert store.inbox_claim_next("w", now=T0).event_id == "a3"

    states = {row.event_id: row.state for row in inbox_rows(store)}
    assert states == {
        "a1": "failed",
        "b1": "done",
        "a2": "done",
        "c1": "processing",
        "b2": "processing",
        "a3": "processing",
    }


def test_inbox_done_clears_payload_and_failed_keeps_it(store: Store) -> None:
    store.inbox_add("ev-1", "dm", "alice", {"text": "secret"}, now=T0)
    store.inbox_add("ev-2", "dm", "bob", {"text": "other"}, now=T0)
    one = store.inbox_claim_next("w", now=T0)
    two = store.inbox_claim_next("w", now=T0)
    store.inbox_done(one.id, now=T0)
    store.inbox_failed(two.id, ValueError("boom" * 100), now=T0)
    rows = {row.event_id: row for row in inbox_rows(store)}
    assert rows["ev-1"].payload is None
    assert rows["ev-1"].processed_at is not None
    assert store.inbox_get(two.id).payload == {"text": "other"}
    assert rows["ev-2"].last_error == ("boom" * 100)[:200]
    # Finished items cannot change state again.
    assert store.inbox_done(two.id) is False
    assert store.inbox_failed(one.id, "x") is False


def test_a_failed_turn_goes_back_in_its_place_for_its_worker_only(store: Store) -> None:
    store.inbox_add("first", "dm", "alice", {"text": "a"}, now=T0)
    store.inbox_add("second", "dm", "alice", {"text": "b"}, now=T0)
    item = store.inbox_claim_next("w1", now=T0)
    assert store.inbox_retry(item.id, "w2", "OperationalError") is False  # not w2's item
    assert store.inbox_retry(item.id, "w1", "OperationalError") is True
    assert store.inbox_retry(item.id, "w1", "OperationalError") is False  # no longer processing
    rows = {row.event_id: row for row in inbox_rows(store)}
    assert (rows["first"].state, rows["first"].last_error) == ("pending", "OperationalError")
    again = store.inbox_claim_next("w1", now=T0)
    assert (again.event_id, again.attempts) == ("first", 2)  # before the person's next message
    assert again.payload == {"text": "a"}


def test_two_stores_never_claim_the_same_item(open_store: Callable[[], Store]) -> None:
    first, second = open_store(), open_store()
    for n in range(40):
        first.inbox_add(f"ev-{n}", "dm", f"user-{n}", {}, now=T0)

    def drain(store: Store, worker: str) -> list[str]:
        claimed = []
        while (item := store.inbox_claim_next(worker, now=T0)) is not None:
            claimed.append(item.event_id)
        return claimed

    got_first, got_second = run_concurrently(
        [lambda: drain(first, "w1"), lambda: drain(second, "w2")]
    )
    assert not set(got_first) & set(got_second)
    assert sorted(got_first + got_second) == sorted(f"ev-{n}" for n in range(40))
    assert {row.state for row in inbox_rows(first)} == {"processing"}


def test_two_stores_process_in_order_per_sender(open_store: Callable[[], Store]) -> None:
    first, second = open_store(), open_store()
    senders = [f"user-{n}" for n in range(8)]
    expected: dict[str, list[str]] = {sender: [] for sender in senders}
    for round_ in range(5):  # interleaved: u0#0 u1#0 ... u7#0 u0#1 ...
        for sender in senders:
            event_id = f"{sender}#{round_}"
            first.inbox_add(event_id, "dm", sender, {"round": round_}, now=T0)
            expected[sender].append(event_id)

    lock = threading.Lock()
    in_progress: set[str] = set()
    seen: dict[str, list[str]] = {sender: [] for sender in senders}
    overlaps: list[str] = []

    def work(store: Store, worker: str) -> int:
        handled = 0
        while (item := store.inbox_claim_next(worker, now=T0)) is not None:
            with lock:
                if item.sender_id in in_progress:
                    overlaps.append(item.event_id)
                in_progress.add(item.sender_id)
                seen[item.sender_id].append(item.event_id)
            with lock:
                in_progress.discard(item.sender_id)
            assert store.inbox_done(item.id, now=T0)
            handled += 1
        return handled

    counts = run_concurrently([lambda: work(first, "w1"), lambda: work(second, "w2")])
    assert overlaps == []
    assert seen == expected
    assert sum(counts) == 40
    assert {row.state for row in inbox_rows(first)} == {"done"}


def test_stale_items_of_a_crashed_process_go_back_to_pending(
    open_store: Callable[[], Store],
) -> None:
    crashed = open_store()
    crashed.inbox_add("a1", "dm", "alice", {"text": "t1"}, now=T0)
    crashed.inbox_add("a2", "dm", "alice", {"text": "t2"}, now=T0)
    lost = crashed.inbox_claim_next("dead-worker", now=T0)
    assert lost.event_id == "a1"
    crashed.close()  # killed before inbox_done

    survivor = open_store()
    assert survivor.inbox_claim_next("w2", now=T0 + MINUTE) is None  # a1 still processing
    assert survivor.inbox_release_stale(older_than=T0) == 0  # claimed at T0, not before
    assert survivor.inbox_release_stale(older_than=T0 + 5 * MINUTE) == 1
    again = survivor.inbox_claim_next("w2", now=T0 + 6 * MINUTE)
    assert (again.id, again.event_id, again.payload, again.attempts) == (
        lost.id,
        "a1",
        {"text": "t1"},
        2,
    )
    survivor.inbox_done(again.id, now=T0 + 6 * MINUTE)
    assert survivor.inbox_claim_next("w2", now=T0 + 6 * MINUTE).event_id == "a2"


def test_release_stale_fails_an_item_that_keeps_crashing(store: Store) -> None:
    store.inbox_add("poison", "dm", "alice", {}, now=T0)
    store.inbox_add("next", "dm", "alice", {}, now=T0)
    max_attempts = 3
    for attempt in range(1, max_attempts + 1):
        now = T0 + attempt * 10 * MINUTE
        item = store.inbox_claim_next("w", now=now)
        assert (item.event_id, item.attempts) == ("poison", attempt)
        released = store.inbox_release_stale(now + MINUTE, max_attempts=max_attempts, now=now)
        assert released == (1 if attempt < max_attempts else 0)
    rows = {row.event_id: row for row in inbox_rows(store)}
    assert (rows["poison"].state, rows["poison"].last_error) == ("failed", "stale_max_attempts")
    assert store.inbox_claim_next("w", now=T0 + 2 * 60 * MINUTE).event_id == "next"


def test_late_worker_marks_released_item_done(open_store: Callable[[], Store]) -> None:
    slow = open_store()
    slow.inbox_add("a1", "dm", "alice", {}, now=T0)
    item = slow.inbox_claim_next("slow", now=T0)
    other = open_store()
    assert other.inbox_release_stale(older_than=T0 + 10 * MINUTE) == 1
    assert slow.inbox_done(item.id, now=T0 + 11 * MINUTE) is True  # finished after all
    assert other.inbox_claim_next("w2", now=T0 + 12 * MINUTE) is None


# Model-based test: any sequence of operations gives the results that the rules give.
inbox_ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 9), st.sampled_from(["s0", "s1", "s2"])),
        st.tuples(st.just("claim")),
        st.tuples(st.just("done"), st.integers(0, 5)),
        st.tuples(st.just("fail"), st.integers(0, 5)),
        st.tuples(st.just("release")),
    ),
    max_size=25,
)


def _send_order(model: list[dict[str, Any]], item: dict[str, Any]) -> tuple:
    """``permanence/x_store.py`` ``_outbox_order`` for replies of one class: a person who has
    had no reply yet first, then whoever has waited longest since their last reply was sent or
    this one was queued, then the older reply."""
    sent = [m["sent_at"] for m in model
            if m["recipient"] == item["recipient"] and m["state"] == "sent"]
    last_sent = max(sent, default=None)
    waiting_since = last_sent if last_sent and last_sent > item["created"] else item["created"]
    return (0 if last_sent is None else 1, waiting_since, item["id"])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=inbox_ops)
def test_inbox_matches_the_rules(store: Store, ops: list[tuple]) -> None:
    empty_tables(store)
    max_attempts = 2
    model: list[dict[str, Any]] = []  # in arrival order

    def ready(index: int) -> bool:
        item = model[index]
        same = [other for other in model if other["sender"] == item["sender"]]
        return (
            item["state"] == "pending"
            and not any(o["state"] == "processing" for o in same)
            and not any(
                o["state"] in ("pending", "processing") for o in same if o["order"] < item["order"]
            )
        )

    ids: dict[str, int] = {}
    for op in ops:
        processing = [item for item in model if item["state"] == "processing"]
        if op[0] == "add":
            event_id = f"ev-{op[1]}"
            new = all(item["event_id"] != event_id for item in model)
            if new:
                model.append(
                    {
                        "event_id": event_id,
                        "sender": op[2],
                        "state": "pending",
                        "attempts": 0,
                        "order": len(model),
                    }
                )
            assert store.inbox_add(event_id, "dm", op[2], {"e": event_id}, now=T0) is new
        elif op[0] == "claim":
            expected = next((m for i, m in enumerate(model) if ready(i)), None)
            got = store.inbox_claim_next("w", now=T0)
            if expected is None:
                assert got is None
            else:
                expected["state"] = "processing"
                expected["attempts"] += 1
                assert (got.event_id, got.attempts) == (expected["event_id"], expected["attempts"])
                ids[got.event_id] = got.id
        elif op[0] in ("done", "fail") and processing:
            target = processing[op[1] % len(processing)]
            target["state"] = "done" if op[0] == "done" else "failed"
            if op[0] == "done":
                assert store.inbox_done(ids[target["event_id"]], now=T0)
            else:
                assert store.inbox_failed(ids[target["event_id"]], "E", now=T0)
        elif op[0] == "release":
            for item in processing:
                item["state"] = "failed" if item["attempts"] >= max_attempts else "pending"
            released = sum(1 for item in processing if item["state"] == "pending")
            assert store.inbox_release_stale(T0 + MINUTE, max_attempts=max_attempts) == released
        rows = [(row.event_id, row.state, row.attempts) for row in inbox_rows(store)]
        assert rows == [(m["event_id"], m["state"], m["attempts"]) for m in model]


# --------------------------------------------------------------------- outbox


def test_outbox_seq_increases_per_recipient(open_store: Callable[[], Store]) -> None:
    store = open_store()
    store.outbox_enqueue("alice", "m1", now=T0)
    store.outbox_enqueue("bob", "m2", now=T0)
    store.outbox_enqueue("alice", "m3", now=T0, conversation_key="conv-42")
    store.close()
    restarted = open_store()
    restarted.outbox_enqueue("alice", "m4", now=T0)
    rows = [(r.recipient_id, r.seq, r.text, r.conversation_key) for r in outbox_rows(restarted)]
    assert rows == [
        ("alice", 1, "m1", "alice"),
        ("bob", 1, "m2", "bob"),
        ("alice", 2, "m3", "conv-42"),
        ("alice", 3, "m4", "alice"),
    ]
    assert restarted.outbox_pending_count() == 4


def test_outbox_failing_first_reply_blocks_only_its_recipient(store: Store) -> None:
    a1 = store.outbox_enqueue("alice", "a1", now=T0)
    a2 = store.outbox_enqueue("alice", "a2", now=T0)
    b1 = store.outbox_enqueue("bob", "b1", now=T0)

    first = store.outbox_next_due(now=T0)
    assert (first.id, first.text, first.attempts) == (a1, "a1", 1)
    retry_at = T0 + backoff_delay(first.attempts)
    assert store.outbox_retry(a1, at=retry_at, error_code=503)

    # alice's second reply waits behind her first; bob is not blocked.
    second = store.outbox_next_due(now=T0)
    assert second.id == b1
    assert store.outbox_sent(b1, external_id="dm-900", now=T0)
    assert store.outbox_next_due(now=T0) is None
    assert store.outbox_next_due(now=retry_at - timedelta(seconds=1)) is None

    again = store.outbox_next_due(now=retry_at)
    assert (again.id, again.attempts, again.last_error_code) == (a1, 2, "503")
    assert store.outbox_failed_permanent(a1, error_code=403)  # permanent: unblocks a2
    assert store.outbox_next_due(now=retry_at).id == a2
    assert store.outbox_sent(a2, external_id="dm-901", now=retry_at)

    assert store.outbox_next_due(now=retry_at + 60 * MINUTE) is None  # 403 is never retried
    assert store.outbox_pending_count() == 0
    states = {row.text or row.external_id: row.state for row in outbox_rows(store)}
    assert states == {"a1": "failed_permanent", "dm-900": "sent", "dm-901": "sent"}


def test_outbox_rate_limit_waits_until_reset(store: Store) -> None:
    item_id = store.outbox_enqueue("alice", "hello", now=T0)
    store.outbox_next_due(now=T0)
    reset = T0 + 15 * MINUTE
    store.outbox_retry(item_id, at=reset, error_code=429)
    assert store.outbox_next_due(now=reset - timedelta(seconds=1)) is None
    due = store.outbox_next_due(now=reset)
    assert (due.id, due.last_error_code) == (item_id, "429")


def test_outbox_sent_clears_text_and_is_final(store: Store) -> None:
    item_id = store.outbox_enqueue("alice", "Votre question concerne", now=T0)
    store.outbox_next_due(now=T0)
    assert store.outbox_sent(item_id, external_id="dm-1", now=T0 + MINUTE)
    row = store.outbox_get(item_id)
    assert (row.state, row.text) == ("sent", None)
    assert store.outbox_sent(item_id, external_id="dm-2") is False
    assert store.outbox_retry(item_id, at=T0, error_code=503) is False
    assert store.outbox_failed_permanent(item_id, error_code=403) is False
    assert outbox_rows(store)[0].external_id == "dm-1"


def test_outbox_reservation_survives_a_crash(open_store: Callable[[], Store]) -> None:
    crashed = open_store()
    item_id = crashed.outbox_enqueue("alice", "hello", now=T0)
    crashed.outbox_enqueue("alice", "second", now=T0)
    assert crashed.outbox_next_due(now=T0, hold_seconds=120).id == item_id
    crashed.close()  # killed while sending

    other = open_store()
    assert other.outbox_next_due(now=T0 + MINUTE) is None  # reserved; "second" waits behind it
    again = other.outbox_next_due(now=T0 + 2 * MINUTE)
    assert (again.id, again.attempts, again.text) == (item_id, 2, "hello")


def test_two_stores_never_reserve_the_same_reply(open_store: Callable[[], Store]) -> None:
    first, second = open_store(), open_store()
    expected = {first.outbox_enqueue(f"user-{n}", f"m{n}", now=T0) for n in range(30)}

    def drain(store: Store) -> list[int]:
        got = []
        while (item := store.outbox_next_due(now=T0)) is not None:
            got.append(item.id)
        return got

    got_first, got_second = run_concurrently([lambda: drain(first), lambda: drain(second)])
    assert not set(got_first) & set(got_second)
    assert set(got_first) | set(got_second) == expected


@pytest.mark.parametrize("attempts", [1, 2, 3, 6, 12, 100, 10_000])
def test_backoff_doubles_up_to_the_cap(attempts: int) -> None:
    base, cap = 5.0, 3600.0
    expected = cap
    if attempts < 60:
        expected = min(base * 2 ** (attempts - 1), cap)
    assert backoff_delay(attempts, base, cap) == timedelta(seconds=expected)
    if attempts > 1:
        assert backoff_delay(attempts, base, cap) >= backoff_delay(attempts - 1, base, cap)


outbox_ops = st.lists(
    st.one_of(
        st.tuples(st.just("enqueue"), st.sampled_from(["r0", "r1", "r2"])),
        st.tuples(st.just("due")),
        st.tuples(st.just("tick"), st.integers(1, 200)),
        st.tuples(st.just("sent"), st.integers(0, 5)),
        st.tuples(st.just("retry"), st.integers(0, 5), st.integers(0, 300)),
        st.tuples(st.just("fail"), st.integers(0, 5)),
    ),
    max_size=25,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=outbox_ops)
def test_outbox_matches_the_rules(store: Store, ops: list[tuple]) -> None:
    empty_tables(store)
    hold = 60
    now = T0
    model: list[dict[str, Any]] = []  # in enqueue order
    in_flight: list[dict[str, Any]] = []  # returned by next_due, outcome not reported yet
    for op in ops:
        if op[0] == "enqueue":
            seq = 1 + sum(1 for m in model if m["recipient"] == op[1])
            item_id = store.outbox_enqueue(op[1], f"text-{len(model)}", now=now)
            model.append({"id": item_id, "recipient": op[1], "seq": seq, "state": "pending",
                          "at": now, "created": now, "sent_at": None})
        elif op[0] == "tick":
            now += timedelta(seconds=op[1])
        elif op[0] == "due":
            due = [
                m
                for m in model
                if m["state"] == "pending"
                and m["at"] <= now
                and not any(
                    o["state"] == "pending" and o["seq"] < m["seq"]
                    for o in model
                    if o["recipient"] == m["recipient"]
                )
            ]
            expected = min(due, key=lambda m: _send_order(model, m), default=None)
            got = store.outbox_next_due(now=now, hold_seconds=hold)
            if expected is None:
                assert got is None
            else:
                assert (got.id, got.recipient_id, got.seq) == (
                    expected["id"],
                    expected["recipient"],
                    expected["seq"],
                )
                expected["at"] = now + timedelta(seconds=hold)
                if expected not in in_flight:
                    in_flight.append(expected)
        elif in_flight:
            target = in_flight.pop(op[1] % len(in_flight))
            if op[0] == "sent":
                target["state"] = "sent"
                target["sent_at"] = now
                assert store.outbox_sent(target["id"], external_id="x", now=now)
            elif op[0] == "retry":
                target["at"] = now + timedelta(seconds=op[2])
                assert store.outbox_retry(target["id"], at=target["at"], error_code=503)
            else:
                target["state"] = "failed_permanent"
                assert store.outbox_failed_permanent(target["id"], error_code=403)
        rows = [(r.id, r.seq, r.state, r.next_attempt_at) for r in outbox_rows(store)]
        assert rows == [(m["id"], m["seq"], m["state"], m["at"]) for m in model]
        pending = sum(1 for m in model if m["state"] == "pending")
        assert store.outbox_pending_count() == pending


# -------------------------------------------------------------------- cursors


def test_cursor_persists_across_stores(open_store: Callable[[], Store]) -> None:
    store = open_store()
    assert store.cursor_get("mentions.since_id") is None
    store.cursor_set("mentions.since_id", "1890000000000000001", now=T0)
    store.cursor_set("mentions.next_token", "tok-2", now=T0)
    store.cursor_set("mentions.since_id", "1890000000000000007", now=T0 + MINUTE)
    store.close()
    restarted = open_store()
    assert restarted.cursor_get("mentions.since_id") == "1890000000000000007"
    assert restarted.cursor_get("mentions.next_token") == "tok-2"
    restarted.cursor_set("mentions.next_token", None, now=T0 + 2 * MINUTE)
    assert restarted.cursor_get("mentions.next_token") is None
    with restarted.engine.connect() as connection:
        updated = connection.execute(
            select(x_cursor.c.updated_at).where(x_cursor.c.name == "mentions.since_id")
        ).scalar_one()
    assert updated.replace(tzinfo=timezone.utc) == T0 + MINUTE


def test_events_and_cursor_are_stored_together(store: Store) -> None:
    store.cursor_set("mentions.since_id", "100", now=T0)
    batch = [
        InboxEvent("t-101", "tweet", "alice", {"id": "101"}),
        InboxEvent("t-102", "tweet", "bob", {"id": "102"}),
    ]
    assert store.inbox_add_many(batch, now=T0, cursor=("mentions.since_id", "102")) == [True, True]
    # The same page polled again after a restart: nothing new, cursor unchanged.
    again = store.inbox_add_many(batch, now=T0, cursor=("mentions.since_id", "102"))
    assert again == [False, False]
    assert store.cursor_get("mentions.since_id") == "102"

    # A batch that cannot be stored entirely leaves neither its events nor the cursor behind.
    broken = [
        InboxEvent("t-103", "tweet", "carol", {"id": "103"}),
        InboxEvent("t-104", "tweet", "dave", {"id": object()}),  # not JSON-serialisable
    ]
    with pytest.raises(TypeError):
        store.inbox_add_many(broken, now=T0, cursor=("mentions.since_id", "104"))
    assert store.cursor_get("mentions.since_id") == "102"
    assert [row.event_id for row in inbox_rows(store)] == ["t-101", "t-102"]


# ---------------------------------------------------------------------- lease


def test_lease_exclusive_renewed_and_taken_over(open_store: Callable[[], Store]) -> None:
    a, b = open_store(), open_store()
    ttl = 30
    sec = timedelta(seconds=1)
    assert a.lease_acquire("poller", "proc-a", ttl, now=T0)
    assert not b.lease_acquire("poller", "proc-b", ttl, now=T0 + 10 * sec)
    assert a.lease_acquire("poller", "proc-a", ttl, now=T0 + 20 * sec)  # renewed to T0+50s
    assert not b.lease_acquire("poller", "proc-b", ttl, now=T0 + 40 * sec)
    assert b.lease_holder("poller", now=T0 + 49 * sec) == "proc-a"
    assert b.lease_holder("poller", now=T0 + 50 * sec) is None  # expired
    assert b.lease_acquire("poller", "proc-b", ttl, now=T0 + 50 * sec)  # taken over
    assert not a.lease_acquire("poller", "proc-a", ttl, now=T0 + 55 * sec)
    assert a.lease_acquire("other-job", "proc-a", ttl, now=T0 + 55 * sec)  # leases are per name

    assert a.lease_release("poller", "proc-a") is False  # not the holder
    assert b.lease_holder("poller", now=T0 + 56 * sec) == "proc-b"
    assert b.lease_release("poller", "proc-b") is True
    assert a.lease_acquire("poller", "proc-a", ttl, now=T0 + 57 * sec)


@pytest.mark.parametrize("expired_first", [False, True])
def test_lease_concurrent_acquire_has_one_winner(
    open_store: Callable[[], Store], expired_first: bool
) -> None:
    stores = [open_store() for _ in range(4)]
    now = T0
    if expired_first:
        stores[0].lease_acquire("poller", "old", 10, now=T0 - MINUTE)
    results = run_concurrently(
        [
            lambda s=s, i=i: s.lease_acquire("poller", f"proc-{i}", 30, now=now)
            for i, s in enumerate(stores)
        ]
    )
    assert sorted(results) == [False, False, False, True]
    winner = f"proc-{results.index(True)}"
    assert stores[0].lease_holder("poller", now=now) == winner


# ---------------------------------------------------------------- invitations


def test_invitation_at_most_once_per_period(store: Store) -> None:
    period = timedelta(days=30)
    assert store.invitation_allowed("alice", now=T0, period=period)
    assert not store.invitation_allowed("alice", now=T0 + timedelta(days=1), period=period)
    assert store.invitation_allowed("bob", now=T0 + timedelta(days=1), period=period)
    # A refusal does not move the start of the period.
    assert not store.invitation_allowed("alice", now=T0 + period - MINUTE, period=period)
    assert store.invitation_allowed("alice", now=T0 + period, period=period)
    assert not store.invitation_allowed("alice", now=T0 + period + MINUTE, period=period)
    with store.engine.connect() as connection:
        rows = dict(connection.execute(select(x_invitation.c.author_id,
                                              x_invitation.c.last_invited_at)).all())
    assert {k: v.replace(tzinfo=timezone.utc) for k, v in rows.items()} == {
        "alice": T0 + period,
        "bob": T0 + timedelta(days=1),
    }


def test_invitation_concurrent_requests_have_one_winner(open_store: Callable[[], Store]) -> None:
    stores = [open_store() for _ in range(4)]
    results = run_concurrently(
        [
            lambda s=s: s.invitation_allowed("alice", now=T0, period=timedelta(days=30))
            for s in stores
        ]
    )
    assert sorted(results) == [False, False, False, True]


# --------------------------------------------------------- erasure, retention


def test_erase_person_removes_everything_about_them(store: Store) -> None:
    store.inbox_add("a1", "dm", "alice", {"text": "x"}, now=T0)
    store.inbox_add("b1", "dm", "bob", {"text": "y"}, now=T0)
    store.outbox_enqueue("alice", "reply", now=T0)
    store.outbox_enqueue("bob", "reply", now=T0)
    store.invitation_allowed("alice", now=T0)
    assert store.erase_person("alice") == 3
    assert [row.sender_id for row in inbox_rows(store)] == ["bob"]
    assert [row.recipient_id for row in outbox_rows(store)] == ["bob"]
    assert store.invitation_allowed("alice", now=T0)  # no trace of the earlier invitation


def test_prune_keeps_unfinished_work(store: Store) -> None:
    for event_id, sender in (("a1", "alice"), ("b1", "bob"), ("c1", "carol")):
        store.inbox_add(event_id, "dm", sender, {}, now=T0)
    a1 = store.inbox_claim_next("w", now=T0)
    b1 = store.inbox_claim_next("w", now=T0)
    store.inbox_done(a1.id, now=T0)
    store.inbox_done(b1.id, now=T0 + 10 * MINUTE)
    sent = store.outbox_enqueue("alice", "r1", now=T0)
    store.outbox_enqueue("bob", "r2", now=T0)
    store.outbox_next_due(now=T0)
    store.outbox_sent(sent, external_id="dm-1", now=T0)

    assert store.prune(before=T0 + 5 * MINUTE) == 2  # a1 and the sent reply
    assert [row.event_id for row in inbox_rows(store)] == ["b1", "c1"]
    assert [row.text for row in outbox_rows(store)] == ["r2"]
    # A pruned event is no longer a duplicate: prune only well beyond X's redelivery window.
    assert store.inbox_add("a1", "dm", "alice", {}, now=T0 + 60 * MINUTE) is True


def test_encrypted_chats_are_counted_once_and_pruned_with_retention(
        open_store: Callable[[], Store]) -> None:
    store, other_process = open_store(), open_store()
    assert store.chat_received_add(["chat:a", "chat:b", "chat:a"], now=T0) == [True, True, False]
    assert other_process.chat_received_add(["chat:b", "chat:c"], now=T0 + 10 * MINUTE) == [
        False, True]
    assert store.chat_received_count() == 3
    assert store.chat_received_count(since=T0 + MINUTE) == 1
    store.prune(before=T0 + 5 * MINUTE)
    assert store.chat_received_count() == 1
