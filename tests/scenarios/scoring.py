"""Scoring of the scenario suite (pure: no I/O, no Rasa).

A scenario's outcome is compared with what a public-law lawyer would write on the fact card:
the route (and, for a referral, the Ordre des avocats), the urgency tier, the estimated
deadline (a deadline LATER than the expected one is the worst error: the lawyer could file too
late) and each expected fact.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

# Facts compared by words (free text: the person's own words, or a code the dialogue chose):
# every word of the expected text, but French function words, is in the value. Every other
# fact is compared whole (postcodes, dates, codes such as « etrangers » or « retention »).
WORD_FACTS = frozenset({"partie_adverse", "type_decision", "recit", "question_initiale"})
_FUNCTION_WORDS = frozenset({"de", "du", "des", "d", "la", "le", "les", "l", "a", "au", "aux",
                             "en", "un", "une", "sur", "pour", "par", "et"})
# What the dialogue stores for a fact the person did not give (actions/parsing.py UNKNOWN,
# actions/triage_form.py NOT_GIVEN): as good as absent when the fact is expected absent.
UNKNOWN_VALUES = frozenset({"nsp", "non precise", "inconnu"})

DEADLINE_VERDICTS = ("right", "early", "late", "missing", "unexpected")


def fold(value: Any) -> str:
    """Lower case, no accents, apostrophes, underscores and hyphens as spaces, single spaces."""
    text = unicodedata.normalize("NFKD", "" if value is None else str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"['’`_\-]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def words(value: Any) -> set[str]:
    """The content words of a text, folded, a plural « s » or « x » dropped."""
    found = set(re.findall(r"[a-z0-9]+", fold(value))) - _FUNCTION_WORDS
    return {w[:-1] if len(w) > 3 and w[-1] in "sx" else w for w in found}


def _empty(value: Any) -> bool:
    if value is None or (isinstance(value, str | list | tuple | dict) and not value):
        return True
    return isinstance(value, str) and fold(value) in UNKNOWN_VALUES


def fact_right(key: str, expected: Any, got: Any) -> bool:
    """Whether ``got`` is the expected value of fact ``key``.

    ``expected`` None: the fact must be absent or unknown (e.g. a postcode the person refused
    to give). A list of expected values: any of them. :data:`WORD_FACTS`: every word of the
    expected text is in the value; others: equal once folded (dates as ISO strings)."""
    if isinstance(expected, list | tuple):
        return any(fact_right(key, one, got) for one in expected)
    if expected is None:
        return _empty(got)
    if _empty(got):
        return False
    if isinstance(expected, date):
        expected = expected.isoformat()
    if key in WORD_FACTS:
        wanted = words(expected)
        return bool(wanted) and wanted <= words(got)
    return fold(expected) == fold(got)


def deadline_verdict(expected: date | str | None, got: date | str | None) -> str:
    """'right', 'late' (later than the law allows: the worst error), 'early', 'missing' (none
    computed where one was expected) or 'unexpected' (one computed where none applies)."""
    want = as_date(expected)
    have = as_date(got)
    if want is None:
        return "right" if have is None else "unexpected"
    if have is None:
        return "missing"
    if have == want:
        return "right"
    return "late" if have > want else "early"


def as_date(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def route_right(expected_route: str, expected_ordre: Any, route: str | None,
                ordres: Sequence[str] | None) -> bool:
    """The route is right; for a referral, the Ordre too (``expected_ordre`` None: no Ordre
    could be named, e.g. the postcode was refused; else its name is among ``ordres``)."""
    if route != expected_route:
        return False
    if expected_route != "referral":
        return True
    names = [fold(name) for name in ordres or ()]
    if expected_ordre is None:
        return not names
    return fold(expected_ordre) in names


def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def summarise(results: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The suite's figures from the per-scenario results (see run.py ``score`` for their
    keys). Medians are over every scenario, handed over or not."""
    count = len(results)
    verdicts = [r["deadline_verdict"] for r in results]
    facts_expected = sum(r["facts_expected"] for r in results)
    facts_right = sum(r["facts_right"] for r in results)
    route_ok = sum(bool(r["route_right"]) for r in results)
    tier_ok = sum(r["tier"] == r["expected_tier"] for r in results)
    handed = sum(bool(r["handed_over"]) for r in results)
    return {
        "scenarios": count,
        "handed_over": handed,
        "handed_over_ratio": _ratio(handed, count),
        "erased": sum(r.get("ended") == "erased" for r in results),
        "route_right": route_ok,
        "route_right_ratio": _ratio(route_ok, count),
        "tier_right": tier_ok,
        "tier_right_ratio": _ratio(tier_ok, count),
        "deadlines_right": verdicts.count("right"),
        "late_deadlines": verdicts.count("late"),
        "early_deadlines": verdicts.count("early"),
        "missing_deadlines": verdicts.count("missing"),
        "unexpected_deadlines": verdicts.count("unexpected"),
        "facts_right": facts_right,
        "facts_expected": facts_expected,
        "facts_ratio": _ratio(facts_right, facts_expected),
        "fully_right": sum(bool(r.get("fully_right")) for r in results),
        "errors": sum(bool(r.get("error")) for r in results),
        "person_turns_median": median(r["person_turns"] for r in results),
        "bot_messages_median": median(r["bot_messages"] for r in results),
        "characters_median": median(r["characters"] for r in results),
        "x_dms_median": median(r["x_dms"] for r in results),
        "opening_characters_max": max((r["opening_characters"] for r in results), default=None),
    }


