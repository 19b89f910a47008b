"""Which domain a question message is routed to (actions/domains.py:from_message)."""

from __future__ import annotations

import pytest

from actions.domains import MIN_RANKED_CONFIDENCE, from_message, parse_domain


def message(text: str, intent: str, ranking: list[tuple[str, float]]) -> dict:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": ranking[0][1] if ranking else 1.0},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }


QUESTION = "j'ai reçu une OQTF hier et je suis en rétention au CRA"


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        # A question intent is its own domain.
        (message(QUESTION, "question_etrangers", [("question_etrangers", 0.9)]), "etrangers"),
        (message(QUESTION, "question_hors_champ", [("question_hors_champ", 0.6)]), "hors_champ"),
        # Read as a short answer: the best question_* of the ranking decides.
        (message(QUESTION, "inform", [("inform", 0.82), ("question_etrangers", 0.09),
                                      ("ask_fees", 0.07), ("question_urbanisme", 0.01)]),
         "etrangers"),
        (message(QUESTION, "nlu_fallback", [("nlu_fallback", 0.35), ("question_fiscalite", 0.3),
                                            ("question_hors_champ", 0.2)]), "fiscalite"),
        # ... unless no question intent is credible: ask the person.
        (message(QUESTION, "inform", [("inform", 0.97), ("question_etrangers",
                                                         MIN_RANKED_CONFIDENCE / 2)]), None),
        # Too short to be a question, or another kind of message altogether.
        (message("préfecture", "inform", [("inform", 0.6), ("question_etrangers", 0.3)]), None),
        (message("je veux parler à l'avocat svp", "ask_lawyer",
                 [("ask_lawyer", 0.6), ("question_etrangers", 0.3)]), None),
        (message("bonjour bonjour bonjour", "greet",
                 [("greet", 0.6), ("question_urbanisme", 0.3)]), None),
    ],
)
def test_from_message(msg: dict, expected: str | None) -> None:
    assert from_message(msg) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fonction_publique", "fonction_publique"),  # the slot value itself (set by routing)
        ("/question_elections", "elections"),
        ("3", "fonction_publique"),  # third button
        ("11", "hors_champ"),
        ("c'est plutôt les impôts", "fiscalite"),
        ("des éoliennes", "environnement"),
        ("je ne sais plus", None),
        ("/greet", None),
    ],
)
def test_parse_domain(text: str, expected: str | None) -> None:
    assert parse_domain(text) == expected


def test_a_decision_of_one_domain_corrects_another_domain_read_by_the_nlu() -> None:
    from actions.domains import consistent

    assert consistent("environnement", ["interdiction_manifestation"]) == "police_administrative"
    assert consistent("environnement", ["indu_prestation"]) == "collectivites"
    # the decision fits the domain, or several domains are named, or none is named: unchanged
    assert consistent("etrangers", ["oqtf", "refus_titre_sejour"]) == "etrangers"
    assert consistent("urbanisme", ["oqtf", "rejet_offre"]) == "urbanisme"
    assert consistent("fonction_publique", ["licenciement"]) == "fonction_publique"
    # out of scope stays out of scope (a private party only), and no domain stays none
    assert consistent("hors_champ", ["oqtf"]) == "hors_champ"
    assert consistent(None, ["oqtf"]) is None
