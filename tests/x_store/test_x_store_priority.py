"""The outbox's send order and the shared DM budget (permanence/x_store.py, x_budget.py).

Order: the lawyer's replies, then a first answer to a person who has had none (P0
conversations first), then the others (P0 conversations first), each group by longest wait;
one person's replies never reordered. Budget: one
DM of it spent with each reply handed out, nothing handed out while it is spent, shared by
every Store (process) on the database. Time is passed explicitly, never slept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from permanence.priority import LAWYER, NORMAL, URGENT
from permanence.x_store import Store
from tests.x_store.legacy import legacy_store

T0 = datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc)
S = timedelta(seconds=1)
BUDGET = "dm_send"


def x_headers(remaining: int, reset: datetime, limit: int = 15) -> dict[str, str]:
    return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(reset.timestamp()))}


def drain(store: Store, now: datetime = T0) -> list[str]:
    """Send everything due, one at a time, and return the texts in the order handed out."""
    sent = []
    while (item := store.outbox_next_due(now=now)) is not None:
        sent.append(item.text)
        store.outbox_sent(item.id, f"dm-{item.id}", now=now)
        now += S
    return sent


def test_lawyer_then_p0_then_first_answers_then_the_rest(store: Store) -> None:
    store.outbox_enqueue("old", "old-0", now=T0 - 60 * S)
    assert drain(store, T0 - 60 * S) == ["old-0"]  # "old" has had an answer
    store.outbox_enqueue("old", "old-1", now=T0)
    store.outbox_enqueue("new", "new-1", now=T0 + S)
    store.outbox_enqueue("p0", "p0-1", now=T0 + 2 * S, priority=URGENT)
    store.outbox_enqueue("client", "lawyer-1", now=T0 + 3 * S, priority=LAWYER)
    assert drain(store, T0 + 10 * S) == ["lawyer-1", "p0-1", "new-1", "old-1"]


def test_a_first_answer_goes_before_a_p0_conversations_next_message(store: Store) -> None:
    """At 15 DMs a window, P0 triages of five DMs each would otherwise hold the newcomers
    without any answer for more than a window (issue #15: ceil(N/15) windows)."""
    store.outbox_enqueue("urgent", "urgent-0", now=T0 - 60 * S, priority=URGENT)
    store.outbox_enqueue("calm", "calm-0", now=T0 - 59 * S)
    assert drain(store, T0 - 50 * S) == ["urgent-0", "calm-0"]
    store.outbox_enqueue("urgent", "urgent-1", now=T0, priority=URGENT)
    store.outbox_enqueue("calm", "calm-1", now=T0)
    store.outbox_enqueue("new", "new-0", now=T0 + S)
    store.outbox_enqueue("new-p0", "new-p0-0", now=T0 + 2 * S, priority=URGENT)
    store.outbox_enqueue("client", "lawyer", now=T0 + 3 * S, priority=LAWYER)
    assert drain(store, T0 + 10 * S) == ["lawyer", "new-p0-0", "new-0", "urgent-1", "calm-1"]


def test_the_lawyers_reply_pulls_the_persons_earlier_replies_forward_in_order(
        store: Store) -> None:
    store.outbox_enqueue("other", "other-1", now=T0)
    store.outbox_enqueue("client", "assistant-1", now=T0 + S)
    store.outbox_enqueue("client", "assistant-2", now=T0 + S)
    store.outbox_enqueue("client", "lawyer", now=T0 + 2 * S, priority=LAWYER)
    assert drain(store, T0 + 10 * S) == ["assistant-1", "assistant-2", "lawyer", "other-1"]


def test_fair_across_people_in_order_for_each(store: Store) -> None:
    for person in ("a", "b", "c"):
        for index in range(3):
            store.outbox_enqueue(person, f"{person}{index}", now=T0)
    assert drain(store, T0 + S) == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]


_examples = iter(range(10**9))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from([LAWYER, URGENT, NORMAL])),
                min_size=1, max_size=20))