def breakdown(results: list[Mapping[str, Any]], key: str) -> dict[str, dict[str, int]]:
    """Per value of ``key`` (``file``: the domain's file; ``tags``: each variant): scenarios,
    route right, tier right, late deadlines, facts right and expected, fully right."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for result in results:
        values = result.get(key) or []
        for value in values if isinstance(values, list) else [values]:
            groups.setdefault(str(value), []).append(result)
    return {name: {
        "scenarios": len(group),
        "route_right": sum(bool(r["route_right"]) for r in group),
        "tier_right": sum(r["tier"] == r["expected_tier"] for r in group),
        "late_deadlines": sum(r["deadline_verdict"] == "late" for r in group),
        "facts_right": sum(r["facts_right"] for r in group),
        "facts_expected": sum(r["facts_expected"] for r in group),
        "fully_right": sum(bool(r.get("fully_right")) for r in group),
    } for name, group in sorted(groups.items())}


def fully_right(result: Mapping[str, Any]) -> bool:
    """Route, tier, deadline and every expected fact right, and handed over."""
    return bool(result["handed_over"] and result["route_right"]
                and result["tier"] == result["expected_tier"]
                and result["deadline_verdict"] == "right"
                and result["facts_right"] == result["facts_expected"])


def check(summary: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[str]:
    """The thresholds the summary misses, as readable lines (empty: all met).

    Each threshold is ``<summary key>_min`` or ``<summary key>_max`` (e.g.
    ``route_right_ratio_min: 1.0``, ``late_deadlines_max: 0``). A threshold naming no summary
    figure is an error, not a silent pass; a figure that could not be measured (None) misses
    its threshold."""
    if not isinstance(thresholds, Mapping):
        raise ValueError("thresholds must be a mapping of <summary key>_min/_max to numbers")
    failures = []
    for key, limit in thresholds.items():
        name, _, bound = key.rpartition("_")
        if bound not in ("min", "max") or name not in summary:
            raise ValueError(f"unknown threshold {key!r}: expected <summary key>_min or _max")
        value = summary[name]
        limit = float(limit)
        if value is None:
            failures.append(f"{name}: not measured (threshold {bound} {limit:g})")
        elif bound == "min" and value < limit:
            failures.append(f"{name}: {value:g} < {limit:g}")
        elif bound == "max" and value > limit:
            failures.append(f"{name}: {value:g} > {limit:g}")
    return failures
