"""The sixth held-back set (tests/scenarios/heldback6/): loads as checked scenarios, is kept
out of the regular suite and out of the five earlier held-back sets, and is played only with
``--dir`` (docs/scenarios.md, « A sixth held-back set »)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from actions.domains import ALL as DOMAINS
from sandbox.stack import ROOT
from tests.scenarios import run, suite

HELDBACK6 = suite.HERE / "heldback6"
FROZEN_DAY = date.fromisoformat(suite.NOW[:10])
# The French public holidays between the frozen day and this set's two-month deadlines
# (Feb 2027), and around its one later deadline (the prescription quadriennale, Dec 2030).
HOLIDAYS = {date(2026, 12, 25), date(2027, 1, 1), date(2030, 12, 25), date(2031, 1, 1)}
# The conversations whose deadline is the general two months franc from date_decision
# (LEGAL.md §4.1; for the neighbour, from the first day of display; for the Tarn-et-Garonne
# action, from the award notice); the others follow a rule of their own, checked below.
TWO_MONTHS = {"hb6-urb-lidl-voisin-panneau-bundle",
              "hb6-cp-conseillere-marche-signe-tarn-et-garonne",
              "hb6-fp-temps-partiel-refuse-quinze-jours", "hb6-coll-conservatoire-exclusion-thin",
              "hb6-env-etang-mise-en-demeure-correction"}


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


def _scenarios() -> dict[str, dict]:
    return {s["id"]: s for s in suite.load(HELDBACK6)}


def test_the_sixth_heldback_set_is_twelve_checked_conversations_with_their_computation():
    scenarios = suite.load(HELDBACK6)
    assert len(scenarios) == 12
    assert [s["file"] for s in scenarios] == ["heldback6.yml"] * 12
    for scenario in scenarios:
        assert scenario["note"], scenario["id"]
        if scenario["expect"]["route"] == "triage":
            assert isinstance(scenario["expect"]["deadline"], date), scenario["id"]
    referrals = [s for s in scenarios if s["expect"]["route"] == "referral"]
    assert len(referrals) == 2 and all(s["expect"]["ordre"] for s in referrals)
    assert all(s["expect"]["facts"]["code_postal"] for s in referrals)
    tiers = [s["expect"]["tier"] for s in scenarios]
    assert tiers.count("P0") == 3 and 2 <= tiers.count("P1") <= 3
    assert tiers.count("P2") == 10 - tiers.count("P0") - tiers.count("P1")
    # One triage conversation per domain of the assistant.
    triage_domains = [s["expect"]["facts"]["domaine"] for s in scenarios
                      if s["expect"]["route"] == "triage"]
    assert sorted(triage_domains) == sorted(set(DOMAINS) - {"hors_champ"})
    tags = [tag for s in scenarios for tag in s.get("tags") or ()]
    assert tags.count("formal") == 2 and tags.count("correction") == 1
    assert {"human_question", "typos", "thin_story", "refusal", "two_dates"} <= set(tags)


def test_every_expected_deadline_is_a_coming_working_day():
    """All of this set's deadlines end on a working day (franc ones are moved to it; the
    others happen to fall on weekdays), after the frozen day or on it."""
    for scenario in suite.load(HELDBACK6):
        deadline = scenario["expect"]["deadline"]
        if deadline is None:
            continue
        assert FROZEN_DAY <= deadline <= date(2030, 12, 31), scenario["id"]
        assert deadline.weekday() < 5 and deadline not in HOLIDAYS, scenario["id"]


def test_the_two_month_deadlines_follow_from_the_expected_date_of_the_decision():
    scenarios = _scenarios()
    assert TWO_MONTHS <= set(scenarios)
    for name in TWO_MONTHS:
        expect = scenarios[name]["expect"]
        decided = expect["facts"]["date_decision"]
        # « y a quinze jours »: either reading of two weeks gives the same deadline.
        for day in decided if isinstance(decided, list) else [decided]:
            assert expect["deadline"] == _two_months_franc(day), name
    # The algorithm itself, on LEGAL.md §4.1's worked examples (holidays of 2026).
    assert _two_months_franc(date(2026, 10, 2)) == date(2026, 12, 3)
    assert _two_months_franc(date(2026, 9, 7)) == date(2026, 11, 9)
    # The correction at the summary matters: the first date said would give a later deadline.
    assert _two_months_franc(date(2026, 12, 2)) > date(2027, 2, 1)


def test_the_deadlines_of_their_own_rule():
    scenarios = _scenarios()

    def expect(name):
        return scenarios[name]["expect"]

    # Rétention: 48 hours from the notification, not franc (CESEDA L. 921-2).
    retention = expect("hb6-etr-pere-retention-lesquin-avant-hier")
    assert retention["facts"]["mesure_privative"] == "retention"
    assert retention["deadline"] == retention["facts"]["date_decision"] + timedelta(days=2)
    # A local referendum: R. 119, the fifth day after the vote (at 18:00).
    vote = expect("hb6-elec-referendum-local-bureau-ferme-tot")
    assert vote["deadline"] == vote["facts"]["date_decision"] + timedelta(days=5)
    # A police measure executed on Thursday: the day it applies, within 72 hours.
    police = expect("hb6-police-armes-chasseur-gendarmes-jeudi")
    assert police["deadline"] == police["facts"]["date_effet"]
    assert police["deadline"] - FROZEN_DAY <= timedelta(days=3)
    # Last year's local tax: the complaint by 31 December of the year after the collection.
    assert expect("hb6-fisc-thrs-residence-principale-humain")["deadline"] == date(2026, 12, 31)
    # A damage of 2026 with no claim sent: the prescription quadriennale.
    assert (expect("hb6-resp-toboggan-parc-municipal-fin-octobre")["deadline"]
            == date(2026 + 4, 12, 31))
    # The refused postcode is expected absent.
    assert expect("hb6-fp-temps-partiel-refuse-quinze-jours")["facts"]["code_postal"] is None


def test_make_scenarios_never_plays_the_sixth_heldback_set():
    regular = {s["id"] for s in suite.load()}
    earlier = {s["id"] for name in ("heldback", "heldback2", "heldback3", "heldback4",
                                    "heldback5")
               for s in suite.load(suite.HERE / name)}
    sixth = {s["id"] for s in suite.load(HELDBACK6)}
    assert sixth and not sixth & regular and not sixth & earlier
    assert not any(path.parent == HELDBACK6 for path in suite.CONVERSATIONS.rglob("*.yml"))
    assert run.parse_args([]).dir == suite.CONVERSATIONS


def test_dir_writes_the_sixth_heldback_sets_own_results_file():
    args = run.parse_args(["--dir", str(HELDBACK6), "--report-only"])
    assert args.dir == HELDBACK6
    assert args.out == ROOT / "results" / "scenarios-heldback6.json"
