"""The live hour's statistics and the reading of issue #15's targets (bench/live_reading.py),
from recorded runs written by hand (live seconds; X's windows: 15 DMs per 900 s)."""

from __future__ import annotations

from bench import report
from bench.live_reading import (
    arrival_order_inversions,
    figures,
    first_reply_late,
    first_window_with_budget,
    p0_late,
    reading,
    window_at,
    windows,
)


def person(index: int, arrived: float, first: float | None, p0: bool = False,
           **more) -> dict:
    return {"index": index, "arrived_at": arrived, "first_reply_at": first, "p0": p0, **more}


def test_windows_open_at_the_first_accepted_send_and_last_900_s():
    opened = windows([950.0, 10.0, 20.0, 909.9, 2000.0])
    assert [(w.start, len(w.sent)) for w in opened] == [(10.0, 3), (950.0, 1), (2000.0, 1)]
    assert window_at(opened, 0.0) == 0  # before any window: the next to open
    assert window_at(opened, 909.9) == 0 and window_at(opened, 910.0) == 1
    assert window_at(opened, 5000.0) == 3  # none opened after it


def test_a_spent_window_sends_its_p0_to_the_next():
    opened = windows([float(t) for t in range(15)] + [1000.0])
    assert first_window_with_budget(opened, 14.5) == 1  # 15 sent by then
    assert first_window_with_budget(opened, 13.5) == 0  # one left
    assert first_window_with_budget(opened, 950.0) == 1  # in the gap: the next to open
    people = [person(0, 13.5, 1000.0, p0=True), person(1, 14.5, 1000.0, p0=True),
              person(2, 14.5, None, p0=True), person(3, 0.0, 1000.0)]
    assert p0_late(people, opened) == [0, 2]


def test_first_answer_within_ceil_n_over_15_windows():
    sends = [0.0, 1000.0, 2000.0, 3000.0]
    opened = windows(sends)
    people = [person(i, 0.5, None) for i in range(16)]  # 16 people: two windows allowed
    people[0]["first_reply_at"] = 1000.0  # one window later: in time
    people[1]["first_reply_at"] = 2000.0  # two windows later: late
    late = first_reply_late(people, opened)
    assert 0 not in late and 1 in late and len(late) == 15  # the unanswered are late


def test_arrival_order_counted_per_window_and_p0_apart():
    opened = windows([0.0, 1000.0, 2000.0])
    people = [person(0, 1.0, 2000.0), person(1, 2.0, 1000.0),  # one inversion
              person(2, 3.0, 1000.5),  # the same window as 1: not an inversion
              person(3, 4.0, 0.5, p0=True),  # P0 goes first: not counted
              person(4, 5.0, None)]  # never answered: after everyone, no inversion
    assert arrival_order_inversions(people, opened) == 2  # 0 after 1 and after 2
    assert arrival_order_inversions(people[1:], opened) == 0


def test_figures_and_reading():
    people = [person(0, 0.0, 30.0, p0=True, handed_over=True, assistant_dms=4,
                     overflow_links=1),
              person(1, 15.0, 90.0, handed_over=True, assistant_dms=3),
              person(2, 30.0, 120.0, handed_over=False, assistant_dms=2),
              person(3, 45.0, None)]
    usage = {"rate_limited_429": {"dm_send": 1, "dm_events": 2}, "cost_usd": 0.5}
    result = figures(people, [30.0, 90.0, 120.0], [300.0, 600.0, 900.0], usage)
    assert (result["people"], result["people_answered"], result["handed_over_x"]) == (4, 3, 2)
    assert result["handed_over_web"] == 0 and result["overflow_links_received"] == 1
    assert result["dms_per_triage_median"] == 3.5
    assert result["lawyer_replies_on_web"] == 0 and result["lawyer_reply_wait_web_p50_s"] is None
    assert (result["first_reply_p50_s"], result["p0_first_reply_max_s"]) == (75.0, 30.0)
    assert result["first_reply_p99_s"] == 89.7
    assert result["lawyer_reply_wait_p50_s"] == 600.0
    assert (result["responses_429"], result["sends_into_spent_window"]) == (3, 1)
    read = reading({"per_person": people, "send_times": [30.0, 90.0, 120.0]})
    assert read == {"windows": 1, "first_reply_bound_windows": 1, "p0_late": [],
                    "first_reply_late": [3], "arrival_order_inversions": 0,
                    "p0_late_once_ready": [], "order_inversions_once_ready": 0}


