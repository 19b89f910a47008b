"""scripts/nlu_heldout.py: the scope as the assistant decides it (facts included, asked apart)."""

from __future__ import annotations

from scripts.nlu_heldout import ASK_SCOPE, assistant_correct, part_scores


def test_an_asked_question_counts_as_right_and_is_counted() -> None:
    assert assistant_correct("question_hors_champ", ASK_SCOPE)
    assert assistant_correct("question_urbanisme", ASK_SCOPE)
    assert assistant_correct("question_hors_champ", "hors_champ")
    assert not assistant_correct("question_hors_champ", "urbanisme")
    assert not assistant_correct("question_urbanisme", "hors_champ")


def test_a_part_is_scored_from_the_nlu_and_as_the_assistant_decides() -> None:
    sources = ["quotidien", "quotidien", "quotidien", "other"]
    pairs = [("question_hors_champ", "question_urbanisme")] * 3 + [("question_hors_champ", "x")]
    nlu = ["urbanisme", "urbanisme", "hors_champ", "urbanisme"]
    assistant = ["hors_champ", ASK_SCOPE, "hors_champ", "urbanisme"]
    scores = part_scores(["quotidien"], sources, pairs, nlu, assistant)["quotidien"]
    assert scores == {"examples": 3, "scope_accuracy": round(1 / 3, 4),
                      "assistant_scope_accuracy": 1.0, "asked": 1}
