"""The live hour's pure parts (bench/live_hour.py): who plays which scenario, the overflow
link, and what a run records, in live seconds. (The figures of a real run are measured by
``make bench``, never asserted.)"""

from __future__ import annotations

from types import SimpleNamespace

from bench.drive import Dm
from bench.live_hour import (
    LAWYER_TEXT,
    Lawyer,
    Person,
    Plan,
    answered_at,
    cast,
    overflow_link,
    records,
)
from tests.scenarios import suite


def test_the_cast_is_drawn_from_the_suite_with_p0_people_and_a_seed():
    scenarios = suite.load()
    plan = Plan(people=40, p0_every=4, seed=15)
    chosen = cast(plan, scenarios)
    assert len(chosen) == 40 and chosen == cast(plan, scenarios)
    assert [s["expect"]["tier"] == "P0" for s in chosen[:4]] == [False, True, False, False]
    assert sum(s["expect"]["tier"] == "P0" for s in chosen) == 10
    assert len({s["id"] for s in chosen}) == 40  # 13 P0 and 36 others: no one twice yet
    assert cast(Plan(people=40, seed=16), scenarios) != chosen
    many = cast(Plan(people=100, p0_every=4), scenarios)
    assert len({s["id"] for s in many}) == len(scenarios)  # the lists are cycled


def test_the_overflow_link_is_recognised():
    assert overflow_link("Continuez ici : https://cabinet.example/chat?continue=abc.def")
    assert not overflow_link("Je vous réponds ici.")


def test_records_in_live_seconds_without_x_ids():
    plan = Plan(people=2, time_scale=60)
    scenario = {"id": "s1", "expect": {"tier": "P0"}}
    people = [Person(0, "1001", scenario, wrote_at=100.0, messages=3, ended="handover"),
              Person(1, "1002", {"id": "s2", "expect": {"tier": "P2"}}, wrote_at=101.0)]
    received = {"1001": [Dm(1, "bonjour", 100.5), Dm(2, "merci", 102.0),
                         Dm(3, LAWYER_TEXT, 110.0)]}
    watcher = SimpleNamespace(dms=lambda who: received.get(who, []), received=received)
    lawyer = Lawyer(seen_at={7: 105.0, 8: 200.0}, conversation_of={7: "x:1001", 8: "x:1002"})
    rows, sends, waits = records(plan, people, watcher, lawyer, start=100.0, end=160.0)
    assert rows[0] == {"index": 0, "scenario": "s1", "p0": True, "arrived_at": 0.0,
                       "first_reply_at": 30.0, "first_ready_at": None, "messages": 3,
                       "assistant_dms": 2,
                       "handed_over": True, "handed_over_at": 300.0,
                       "handed_over_web": False, "ended": "handover", "overflow_links": 0}
    assert rows[1]["handed_over"] is False  # seen by the desk after the hour
    assert rows[1]["first_reply_at"] is None and rows[1]["arrived_at"] == 60.0
    assert sends == [30.0, 120.0, 600.0] and waits == [300.0]
    assert "1001" not in str(rows)


def test_the_first_answer_is_ready_at_the_end_of_its_turn():
    events = [{"event": "user", "timestamp": 1.0}, {"event": "bot", "timestamp": 2.0},
              {"event": "action", "name": "action_listen", "timestamp": 2.5},
              {"event": "user", "timestamp": 3.0}, {"event": "bot", "timestamp": 4.0},
              {"event": "bot", "timestamp": 4.5}, {"event": "action", "timestamp": 5.0}]
    assert answered_at(events) == 5.0  # the turn's last event
    assert answered_at(events[:4]) is None  # the latest message has no answer yet
    opening = [{"event": "action", "name": "action_session_start", "timestamp": 0.5},
               {"event": "bot", "timestamp": 0.6}, {"event": "user", "timestamp": 0.7},
               {"event": "action", "name": "action_listen", "timestamp": 0.9}]
    assert answered_at(opening) == 0.9  # a session's opening answers its first message