def test_handed_over_through_x_alone_or_through_the_web_chat():
    people = [person(0, 0.0, 30.0, handed_over=True, assistant_dms=5),
              person(1, 15.0, 90.0, handed_over=True, assistant_dms=1, overflow_links=1,
                     continued_on_web=True, lawyer_reply_via="web", lawyer_reply_wait_s=120.0),
              person(2, 30.0, 120.0, handed_over=True, assistant_dms=2, overflow_links=1,
                     continued_on_web=True),
              person(3, 40.0, 130.0, handed_over=False, assistant_dms=2, overflow_links=1,
                     continued_on_web=True),  # on the web chat, not handed over in the hour
              person(4, 45.0, 140.0, handed_over=True, assistant_dms=7, overflow_links=1,
                     lawyer_reply_via="x", lawyer_reply_wait_s=300.0),  # stayed on X
              person(5, 50.0, 150.0, overflow_links=1, link_refused=True)]
    result = figures(people, [], [120.0, 300.0], {})
    assert (result["handed_over_x"], result["handed_over_web"]) == (2, 2)
    assert result["dms_per_triage_median"] == 6.0  # the triages completed on X: 5 and 7
    assert result["dms_per_triage_median_with_web"] == 3.5  # 1, 2, 5, 7
    assert (result["overflow_links_received"], result["overflow_people_with_link"],
            result["overflow_continued_on_web"], result["overflow_links_refused"]) == (
        5, 5, 3, 1)
    assert (result["lawyer_replies_delivered"], result["lawyer_replies_on_web"]) == (2, 1)
    assert (result["lawyer_reply_wait_p50_s"], result["lawyer_reply_wait_web_p50_s"]) == (
        210.0, 120.0)


def test_the_turn_and_the_budget_are_told_apart():
    opened = windows([float(t) for t in range(15)] + [1000.0, 1001.0])
    people = [person(0, 0.5, 1000.0, p0=True, first_ready_at=14.5),  # ready once spent
              person(1, 1.0, 1001.0, first_ready_at=3.0),  # its turn took longer than 2's
              person(2, 2.0, 10.0, first_ready_at=2.5)]
    assert p0_late(people, opened) == [0]  # from arrival: 14 DMs were left
    assert p0_late(people, opened, since="first_ready_at") == []
    assert arrival_order_inversions(people, opened) == 1  # 1 came first, served after 2
    assert arrival_order_inversions(people, opened, since="first_ready_at") == 0
    result = figures(people, [], [], {})
    assert (result["first_answer_turn_p50_s"], result["first_answer_turn_p99_s"]) == (
        2.0, 13.8)
    assert result["first_answer_budget_wait_p50_s"] == 985.5


def recorded_hour(**changes) -> dict:
    """A recorded live hour as ``latest.json`` keeps it: two people in one window."""
    live = {"people": 2, "people_answered": 2, "p0_people": 1, "handed_over_x": 1,
            "handed_over_web": 0, "overflow_links_received": 0, "dms_per_triage_median": 4,
            "first_reply_p50_s": 20.0, "first_reply_p99_s": 30.0, "p0_first_reply_max_s": 30.0,
            "lawyer_reply_wait_p50_s": 10.0, "lawyer_replies_delivered": 1,
            "responses_429": 0, "sends_into_spent_window": 0, "dms_sent": 2,
            "cost_usd": 0.05, "window_s": 900, "window_limit": 15,
            "plan": {"arrivals_minutes": 10, "hour_minutes": 60, "time_scale": 60},
            "ended": {"handover": 1, "still_going": 1},
            "per_person": [person(0, 0.0, 30.0, p0=True), person(1, 10.0, 20.0)],
            "send_times": [20.0, 30.0]}
    return {**live, **changes}


