"""The DM budget as X's headers report it (permanence/x_budget.py): pure, time passed in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from permanence.x_budget import (
    FALLBACK_SECONDS,
    RATE,
    Budget,
    parse_windows,
)

T0 = datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc)
S = timedelta(seconds=1)


def headers(limit: int, remaining: int, reset: datetime, family: str = RATE) -> dict[str, str]:
    return {f"{family}-limit": str(limit), f"{family}-remaining": str(remaining),
            f"{family}-reset": str(int(reset.timestamp()))}


def known(remaining: int, reset: datetime = T0 + 15 * S, limit: int = 15,
          now: datetime = T0) -> Budget:
    return Budget().observe(headers(limit, remaining, reset), now, 201)


def test_unknown_budget_lets_one_probe_out_and_any_answer_ends_it() -> None:
    empty = Budget()
    probing = empty.take(T0)
    assert probing is not None and probing.windows == ()
    assert probing.take(T0) is None  # a second request waits for the probe's answer
    assert probing.blocked_until(T0) == probing.probing_until
    assert probing.spent_until(T0) is None  # a probe is not a spent window
    assert probing.observe({}, T0 + S, None).take(T0 + S) is not None  # no answer: next probe
    assert probing.observe({}, T0 + S, 503).take(T0 + S) is not None  # no headers either
    answered = probing.observe(headers(15, 14, T0 + 15 * S), T0 + S, 201)
    assert answered.probing_until is None and answered.left(T0 + S) == 14


def test_take_spends_before_sending_and_refuses_a_spent_window() -> None:
    budget = known(2)
    budget = budget.take(T0)
    assert budget.left(T0) == 1
    budget = budget.take(T0)
    assert budget.left(T0) == 0
    assert budget.take(T0) is None
    assert budget.take(T0 + 15 * S) is None  # the reset, but not the margin past it
    assert budget.spent_until(T0) == T0 + 16 * S
    renewed = budget.take(T0 + 16 * S)
    assert renewed is not None and renewed.left(T0 + 16 * S) == 14


def test_a_late_header_never_raises_what_was_reserved() -> None:
    budget = known(10).take(T0).take(T0).take(T0)  # three in flight: 7 left
    budget = budget.observe(headers(15, 9, T0 + 15 * S), T0 + S, 201)  # the first answers
    assert budget.left(T0 + S) == 7
    budget = budget.observe(headers(15, 5, T0 + 15 * S), T0 + S, 201)  # another client spent
    assert budget.left(T0 + S) == 5


def test_a_429_spends_the_window_until_its_reset() -> None:
    budget = known(10).observe(headers(15, 0, T0 + 30 * S), T0 + S, 429)
    assert budget.take(T0 + 2 * S) is None
    assert budget.spent_until(T0 + 2 * S) == T0 + 31 * S


def test_a_429_that_ends_sooner_than_the_known_window_is_taken_as_x_says() -> None:
    budget = known(10, reset=T0 + 900 * S).observe(headers(15, 0, T0 + 30 * S), T0 + S, 429)
    assert budget.spent_until(T0 + 2 * S) == T0 + 31 * S
    renewed = budget.take(T0 + 31 * S)
    assert renewed is not None and renewed.left(T0 + 31 * S) == 14


def test_a_429_without_headers_waits_the_fallback() -> None:
    budget = known(10).observe({}, T0, 429)
    assert budget.spent_until(T0) == T0 + timedelta(seconds=FALLBACK_SECONDS) + S


def test_a_429_whose_headers_show_room_still_waits() -> None:
    budget = known(10).observe(headers(15, 3, T0 + 15 * S), T0 + S, 429)
    assert budget.take(T0 + 2 * S) is None


def test_the_24_hour_window_blocks_too() -> None:
    reply = {**headers(15, 10, T0 + 15 * S),
             **headers(1440, 0, T0 + 1440 * S, "x-user-limit-24hour")}
    budget = Budget().observe(reply, T0, 201)
    assert budget.take(T0 + 20 * S) is None
    assert budget.spent_until(T0 + 20 * S) == T0 + 1441 * S


def test_the_period_is_learnt_and_used_for_the_next_window() -> None:
    budget = known(14, reset=T0 + 15 * S)
    assert budget.period_seconds == 15
    renewed = budget.take(T0 + 20 * S)
    rate = renewed.windows[0]
    assert rate.estimated and rate.reset == T0 + 35 * S


def test_estimated_wait() -> None:
    budget = known(3, reset=T0 + 15 * S)
    assert Budget().estimated_wait(5, T0) is None
    assert budget.estimated_wait(0, T0) == 0
    assert budget.estimated_wait(3, T0) == 0
    assert budget.estimated_wait(4, T0) == 16  # the reset, plus the margin
    assert budget.estimated_wait(18, T0) == 16
    assert budget.estimated_wait(19, T0) == 16 + 15


def test_describe_and_json_round_trip() -> None:
    budget = known(4).take(T0)
    again = Budget.from_json(budget.to_json())
    assert again == budget
    view = again.describe(T0)
    assert (view["known"], view["dms_left"], view["limit"]) == (True, 3, 15)
    assert view["next_reset"] == (T0 + 15 * S).isoformat()


def test_parse_windows_ignores_missing_or_malformed_headers() -> None:
    assert parse_windows({"x-rate-limit-limit": "15"}) == []
    assert parse_windows({"X-Rate-Limit-Limit": "15", "X-Rate-Limit-Remaining": "2",
                          "X-Rate-Limit-Reset": "nan"}) == []
    [window] = parse_windows({"X-Rate-Limit-Limit": "15", "X-Rate-Limit-Remaining": "2",
                              "X-Rate-Limit-Reset": str(int((T0 + 9 * S).timestamp()))})
    assert (window.limit, window.remaining, window.reset) == (15, 2, T0 + 9 * S)


@given(st.lists(st.sampled_from(["take", "answer", "later"]), max_size=60),
       st.integers(min_value=1, max_value=15))
def test_never_more_sends_in_a_window_than_x_allows(steps: list[str], limit: int) -> None:
    """Against a model of X (a fixed window): with every send reserved by take() and every
    answer observed, no send is ever refused for a spent window."""
    now, start, used = T0, T0, 0
    budget, in_flight = Budget(), []
    for step in steps:
        if step == "later":
            now += 7 * S
        if step == "take":
            after = budget.take(now)
            if after is not None:
                budget = after
                if now >= start + 15 * S:  # X opens a window at the first request after one
                    start, used = now, 0
                assert used < limit  # X accepts it
                used += 1
                in_flight.append(headers(limit, limit - used, start + 15 * S))
        elif step == "answer" and in_flight:
            budget = budget.observe(in_flight.pop(0), now, 201)


def paced_window(sent: int, opened: datetime = T0, limit: int = 15) -> Budget:
    """A 15-minute window opened at ``opened`` (its length learnt), ``sent`` DMs spent."""
    reset = opened + 900 * S
    budget = Budget().observe(headers(limit, limit - 1, reset), opened, 201)
    for _ in range(sent - 1):
        budget = budget.take(opened)
    return budget


def test_the_pace_lets_a_burst_go_then_one_dm_per_limit_th_of_the_window() -> None:
    assert paced_window(1).period_seconds == 900
    assert paced_window(2).paced_until(T0, burst=3) is None  # within the burst
    third = paced_window(3)
    assert third.paced_until(T0, burst=3) == T0  # the burst is spent: not at the same second
    assert third.paced_until(T0 + S, burst=3) is None
    tenth = paced_window(10)  # 10 sent: 10 < 3 + 15 × elapsed / 900 from 420 s on
    assert tenth.paced_until(T0 + 60 * S, burst=3) == T0 + 420 * S
    assert tenth.paced_until(T0 + 421 * S, burst=3) is None
    assert paced_window(14).paced_until(T0 + 600 * S, burst=3) == T0 + 660 * S


def test_a_large_window_paces_beyond_a_fifth_of_its_limit() -> None:
    assert paced_window(39, limit=200).paced_until(T0 + S, burst=3) is None
    assert paced_window(41, limit=200).paced_until(T0 + S, burst=3) == T0 + 4.5 * S


def test_no_pace_without_a_known_window_or_after_its_reset() -> None:
    assert Budget().paced_until(T0, burst=0) is None
    assert paced_window(10).paced_until(T0 + 901 * S, burst=3) is None