def test_each_reply_goes_in_its_persons_order_and_the_most_urgent_person_first(
        store: Store, queued: list[tuple[str, int]]) -> None:
    example = next(_examples)  # each example's people are new (earlier ones are drained)
    pending: dict[str, list[int]] = {}
    answered: set[str] = set()
    for person, klass in queued:
        who = f"{example}-{person}"
        store.outbox_enqueue(who, "m", now=T0, priority=klass)
        pending.setdefault(who, []).append(klass)

    def rank(who: str) -> tuple[int, int, int]:  # _outbox_order, before the longest wait
        urgency = min(pending[who])
        return (urgency != LAWYER, who in answered, urgency)

    now = T0 + S
    while (item := store.outbox_next_due(now=now)) is not None:
        who = item.recipient_id
        assert rank(who) == min(rank(other) for other, classes in pending.items() if classes)
        assert item.priority == pending[who][0]  # the person's oldest pending reply
        pending[who].pop(0)
        answered.add(who)
        store.outbox_sent(item.id, None, now=now)
        now += S
    assert not any(pending.values())


def test_nothing_is_handed_out_while_the_budget_is_spent(open_store: Callable[[], Store]
                                                          ) -> None:
    one, two = open_store(), open_store()  # two processes
    for index in range(4):
        one.outbox_enqueue(f"p{index}", f"m{index}", now=T0)
    reset = T0 + 15 * S
    one.budget_observe(BUDGET, x_headers(2, reset), now=T0, status=201)
    first = one.outbox_next_due(now=T0, budget=BUDGET)
    second = two.outbox_next_due(now=T0, budget=BUDGET)
    assert first is not None and second is not None
    assert one.outbox_next_due(now=T0, budget=BUDGET) is None
    assert two.outbox_next_due(now=T0 + 5 * S, budget=BUDGET) is None
    assert two.budget_blocked_until(BUDGET, now=T0 + 5 * S) == reset + S
    assert one.budget_get(BUDGET).left(T0) == 0
    # The answers come back: they say 1 then 0 left, nothing is raised.
    one.budget_observe(BUDGET, x_headers(1, reset), now=T0 + S, status=201)
    assert one.outbox_next_due(now=T0 + S, budget=BUDGET) is None
    # After the reset and the margin, the next window opens.
    assert one.outbox_next_due(now=reset, budget=BUDGET) is None
    third = one.outbox_next_due(now=reset + S, budget=BUDGET)
    assert third is not None and third.id not in (first.id, second.id)
    assert one.budget_get(BUDGET).left(reset + S) == 14


def test_paced_replies_leave_the_window_to_newcomers_and_the_lawyer(store: Store) -> None:
    """``pace_burst``: a reply to someone already answered waits while the window is spent
    faster than its average rate (x_budget.Budget.paced_until); a newcomer's first answer and
    the lawyer's reply do not."""
    reset = T0 + 900 * S
    store.budget_observe(BUDGET, x_headers(11, reset), now=T0, status=201)  # 4 sent, a burst of 3
    store.outbox_enqueue("a", "a-0", now=T0 - S)
    assert store.outbox_next_due(now=T0) is not None  # (sent outside the budget's count)
    store.outbox_sent(1, "dm-a0", now=T0)
    store.outbox_enqueue("a", "a-1", now=T0)
    take = lambda at: store.outbox_next_due(now=at, budget=BUDGET, pace_burst=0)  # noqa: E731
    assert take(T0 + S) is None  # 4 sent, 1 s into the window: paced until 60 s
    store.outbox_enqueue("b", "b-0", now=T0 + S)
    first = take(T0 + 2 * S)
    assert first is not None and first.text == "b-0"  # a first answer is never paced
    store.outbox_sent(first.id, "dm-b0", now=T0 + 2 * S)
    store.outbox_enqueue("c", "lawyer", now=T0 + 3 * S, priority=LAWYER)
    store.outbox_enqueue("c", "c-after", now=T0 + 3 * S)
    lawyer = take(T0 + 3 * S)
    assert lawyer is not None and lawyer.text == "lawyer"
    store.outbox_sent(lawyer.id, "dm-c", now=T0 + 3 * S)
    assert take(T0 + 150 * S) is None  # 3 sent: paced until 180 s
    assert take(T0 + 181 * S).text == "a-1"  # then the longest wait
    unpaced = store.outbox_next_due(now=T0 + 182 * S, budget=BUDGET)
    assert unpaced is not None and unpaced.text == "c-after"


