"""The scenarios of the suite: loaded from ``conversations/*.yml`` and checked (pure, no Rasa).

Every scenario is written for one frozen moment, :data:`NOW` (a Tuesday, Paris time): its
relative dates (« hier », « dimanche soir ») and its expected deadlines are read from there.
The format is described in ``docs/scenarios.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from actions.case import CASE_SLOTS
from actions.domains import ALL as DOMAINS
from actions.facts import QUESTIONS
from actions.intake import QUESTION_TEXT, STORY
from actions.urgency import TIERS
from tests.scenarios.person import DIALOGUE_KEYS

HERE = Path(__file__).resolve().parent
CONVERSATIONS = HERE / "conversations"
NOW = "2026-12-08T10:00:00+01:00"  # Tuesday 8 December 2026, 10:00 in Paris

# The fact keys the domains need (facts.QUESTIONS) and those the intake asks them as
# (intake.QUESTION_TEXT: ``date_display``, ``date_notified``).
FACT_KEYS = (frozenset(key for keys in QUESTIONS.values() for key in keys)
             | frozenset(QUESTION_TEXT) - {STORY})
BANK_KEYS = FACT_KEYS | frozenset(DIALOGUE_KEYS)
ROUTES = ("triage", "referral")
TAGS = frozenset({"informal", "formal", "typos", "two_dates", "correction", "refusal",
                  "other_language", "avocat", "human_question", "two_problems", "thin_story"})
SCENARIO_KEYS = frozenset({"id", "tags", "say", "answers", "turns", "expect", "note"})
TURN_KEYS = frozenset({"when", "say", "then"})


class ScenarioError(ValueError):
    """A scenario file that does not follow the format."""


def load(directory: Path = CONVERSATIONS) -> list[dict[str, Any]]:
    """Every scenario of ``directory``'s YAML files, in file then file order, checked."""
    scenarios: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yml")):
        for scenario in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if not isinstance(scenario, dict):
                raise ScenarioError(f"{path.name}: a scenario is a mapping")
            scenario["file"] = path.name
            scenarios.append(scenario)
    seen: set[str] = set()
    for scenario in scenarios:
        check(scenario)
        if scenario["id"] in seen:
            raise ScenarioError(f"duplicate scenario id {scenario['id']!r}")
        seen.add(scenario["id"])
    return scenarios


def check(scenario: Mapping[str, Any]) -> None:
    """Raise :class:`ScenarioError` on anything the runner or the scoring could misread."""
    name = scenario.get("id") or "?"

    def fail(message: str) -> None:
        raise ScenarioError(f"scenario {name} ({scenario.get('file', '?')}): {message}")

    unknown = set(scenario) - SCENARIO_KEYS - {"file"}
    if unknown:
        fail(f"unknown keys {sorted(unknown)}")
    if not isinstance(scenario.get("id"), str) or not scenario["id"]:
        fail("needs an id")
    if not isinstance(scenario.get("say"), str) or not scenario["say"].strip():
        fail("needs say (the first message)")
    if set(scenario.get("tags") or ()) - TAGS:
        fail(f"unknown tags {sorted(set(scenario['tags']) - TAGS)}")
    answers = scenario.get("answers") or {}
    if set(answers) - BANK_KEYS:
        fail(f"unknown answer keys {sorted(set(answers) - BANK_KEYS)}")
    for turn in scenario.get("turns") or ():
        _check_turn(turn, fail)
    expect = scenario.get("expect")
    if not isinstance(expect, dict):
        fail("needs expect")
    missing = {"route", "tier", "deadline", "facts"} - set(expect)
    if missing:
        fail(f"expect needs {sorted(missing)}")
    if expect["route"] not in ROUTES:
        fail(f"route must be one of {ROUTES}")
    if expect["tier"] not in TIERS:
        fail(f"tier must be one of {TIERS}")
    if expect["deadline"] is not None and not isinstance(expect["deadline"], date):
        fail("deadline must be a date (YYYY-MM-DD) or null")
    facts = expect["facts"] or {}
    if set(facts) - set(CASE_SLOTS):
        fail(f"facts must be case slots (actions/case.py): {sorted(set(facts) - set(CASE_SLOTS))}")
    domains = facts.get("domaine")
    for domain in domains if isinstance(domains, list) else [domains]:
        if domain not in DOMAINS:
            fail(f"unknown domaine {domain!r}")
    referral = expect["route"] == "referral"
    if referral != (expect["tier"] == "OUT") or referral != (domains == "hors_champ"):
        fail("a referral is tier OUT and domaine hors_champ, and only a referral is")
    if referral and "ordre" not in expect:
        fail("a referral names its expected ordre (or null when none can be named)")
    if referral and expect["deadline"] is not None:
        fail("a referral has no deadline")


def _check_turn(turn: Any, fail) -> None:
    if isinstance(turn, str):
        return
    if not isinstance(turn, dict) or "say" not in turn or set(turn) - TURN_KEYS:
        fail(f"a turn is a string or {{when, say, then}}: {turn!r}")
    on = turn.get("when", "any")
    keys = [on] if isinstance(on, str) else list(on)
    if set(keys) - BANK_KEYS - {"any", "fact"}:
        fail(f"a turn waits for unknown keys {sorted(set(keys) - BANK_KEYS)}")
    if set(turn.get("then") or {}) - BANK_KEYS:
        fail(f"a turn updates unknown answer keys {sorted(set(turn['then']) - BANK_KEYS)}")


def expected_domain(scenario: Mapping[str, Any]) -> str | None:
    """The domain a person taps when the assistant shows the domain buttons."""
    domains = (scenario["expect"]["facts"] or {}).get("domaine")
    return domains[0] if isinstance(domains, list) else domains
