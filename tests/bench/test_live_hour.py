"""The live hour's figures (bench/live_hour.py) from what a run recorded: live seconds, the
people handed over, the requests into a spent window. (The figures of a real run are
measured by ``make bench-live-hour``, never asserted.)"""

from __future__ import annotations

from types import SimpleNamespace

from bench.drive import Dm
from bench.live_hour import LAWYER_TEXT, Lawyer, Person, Plan, figures


def test_figures_in_live_seconds() -> None:
    plan = Plan(people=3, time_scale=60)
    people = [Person("1", True, ("a",), wrote_at=100.0), Person("2", False, ("a",), 100.0),
              Person("3", False, ("a",), wrote_at=None)]
    received = {"1": [Dm(1, "bonjour", 101.0), Dm(2, LAWYER_TEXT, 110.0)],
                "2": [Dm(3, "bonjour", 130.0)]}
    watcher = SimpleNamespace(dms=lambda person: received.get(person, []))
    lawyer = Lawyer(seen_at={7: 105.0}, person_of={7: "1"}, replied={7})
    usage = {"rate_limited_429": {"dm_send": 2, "dm_events": 1}, "cost_usd": 0.5}
    result = figures(plan, people, watcher, lawyer, usage)
    assert (result["people"], result["people_answered"], result["handed_over_x"]) == (3, 2, 1)
    assert result["p0_first_reply_max_s"] == 60.0  # 1 s of real time at scale 60
    assert result["first_reply_p50_s"] == 60.0 + (1800.0 - 60.0) / 2
    assert result["lawyer_reply_wait_p50_s"] == 300.0
    assert result["dms_per_triage_median"] == 2 and result["dms_sent"] == 3
    assert (result["responses_429"], result["sends_into_spent_window"]) == (3, 2)
    assert result["first_reply_within_windows"] == {"bound_windows": 1, "late_people": 1}