def test_a_budget_spent_with_nothing_to_send_spends_nothing(store: Store) -> None:
    store.budget_observe(BUDGET, x_headers(5, T0 + 15 * S), now=T0, status=201)
    assert store.outbox_next_due(now=T0, budget=BUDGET) is None
    assert store.budget_get(BUDGET).left(T0) == 5


def test_budget_status_for_the_desk(store: Store) -> None:
    store.budget_observe(BUDGET, x_headers(1, T0 + 15 * S), now=T0, status=201)
    for person in ("a", "a", "b"):
        store.outbox_enqueue(person, "m", now=T0)
    status = store.budget_status(BUDGET, now=T0 + 5 * S)
    assert (status["dms_left"], status["limit"]) == (1, 15)
    assert status["waiting"]["pending"] == 3 and status["waiting"]["people"] == 2
    assert status["waiting"]["oldest_waiting_seconds"] == 5
    assert status["estimated_wait_seconds"] == 11  # the reset + 1 s margin, 10 s from now


def test_an_older_store_gets_the_priority_column_in_place(store_url: str) -> None:
    legacy_store(store_url, without=("x_outbox.priority",))  # the previous version's schema
    engine = create_engine(store_url, future=True)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO x_outbox (recipient_id, conversation_key, seq, text, state, attempts, "
            "next_attempt_at, created_at) VALUES ('alice', 'alice', 1, "
            "'queued before the upgrade', 'pending', 0, '2026-01-05 09:00:00', "
            "'2026-01-05 09:00:00')"))
        item_id = connection.execute(text("SELECT id FROM x_outbox")).scalar_one()
    engine.dispose()
    upgraded = Store.create(store_url)
    again = Store.create(store_url)  # idempotent
    assert upgraded.outbox_get(item_id).priority == NORMAL
    upgraded.outbox_enqueue("bob", "lawyer", now=T0 + S, priority=LAWYER)
    assert drain(upgraded, T0 + 2 * S) == ["lawyer", "queued before the upgrade"]
    upgraded.close()
    again.close()


def test_an_unknown_priority_is_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        store.outbox_enqueue("alice", "m", priority=7)


def test_what_goes_ahead_of_a_new_reply_and_a_text_replaced_before_sending(store: Store
                                                                           ) -> None:
    for person in ("c", "e"):  # answered already: their next replies wait behind newcomers
        store.outbox_enqueue(person, "hello", now=T0 - 60 * S)
    assert len(drain(store, T0 - 60 * S)) == 2
    first = store.outbox_enqueue("a", "m1", now=T0)
    store.outbox_enqueue("a", "m1 bis", now=T0)
    store.outbox_enqueue("b", "m2", now=T0)
    store.outbox_enqueue("b", "m2 bis", now=T0)  # b's first answer only goes before a's next
    store.outbox_enqueue("c", "m3", now=T0, priority=URGENT)
    store.outbox_enqueue("d", "m4", now=T0, priority=LAWYER)
    store.outbox_enqueue("e", "m5", now=T0)
    # d (the lawyer's), b's first answer, c (P0, answered), a's own second, e (answered)
    assert store.outbox_ahead(first, NORMAL) == 5
    assert store.outbox_ahead(first, URGENT) == 4  # all but e (answered, not P0)
    assert store.outbox_set_text(first, "m1 + link")
    assert store.outbox_get(first).text == "m1 + link"
    store.outbox_sent(first, "dm-1", now=T0)
    assert not store.outbox_set_text(first, "again")  # sent: its text is gone for good
    assert store.outbox_get(first).text is None
    assert store.outbox_ahead(first, NORMAL) == 5
