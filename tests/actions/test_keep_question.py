"""The question kept for the lawyer (``question_initiale``): every message of the person, joined,
cut at 2,000 characters at a word and marked « […] » (a message may have 10,000)."""

from __future__ import annotations

from actions.consent import ELLIPSIS, QUESTION_MAX_CHARS, keep_question


def test_messages_are_joined_one_a_line() -> None:
    assert keep_question(None, "la mairie refuse mon permis") == "la mairie refuse mon permis"
    assert keep_question("première", "seconde") == "première\nseconde"


def test_a_long_question_is_cut_at_a_word_and_marked() -> None:
    kept = keep_question(None, "mot " * 1000)
    assert len(kept) <= QUESTION_MAX_CHARS
    assert kept.endswith(ELLIPSIS)
    assert kept[: -len(ELLIPSIS)].split(" ")[-1] == "mot"  # no word cut in half


def test_a_text_without_spaces_is_cut_at_the_limit() -> None:
    kept = keep_question(None, "x" * 5000)
    assert len(kept) == QUESTION_MAX_CHARS and kept.endswith(ELLIPSIS)


def test_once_full_nothing_more_is_added() -> None:
    full = keep_question(None, "mot " * 1000)
    assert keep_question(full, "encore une précision") == full


def test_exactly_at_the_limit_is_kept_whole() -> None:
    text = "a" * QUESTION_MAX_CHARS
    assert keep_question(None, text) == text
