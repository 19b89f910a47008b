"""The fourth held-back set (tests/scenarios/heldback4/): loads as checked scenarios, is kept
out of the regular suite and out of the three earlier held-back sets, and is played only with
``--dir`` (docs/scenarios.md, « A fourth held-back set »)."""

from __future__ import annotations

from datetime import date

from sandbox.stack import ROOT
from tests.scenarios import run, suite

HELDBACK4 = suite.HERE / "heldback4"
FROZEN_DAY = date.fromisoformat(suite.NOW[:10])
CUSTODIAL = ("retention", "assignation", "detention")
# The French public holidays between the frozen day and this set's last deadline (Feb 2027).
HOLIDAYS = {date(2026, 12, 25), date(2027, 1, 1)}


def _values(expected):
    return expected if isinstance(expected, list) else [expected]


def test_the_fourth_heldback_set_is_twelve_checked_conversations_with_their_computation():
    scenarios = suite.load(HELDBACK4)
    assert len(scenarios) == 12
    assert [s["file"] for s in scenarios] == ["heldback4.yml"] * 12
    for scenario in scenarios:
        assert scenario["note"], scenario["id"]
        if scenario["expect"]["route"] == "triage":
            assert isinstance(scenario["expect"]["deadline"], date), scenario["id"]
    assert {s["expect"]["route"] for s in scenarios} == {"triage", "referral"}
    assert sum(s["expect"]["route"] == "referral" and bool(s["expect"]["ordre"])
               for s in scenarios) >= 2
    assert sum(s["expect"]["tier"] == "P0" for s in scenarios) >= 2
    assert sum(s["expect"]["tier"] == "P0"
               and bool(set(_values(s["expect"]["facts"].get("mesure_privative")))
                        & set(CUSTODIAL))
               for s in scenarios) >= 2
    tags = {tag for s in scenarios for tag in s.get("tags") or ()}
    assert {"correction", "human_question", "two_problems", "formal", "typos"} <= tags


def test_every_expected_deadline_is_a_coming_working_day():
    """All of this set's deadlines end on a working day (franc ones are moved to it; the
    hour and 7-day ones happen to fall on weekdays), after the frozen day or on it."""
    for scenario in suite.load(HELDBACK4):
        deadline = scenario["expect"]["deadline"]
        if deadline is None:
            continue
        assert FROZEN_DAY <= deadline <= date(2027, 2, 28), scenario["id"]
        assert deadline.weekday() < 5 and deadline not in HOLIDAYS, scenario["id"]


def test_make_scenarios_never_plays_the_fourth_heldback_set():
    regular = {s["id"] for s in suite.load()}
    earlier = {s["id"] for name in ("heldback", "heldback2", "heldback3")
               for s in suite.load(suite.HERE / name)}
    fourth = {s["id"] for s in suite.load(HELDBACK4)}
    assert fourth and not fourth & regular and not fourth & earlier
    assert not any(path.parent == HELDBACK4 for path in suite.CONVERSATIONS.rglob("*.yml"))
    assert run.parse_args([]).dir == suite.CONVERSATIONS


def test_dir_writes_the_fourth_heldback_sets_own_results_file():
    args = run.parse_args(["--dir", str(HELDBACK4), "--report-only"])
    assert args.dir == HELDBACK4
    assert args.out == ROOT / "results" / "scenarios-heldback4.json"
