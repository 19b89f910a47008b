"""permanence/intent_merge.py: out-of-scope sub-intents are reported as question_hors_champ."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from permanence.intent_merge import MergeSubIntents, base_intent, merge_ranking

ROOT = Path(__file__).resolve().parents[2]


def test_base_intent() -> None:
    assert base_intent("question_hors_champ__famille") == "question_hors_champ"
    assert base_intent("question_hors_champ") == "question_hors_champ"
    assert base_intent("question_urbanisme") == "question_urbanisme"


def test_sub_intents_add_up_and_can_overtake_the_top_intent() -> None:
    ranking = [
        {"name": "question_urbanisme", "confidence": 0.40},
        {"name": "question_hors_champ__logement", "confidence": 0.30},
        {"name": "question_hors_champ__voisinage", "confidence": 0.20},
        {"name": "question_environnement", "confidence": 0.10},
    ]
    merged = merge_ranking(ranking)
    assert [item["name"] for item in merged] == [
        "question_hors_champ", "question_urbanisme", "question_environnement"]
    assert merged[0]["confidence"] == pytest.approx(0.50)


def test_a_ranking_without_sub_intents_is_unchanged() -> None:
    ranking = [{"name": "affirm", "confidence": 0.9}, {"name": "deny", "confidence": 0.1}]
    assert merge_ranking(ranking) == ranking


def test_process_sets_the_merged_intent_and_ranking() -> None:
    message = Message({TEXT: "mon proprio garde ma caution"})
    message.set(INTENT, {"name": "question_hors_champ__logement", "confidence": 0.6})
    message.set(INTENT_RANKING_KEY, [
        {"name": "question_hors_champ__logement", "confidence": 0.6},
        {"name": "question_collectivites", "confidence": 0.3},
        {"name": "question_hors_champ", "confidence": 0.1},
    ])
    [out] = MergeSubIntents().process([message])
    assert out.get(INTENT) == {"name": "question_hors_champ", "confidence": pytest.approx(0.7)}
    assert [item["name"] for item in out.get(INTENT_RANKING_KEY)] == [
        "question_hors_champ", "question_collectivites"]


def test_every_sub_intent_of_the_training_data_is_in_the_domain_and_config() -> None:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    found = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        found |= set(re.findall(r"intent: (question_hors_champ__\w+)", path.read_text("utf-8")))
    assert found, "no sub-intent in data/nlu"
    assert found <= set(domain["intents"])
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [component["name"] for component in config["pipeline"]]
    merge = names.index("permanence.intent_merge.MergeSubIntents")
    assert names.index("DIETClassifier") < merge < names.index("FallbackClassifier")
    diet = config["pipeline"][names.index("DIETClassifier")]
    assert diet.get("ranking_length") == 0  # every sub-intent's confidence reaches the merge
