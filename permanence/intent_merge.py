"""Out-of-scope questions are learnt as several sub-intents and reported as one (issue #12).

``question_hors_champ`` covers every legal matter outside public law: family, work, renting,
debts, insurance, inheritance, consumer disputes, criminal cases... DIET gives each intent one
embedding, and one point cannot sit close to all of them: an everyday question with unfamiliar
words was drawn to whichever public-law domain shared a word with it. The training data
(data/nlu/*hors_champ*.yml) therefore labels these examples ``question_hors_champ__<topic>``;
this component, placed after DIET and before the FallbackClassifier in config.yml, adds the
confidences of ``<intent>__<anything>`` into ``<intent>`` and re-ranks, so that the dialogue,
the actions and the held-out check only ever see ``question_hors_champ``.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

SEPARATOR = "__"
# DIET ranks every intent (ranking_length: 0 in config.yml) so that every sub-intent is added up;
# the merged ranking is then cut to DIET's usual length, as stored in the conversations.
RANKING_LENGTH = 10


def base_intent(name: str) -> str:
    """'question_hors_champ__famille' -> 'question_hors_champ'; other names unchanged."""
    return name.split(SEPARATOR, 1)[0] if SEPARATOR in name else name


def merge_ranking(ranking: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ranking with each sub-intent's confidence added to its base intent, best first
    (ties keep the order of first appearance)."""
    merged: dict[str, float] = {}
    for item in ranking:
        name = base_intent(item.get("name") or "")
        merged[name] = merged.get(name, 0.0) + float(item.get("confidence") or 0.0)
    order = sorted(enumerate(merged.items()), key=lambda entry: (-entry[1][1], entry[0]))
    return [{"name": name, "confidence": confidence} for _, (name, confidence) in order]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MergeSubIntents(GraphComponent, IntentClassifier):
    """Report ``<intent>__<topic>`` predictions as ``<intent>`` (see the module docstring)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MergeSubIntents:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY) or []
            intent = message.get(INTENT) or {}
            if ranking:
                merged = merge_ranking(ranking)[:RANKING_LENGTH]
                message.set(INTENT_RANKING_KEY, merged, add_to_output=True)
                message.set(INTENT, dict(merged[0]), add_to_output=True)
            elif SEPARATOR in (intent.get("name") or ""):
                message.set(INTENT, {**intent, "name": base_intent(intent["name"])},
                            add_to_output=True)
        return messages
