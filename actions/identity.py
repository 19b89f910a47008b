"""« Vous êtes un robot ? » / « Vous êtes humain ? »: which answer fits the question as asked.

The answer always says the same thing (an automated assistant, an AI, not a human, not the
lawyer: LEGAL.md S1), but its first word answers the question: « Oui » to « êtes-vous un robot
? », « Non » to « êtes-vous humain ? » or « c'est l'avocat qui répond ? » (issue #12). A question
naming both, a negative question (« vous n'êtes pas un robot ? ») or neither gets an answer
without « oui » or « non ».
"""

from __future__ import annotations

import re

from actions.parsing import fold

MACHINE = "utter_iamabot"  # « Oui, je suis un assistant automatisé (une IA)… »
HUMAN = "utter_iamabot_human"  # « Non, je ne suis pas un humain… »
NEUTRAL = "utter_iamabot_neutral"  # « Je suis un assistant automatisé (une IA), pas un humain… »

_HUMAN = re.compile(
    r"\b(humaine?s?|etre humain|vraie? personne|personne (reelle|physique|en vrai)"
    r"|(vous etes|tu es|t es|etes vous|es tu) (bien )?(reel|reelle|vrai|vraie)"
    r"|quelqu ?un (de )?(reel|vrai|derriere)|en chair et en os|vrai avocat|vraie avocate"
    r"|secretaire|standardiste|stagiaire|juriste"
    r"|l ?avocate? (en personne|lui meme|elle meme|qui (me )?(repond|ecrit))"
    r"|maitre \w+ (en personne|qui (me )?(repond|ecrit)))\b")
_MACHINE = re.compile(
    r"\b(robots?|bots?|chat ?bots?|ia|intelligence artificielle|machines?|automatiques?"
    r"|automatise(e|s|es)?|programmes?|ordinateurs?|algorithmes?|chat ?gpt|gpt|assistant virtuel"
    r"|logiciel|generee?s? par)\b")
_OR_NOT = re.compile(r"\b(ou pas|ou non|oui ou non)\b")
_NEGATION = re.compile(r"\b(n ?\w+ pas|pas (un|une|de|du)|ne \w+ pas)\b")


def _words(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9]+", " ", fold(text)).strip() + " "


def answer_for(text: str | None) -> str:
    """The response that answers ``text`` (a bot_challenge message) as it is phrased."""
    words = _OR_NOT.sub(" ", _words(text or ""))
    human = bool(_HUMAN.search(words))
    machine = bool(_MACHINE.search(words))
    if human == machine or _NEGATION.search(words):
        return NEUTRAL
    return HUMAN if human else MACHINE