def test_the_report_reads_the_targets_from_the_records():
    checks = {c["key"]: c["met"] for c in report.targets(report.headline(
        {"live_hour": recorded_hour()}))}
    assert all(checks[key] for key in checks if key.startswith("live_hour_"))
    late_p0 = recorded_hour(send_times=[float(t) for t in range(15)] + [950.0, 960.0],
                            per_person=[person(0, 14.5, 960.0, p0=True),
                                        person(1, 0.0, 950.0)])
    figures_of = report.live_hour_headline(late_p0)
    assert figures_of["live_hour_p0_not_in_first_window_with_budget"] == 0  # spent: next one
    late_p0["per_person"][0]["arrived_at"] = 13.5  # one DM was left: it should have gone then
    checks = {c["key"]: c["met"] for c in report.targets(report.live_hour_headline(late_p0))}
    assert checks["live_hour_p0_not_in_first_window_with_budget"] is False
    checks = {c["key"]: c["met"] for c in report.targets(report.live_hour_headline(
        recorded_hour(sends_into_spent_window=1, dms_per_triage_median=4.5)))}
    assert checks["live_hour_sends_into_spent_window"] is False
    assert checks["live_hour_dms_per_triage_median"] is False
    assert report.live_hour_headline(None)["live_hour_dms_per_triage_median"] is None


def test_the_live_hour_table_says_what_was_missed():
    text = "\n".join(report.live_hour_markdown(recorded_hour(
        per_person=[person(0, 0.0, 30.0, p0=True), person(1, 10.0, None)])))
    assert "### 6. A live hour on X (2 people" in text
    assert "| every person a first answer within ceil(N/15) = 1 window(s) of arrival | " \
           "late: 1 of 2 (#1) | **missed** |" in text
    assert "| 0 requests into a spent window | 0 | met |" in text
    assert "| handed over through the web-chat overflow | 0 (0 people got the link, 0 " \
           "continued on the web chat, 0 links refused) |" in text
    assert "70 % of the people who get it follow it" not in text  # no plan said so
    text = "\n".join(report.live_hour_markdown(recorded_hour(
        handed_over_web=3, overflow_people_with_link=6, overflow_continued_on_web=4,
        lawyer_replies_on_web=2, lawyer_reply_wait_web_p50_s=80.0,
        plan={"arrivals_minutes": 10, "hour_minutes": 60, "time_scale": 60,
              "follow_share": 0.7, "continue_after_minutes": 5.0})))
    assert "| handed over through the web-chat overflow | 3 (6 people got the link, 4 " \
           "continued on the web chat, 0 links refused) |" in text
    assert "2 on the web chat: p50 80)" in text
    assert "more than 5 live minutes; 70 % of the people who get it follow it" in text
    assert report.live_hour_markdown(None) == []


def test_the_live_hour_has_a_block_of_its_own_in_the_doc(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"intro\n{report.BEGIN}\nrun 9\n{report.END}\n\n"
                   f"{report.LIVE_BEGIN}\nold hour\n{report.LIVE_END}\nreading\n")
    live = recorded_hour(finished_at="2026-12-07T15:40:00+00:00", commit="abc1234",
                         machine_load={"busy_cores": 1.9, "other_cores": 0.8})
    report.write_doc(report.live_hour_doc(live, "`python -m bench.live_hour`"), doc,
                     begin=report.LIVE_BEGIN, end=report.LIVE_END)
    text = doc.read_text()
    assert "run 9" in text and "old hour" not in text and text.endswith("reading\n")
    block = text.split(report.LIVE_BEGIN)[1]
    assert block.startswith("\n### 6. A live hour on X (2 people")
    assert "Measured 2026-12-07 15:40 UTC, `python -m bench.live_hour`, commit abc1234" in block
    assert "0.8 of them by processes outside the benchmark" in block


def test_the_cost_of_a_triage_is_what_x_bills_for_its_dms() -> None:
    from bench.live_reading import cost_per_triage

    prices = {"dm_sent": 15_000, "dm_received": 10_000}  # $0.015 a DM sent, $0.010 received
    people = [{"assistant_dms": 4, "messages": 4}, {"assistant_dms": 5, "messages": 6},
              {"assistant_dms": 3, "messages": 2}]
    # 0.10, 0.135, 0.065: the median is the second
    assert cost_per_triage(people, prices) == 0.1
    assert cost_per_triage([], prices) is None
    # The shipped prices (X's 2026 pay-per-use): 4 DMs each way is 10 cents.
    assert cost_per_triage([{"assistant_dms": 4, "messages": 4}]) == 0.1
