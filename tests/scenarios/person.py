"""The person of a scenario: answers what the assistant asks, from the scenario's bank.

The assistant's questions are never scripted. After each bot turn the runner tells the person
what the bot asked: a list of keys (:data:`DIALOGUE_KEYS`, and the fact keys of
``actions/facts.py`` QUESTIONS). The person answers with:

1. the next of its explicit ``turns`` (corrections, refusals, another language, « avocat »),
   if it applies: a plain string applies to any question; ``{when: KEYS, say: TEXT}`` waits for
   a question asking one of KEYS (a key, a list of keys, ``any``, or ``fact`` for any fact
   key); ``then: {key: answer}`` updates the bank once it is said (what the person now
   answers, e.g. the corrected date);
2. otherwise the ``answers`` bank: the answers to every asked key, joined with ", " as a person
   writes them in one message; a key missing from the bank gets « je ne sais pas ». A bank
   answer may be a list: the first time the key is asked the person says the first one, when
   asked again the next one (a person rephrases, or taps the button, once not understood),
   and the last one from then on;
3. when the bot asked nothing the person can tell (no key: « Je n'ai pas bien compris »), the
   person writes the same message again, once; then follows the hint every such answer gives
   and writes « avocat » (:data:`LOST`).

Pure: no I/O, no Rasa.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DONT_KNOW = "je ne sais pas"
# The dialogue's own questions, besides fact keys: the intake's (``asked`` slot: story,
# confirm, correction), those read from the tracker (consent, the domain buttons), and the
# scope question of issue #12 item 6 (« Est-ce une administration… ? »), not asked yet.
DIALOGUE_KEYS = ("consent", "story", "confirm", "correction", "scope", "domain")
# A key the intake asks under a narrower name than the bank's: the display date of a
# neighbour, or the notification date of anyone else (facts.QUESTIONS
# ``date_display_or_notified``, asked as one or the other).
ALIASES = {"date_display": "date_display_or_notified",
           "date_notified": "date_display_or_notified"}
DEFAULTS = {"consent": "oui", "confirm": "c'est bien ça, merci",
            "correction": "rien, c'est bon"}
SCOPE_YES = "oui, c'est une administration"
SCOPE_NO = "non, ce n'est pas une administration"
LOST = "je ne comprends pas, je veux parler à l'avocat"


@dataclass
class Person:
    story: str
    answers: dict[str, Any] = field(default_factory=dict)
    turns: list[Any] = field(default_factory=list)
    asked_count: Counter = field(default_factory=Counter)
    last: str = ""
    lost: int = 0

    @classmethod
    def of(cls, scenario: Mapping[str, Any]) -> Person:
        answers = dict(scenario.get("answers") or {})
        route = (scenario.get("expect") or {}).get("route")
        answers.setdefault("scope", SCOPE_NO if route == "referral" else SCOPE_YES)
        return cls(story=str(scenario["say"]), answers=answers,
                   turns=list(scenario.get("turns") or []), last=str(scenario["say"]))

    def bank(self, key: str) -> str:
        """The answer to ``key`` now (the n-th alternative the n-th time it is asked)."""
        name = key if key in self.answers else ALIASES.get(key, key)
        if name in self.answers:
            answer = self.answers[name]
            if isinstance(answer, list):
                if not answer:
                    return DONT_KNOW
                return str(answer[min(self.asked_count[key], len(answer) - 1)])
            return str(answer)
        if key == "story":
            return self.story
        return DEFAULTS.get(key, DONT_KNOW)

    def reply(self, asked: Sequence[str]) -> tuple[str, str]:
        """The person's next message and where it came from (``turn``, ``bank`` or ``lost``)."""
        text, source = self._reply(list(asked))
        self.last = text
        return text, source

    def _reply(self, asked: list[str]) -> tuple[str, str]:
        if self.turns and applies(self.turns[0], asked):
            self.lost = 0
            head = self.turns.pop(0)
            self.asked_count.update(asked)
            if isinstance(head, str):
                return head, "turn"
            self.answers.update(head.get("then") or {})
            for key in head.get("then") or {}:
                self.asked_count[key] = 0
            return str(head["say"]), "turn"
        if not asked:
            self.lost += 1
            return (self.last if self.lost == 1 else LOST), "lost"
        self.lost = 0
        parts: list[str] = []
        for key in asked:
            answer = self.bank(key)
            if answer not in parts:
                parts.append(answer)
        self.asked_count.update(asked)
        if len(parts) > 1 and DONT_KNOW in parts:
            parts.remove(DONT_KNOW)
            parts.append(f"le reste {DONT_KNOW}")
        return ", ".join(parts), "bank"


def is_fact_key(key: str) -> bool:
    return key not in DIALOGUE_KEYS


def applies(turn: Any, asked: Sequence[str]) -> bool:
    """Whether an explicit turn is said now, given the keys just asked."""
    if isinstance(turn, str):
        return True
    on = turn.get("when", "any")
    keys = [on] if isinstance(on, str) else list(on)
    if "any" in keys:
        return True
    if "fact" in keys and any(is_fact_key(key) for key in asked):
        return True
    return any(key in keys for key in asked)
