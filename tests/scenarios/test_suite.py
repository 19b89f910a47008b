"""The scenario files: enough conversations across every domain and variant, each one readable
by the runner and the scoring; a malformed scenario is refused with its reason
(tests/scenarios/suite.py)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import yaml

from actions.domains import ALL
from tests.scenarios import scoring, suite

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def scenarios():
    return suite.load()


def test_at_least_forty_conversations_over_every_domain_and_out_of_scope(scenarios):
    assert len(scenarios) >= 40
    domains = Counter()
    for scenario in scenarios:
        expected = scenario["expect"]["facts"]["domaine"]
        domains.update(expected if isinstance(expected, list) else [expected])
    assert set(domains) == set(ALL)
    assert all(count >= 3 for count in domains.values()), domains


def test_every_variant_the_issue_names_is_played(scenarios):
    tags = Counter(tag for scenario in scenarios for tag in scenario.get("tags") or ())
    for tag in ("informal", "formal", "typos", "two_dates", "correction", "refusal",
                "other_language", "avocat"):
        assert tags[tag] >= 3, (tag, tags)


def test_referrals_name_their_ordre_and_triages_a_tier_and_a_deadline(scenarios):
    for scenario in scenarios:
        expect = scenario["expect"]
        if expect["route"] == "referral":
            assert expect["tier"] == "OUT" and expect["deadline"] is None
        else:
            assert expect["tier"] in ("P0", "P1", "P2", "P3")
            assert isinstance(expect["deadline"], date), scenario["id"]
            assert expect["facts"], scenario["id"]


def test_every_scenario_says_how_its_deadline_was_computed(scenarios):
    for scenario in scenarios:
        if scenario["expect"]["deadline"] is not None:
            assert scenario.get("note"), scenario["id"]


def test_both_threshold_files_name_summary_figures_only():
    summary = scoring.summarise([])
    summary.update(server_tracebacks=0)
    for name in ("thresholds.yml", "floor.yml"):
        thresholds = yaml.safe_load((HERE / name).read_text())
        assert thresholds, name
        scoring.check(summary, thresholds)  # raises on an unknown figure


def write(tmp_path, text: str) -> Path:
    (tmp_path / "one.yml").write_text(text, encoding="utf-8")
    return tmp_path


GOOD = """
- id: a
  say: "ma question"
  answers: {place: "75011"}
  turns: [{when: place, say: "avocat"}]
  expect: {route: referral, ordre: Barreau de Paris, tier: OUT, deadline: null,
           facts: {domaine: hors_champ}}
"""


def test_a_good_file_loads_with_its_file_name(tmp_path):
    [scenario] = suite.load(write(tmp_path, GOOD))
    assert scenario["file"] == "one.yml"


@pytest.mark.parametrize(("change", "message"), [
    (('answers: {place: "75011"}', 'answers: {plaec: "75011"}'), "unknown answer keys"),
    # The old triage form's « voies et délais » is asked no more.
    (('answers: {place: "75011"}', 'answers: {voies_delais: "oui"}'), "unknown answer keys"),
    (("when: place", "when: plaec"), "waits for unknown keys"),
    (("{when: place,", "{on: place,"), "a turn is a string"),
    (("route: referral", "route: handoff"), "route must be"),
    (("tier: OUT", "tier: P5"), "tier must be"),
    (("tier: OUT", "tier: P1"), "a referral is tier OUT"),
    (("ordre: Barreau de Paris, ", ""), "names its expected ordre"),
    (("domaine: hors_champ", "domaine: hors_champ, heure: 9h"), "case slots"),
    (("domaine: hors_champ", "domaine: famille"), "unknown domaine"),
    (("deadline: null", "deadline: demain"), "deadline must be a date"),
    (('say: "ma question"', 'say: ""'), "needs say"),
])
def test_a_malformed_scenario_is_refused_with_its_reason(tmp_path, change, message):
    with pytest.raises(suite.ScenarioError, match=message):
        suite.load(write(tmp_path, GOOD.replace(*change)))


def test_the_intakes_narrower_date_questions_are_bank_keys(tmp_path):
    text = GOOD.replace('answers: {place: "75011"}',
                        'answers: {date_display: "le 5", date_notified: "le 2"}')
    assert suite.load(write(tmp_path, text))[0]["answers"]["date_display"] == "le 5"


def test_duplicate_ids_are_refused(tmp_path):
    with pytest.raises(suite.ScenarioError, match="duplicate"):
        suite.load(write(tmp_path, GOOD + GOOD))
