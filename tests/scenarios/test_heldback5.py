"""The fifth held-back set (tests/scenarios/heldback5/): loads as checked scenarios, is kept
out of the regular suite and out of the four earlier held-back sets, and is played only with
``--dir`` (docs/scenarios.md, « A fifth held-back set »)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from actions.domains import ALL as DOMAINS
from sandbox.stack import ROOT
from tests.scenarios import run, suite

HELDBACK5 = suite.HERE / "heldback5"
FROZEN_DAY = date.fromisoformat(suite.NOW[:10])
# The French public holidays between the frozen day and this set's last deadline (Feb 2027).
HOLIDAYS = {date(2026, 12, 25), date(2027, 1, 1)}
# The conversations whose deadline is the general two months franc from date_decision
# (LEGAL.md §4.1); the others follow a rule of their own (election, standstill, a 48-hour
# notice, the local-tax complaint), given in their note.
TWO_MONTHS = {"hb5-etr-naturalisation-ajournee-le-3", "hb5-urb-preemption-maison-correction",
              "hb5-resp-urgences-fracture-non-vue-formal", "hb5-coll-fermeture-ecole-village-thin",
              "hb5-fp-policier-deplacement-office", "hb5-env-cormorans-arrete-publie-octobre"}


def _two_months_franc(notified: date) -> date:
    """LEGAL.md §4.1's reference algorithm: the day after, plus two months (clamped to the
    month's end), then the next working day."""
    start = notified + timedelta(days=1)
    month = start.month + 2
    year, month = start.year + (month - 1) // 12, (month - 1) % 12 + 1
    day = date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    while day.weekday() >= 5 or day in HOLIDAYS:
        day += timedelta(days=1)
    return day


def test_the_fifth_heldback_set_is_twelve_checked_conversations_with_their_computation():
    scenarios = suite.load(HELDBACK5)
    assert len(scenarios) == 12
    assert [s["file"] for s in scenarios] == ["heldback5.yml"] * 12
    for scenario in scenarios:
        assert scenario["note"], scenario["id"]
        if scenario["expect"]["route"] == "triage":
            assert isinstance(scenario["expect"]["deadline"], date), scenario["id"]
    referrals = [s for s in scenarios if s["expect"]["route"] == "referral"]
    assert len(referrals) == 2 and all(s["expect"]["ordre"] for s in referrals)
    tiers = [s["expect"]["tier"] for s in scenarios]
    assert tiers.count("P0") == 3 and 2 <= tiers.count("P1") <= 3
    assert tiers.count("P2") == 10 - tiers.count("P0") - tiers.count("P1")
    # One triage conversation per domain of the assistant.
    triage_domains = [s["expect"]["facts"]["domaine"] for s in scenarios
                      if s["expect"]["route"] == "triage"]
    assert sorted(triage_domains) == sorted(set(DOMAINS) - {"hors_champ"})
    tags = {tag for s in scenarios for tag in s.get("tags") or ()}
    assert {"correction", "human_question", "formal", "typos", "thin_story", "refusal",
            "two_dates"} <= tags


def test_every_expected_deadline_is_a_coming_working_day():
    """All of this set's deadlines end on a working day (franc ones are moved to it; the
    others happen to fall on weekdays), after the frozen day or on it."""
    for scenario in suite.load(HELDBACK5):
        deadline = scenario["expect"]["deadline"]
        if deadline is None:
            continue
        assert FROZEN_DAY <= deadline <= date(2027, 2, 28), scenario["id"]
        assert deadline.weekday() < 5 and deadline not in HOLIDAYS, scenario["id"]


def test_the_two_month_deadlines_follow_from_the_expected_date_of_the_decision():
    scenarios = {s["id"]: s for s in suite.load(HELDBACK5)}
    assert TWO_MONTHS <= set(scenarios)
    for name in TWO_MONTHS:
        expect = scenarios[name]["expect"]
        assert expect["deadline"] == _two_months_franc(expect["facts"]["date_decision"]), name
    # The algorithm itself, on LEGAL.md §4.1's worked examples (holidays of 2026).
    assert _two_months_franc(date(2026, 10, 2)) == date(2026, 12, 3)
    assert _two_months_franc(date(2026, 9, 7)) == date(2026, 11, 9)


def test_make_scenarios_never_plays_the_fifth_heldback_set():
    regular = {s["id"] for s in suite.load()}
    earlier = {s["id"] for name in ("heldback", "heldback2", "heldback3", "heldback4")
               for s in suite.load(suite.HERE / name)}
    fifth = {s["id"] for s in suite.load(HELDBACK5)}
    assert fifth and not fifth & regular and not fifth & earlier
    assert not any(path.parent == HELDBACK5 for path in suite.CONVERSATIONS.rglob("*.yml"))
    assert run.parse_args([]).dir == suite.CONVERSATIONS


def test_dir_writes_the_fifth_heldback_sets_own_results_file():
    args = run.parse_args(["--dir", str(HELDBACK5), "--report-only"])
    assert args.dir == HELDBACK5
    assert args.out == ROOT / "results" / "scenarios-heldback5.json"
