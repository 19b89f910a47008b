"""Scoring of the scenario suite: facts, deadlines (late is the worst error), route and Ordre,
the summary and the thresholds (tests/scenarios/scoring.py)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.scenarios import scoring


@pytest.mark.parametrize(("key", "expected", "got", "right"), [
    ("code_postal", "33800", "33800", True),
    ("code_postal", "33800", "33000", False),
    ("code_postal", "33800", None, False),
    ("code_postal", None, None, True),
    ("code_postal", None, "nsp", True),            # refused: « ne sait pas » is as good as absent
    ("code_postal", None, "33800", False),
    ("date_decision", date(2026, 12, 7), "2026-12-07", True),
    ("date_decision", "2026-12-07", "2026-12-06", False),
    ("date_decision", ["2026-11-27", "2026-12-01"], "2026-12-01", True),
    ("mesure_privative", ["aucune", None], None, True),
    ("mesure_privative", ["aucune", None], "retention", False),
    ("domaine", "etrangers", "Étrangers", True),
    ("role", ["voisin", "particulier"], "particulier", True),
    ("role", "agent_public", "agent public", True),
    ("partie_adverse", "prefecture nord", "la Préfecture du Nord", True),
    ("partie_adverse", "prefecture nord", "préfecture du Pas-de-Calais", False),
    ("type_decision", "refus titre sejour", "un refus de titre de séjour", True),
    ("type_decision", "logements vacants", "taxe sur les logement vacant", True),
    ("type_decision", "oqtf", "non précisé", False),
])
def test_fact_right(key, expected, got, right):
    assert scoring.fact_right(key, expected, got) is right


@pytest.mark.parametrize(("expected", "got", "verdict"), [
    ("2026-12-11", "2026-12-11", "right"),
    ("2026-12-11", "2026-12-12T00:00:00", "late"),
    (date(2026, 12, 11), "2026-12-10", "early"),
    ("2026-12-11", None, "missing"),
    (None, None, "right"),
    (None, "2027-01-05", "unexpected"),
])
def test_deadline_verdict(expected, got, verdict):
    assert scoring.deadline_verdict(expected, got) == verdict


def test_route_right_checks_the_ordre_of_a_referral():
    assert scoring.route_right("triage", None, "triage", [])
    assert not scoring.route_right("triage", None, "referral", ["Barreau de Paris"])
    assert scoring.route_right("referral", "Barreau de Paris", "referral", ["Barreau de Paris"])
    assert not scoring.route_right("referral", "Barreau de Paris", "referral",
                                   ["Barreau des Hauts-de-Seine"])
    assert scoring.route_right("referral", None, "referral", [])
    assert not scoring.route_right("referral", None, "referral", ["Barreau de Lyon"])
    assert not scoring.route_right("referral", None, None, [])


def result(**changes):
    base = {"handed_over": True, "ended": "handover", "route_right": True, "tier": "P0",
            "expected_tier": "P0", "deadline_verdict": "right", "facts_right": 3,
            "facts_expected": 3, "person_turns": 4, "bot_messages": 5, "characters": 900,
            "x_dms": 3, "opening_characters": 600}
    base.update(changes)
    base["fully_right"] = scoring.fully_right(base)
    return base


def test_fully_right_needs_everything():
    assert result()["fully_right"]
    assert not result(deadline_verdict="early")["fully_right"]
    assert not result(facts_right=2)["fully_right"]
    assert not result(tier="P1")["fully_right"]
    assert not result(handed_over=False)["fully_right"]


def test_summarise_counts_and_medians():
    results = [result(), result(deadline_verdict="late", tier="P2", person_turns=10,
                                 x_dms=9, facts_right=1),
               result(handed_over=False, ended="erased", route_right=False, person_turns=6,
                      deadline_verdict="missing", opening_characters=1029)]
    summary = scoring.summarise(results)
    assert summary["scenarios"] == 3
    assert summary["handed_over"] == 2 and summary["erased"] == 1
    assert summary["route_right"] == 2 and summary["route_right_ratio"] == 0.667
    assert summary["tier_right"] == 2
    assert summary["late_deadlines"] == 1 and summary["missing_deadlines"] == 1
    assert summary["facts_right"] == 7 and summary["facts_expected"] == 9
    assert summary["facts_ratio"] == 0.778
    assert summary["person_turns_median"] == 6
    assert summary["x_dms_median"] == 3
    assert summary["opening_characters_max"] == 1029
    assert summary["fully_right"] == 1


def test_check_reports_every_missed_threshold():
    summary = scoring.summarise([result(deadline_verdict="late", person_turns=10)])
    failures = scoring.check(summary, {"late_deadlines_max": 0, "person_turns_median_max": 4,
                                       "route_right_ratio_min": 1.0, "facts_ratio_min": 0.9})
    assert failures == ["late_deadlines: 1 > 0", "person_turns_median: 10 > 4"]
    assert scoring.check(summary, {"late_deadlines_max": 1}) == []


def test_check_refuses_an_unknown_threshold_and_fails_an_unmeasured_figure():
    summary = scoring.summarise([])
    with pytest.raises(ValueError, match="unknown threshold"):
        scoring.check(summary, {"late_deadline_max": 0})
    with pytest.raises(ValueError, match="unknown threshold"):
        scoring.check(summary, {"late_deadlines": 0})
    assert scoring.check(summary, {"facts_ratio_min": 0.9}) == [
        "facts_ratio: not measured (threshold min 0.9)"]


def test_breakdown_by_file_and_by_each_tag():
    results = [{**result(), "file": "elections.yml", "tags": ["typos", "informal"]},
               {**result(deadline_verdict="late", route_right=False), "file": "elections.yml",
                "tags": ["typos"]}]
    by_file = scoring.breakdown(results, "file")
    assert by_file == {"elections.yml": {"scenarios": 2, "route_right": 1, "tier_right": 2,
                                         "late_deadlines": 1, "facts_right": 6,
                                         "facts_expected": 6, "fully_right": 1}}
    by_tag = scoring.breakdown(results, "tags")
    assert by_tag["typos"]["scenarios"] == 2 and by_tag["informal"]["scenarios"] == 1
