"""The live hour's pure parts (bench/live_hour.py): who plays which scenario, the overflow
link, and what a run records, in live seconds. (The figures of a real run are measured by
``make bench``, never asserted.)"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from bench.drive import Dm
from bench.live_hour import (
    LAWYER_TEXT,
    Lawyer,
    Person,
    Plan,
    answered_at,
    cast,
    continue_env,
    follows_link,
    lawyer_reply,
    overflow_link,
    records,
    web_content,
)
from bench.web_page import Page
from permanence import continue_link
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
                       "continued_on_web": False, "web_messages": 0,
                       "handed_over_web": False, "lawyer_reply_via": "x",
                       "lawyer_reply_wait_s": 300.0, "ended": "handover",
                       "overflow_links": 0, "follows_link": False, "link_refused": False}
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


def test_seven_people_in_ten_follow_the_link_drawn_with_the_seed():
    plan = Plan(seed=15, follow_share=0.7)
    drawn = [follows_link(plan, index) for index in range(1000)]
    assert drawn == [follows_link(plan, index) for index in range(1000)]
    assert 650 <= sum(drawn) <= 750
    assert drawn != [follows_link(Plan(seed=16), index) for index in range(1000)]
    assert not any(follows_link(Plan(follow_share=0.0), index) for index in range(100))
    assert all(follows_link(Plan(follow_share=1.0), index) for index in range(100))


def test_the_overflow_is_configured_at_the_time_scale():
    env = continue_env(Plan(time_scale=60, continue_after_minutes=5))
    assert env[continue_link.AFTER_ENV] == "5"  # 300 live seconds at scale 60
    assert continue_env(Plan(time_scale=10))[continue_link.AFTER_ENV] == "30"
    assert env[continue_link.SECRET_ENV] != continue_env(Plan())[continue_link.SECRET_ENV]
    settings = continue_link.from_env({**env, continue_link.BASE_URL_ENV: "http://127.0.0.1:5"})
    assert settings is not None and settings.after_seconds == 5.0


def test_on_the_web_chat_a_button_is_its_payload_and_text_is_typed():
    assert web_content("/affirm", "1") == {"payload": "/affirm"}
    assert web_content("/not_a_button_of_the_domain", "oui") == {"message": "oui"}
    assert web_content(None, "la mairie de Lens") == {"message": "la mairie de Lens"}


def test_the_lawyer_reply_is_found_on_x_or_on_the_web_chat():
    scenario = {"id": "s1", "expect": {"tier": "P2"}}
    on_x = Person(0, "1001", scenario)
    dms = [Dm(1, "bonjour", 1.0), Dm(2, LAWYER_TEXT, 9.0), Dm(3, LAWYER_TEXT, 12.0)]
    assert lawyer_reply(on_x, dms) == (9.0, "x")
    assert lawyer_reply(on_x, dms[:1]) is None
    on_web = Person(1, "1002", scenario, page=Page(client=None))
    on_web.page.said += [(5.0, "Vous continuez ici"), (7.0, LAWYER_TEXT)]
    assert lawyer_reply(on_web, dms[:1]) == (7.0, "web")
    assert on_web.on_web and not on_x.on_web


def test_records_count_a_web_person_handed_over_through_the_overflow():
    plan = Plan(people=1, time_scale=60)
    person = Person(0, "1001", {"id": "s1", "expect": {"tier": "P1"}}, wrote_at=100.0,
                    messages=5, web_messages=3, ended="handover", overflow_links=1,
                    page=Page(client=None))
    person.page.said += [(103.0, "Vous continuez ici"), (108.0, LAWYER_TEXT)]
    received = {"1001": [Dm(1, "bonjour", 100.5), Dm(2, "lien", 101.0)]}
    watcher = SimpleNamespace(dms=lambda who: received.get(who, []), received=received)
    lawyer = Lawyer(seen_at={7: 105.0}, conversation_of={7: "x:1001"})
    [row], _, waits = records(plan, [person], watcher, lawyer, start=100.0, end=160.0)
    assert row["handed_over"] and row["handed_over_web"] and row["continued_on_web"]
    assert (row["assistant_dms"], row["web_messages"]) == (2, 3)
    assert (row["lawyer_reply_via"], row["lawyer_reply_wait_s"]) == ("web", 180.0)
    assert waits == [180.0]


def test_the_page_waits_for_the_bot_s_messages_and_remembers_when_they_came():
    async def scenario() -> tuple[bool, bool, float | None, float | None]:
        page = Page(client=None)
        asyncio.get_running_loop().call_soon(page.hear, {"text": "Vous continuez ici"})
        first = await page.until(1, timeout=30)
        page.hear({"text": LAWYER_TEXT})
        page.hear("not a message")  # counted, without text
        more = await page.until(4, timeout=0.05)  # only three came
        return first, more, page.first_at(LAWYER_TEXT), page.first_at("absent")

    first, more, lawyer_at, absent = asyncio.run(scenario())
    assert first and not more and lawyer_at is not None and absent is None
