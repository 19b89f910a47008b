"""What the assistant understood of an out-of-scope question, in one line the person can correct
(issue #12, item 6: « A referral shows what was understood and lets the person correct it »).

Pure (no Rasa, no I/O). :func:`understood` words the dispute from the private parties
``actions/facts.py`` found (« un litige avec votre employeur privé »), or from a few everyday
words when no party is named; :func:`corrects_to_public_law` tells whether the person's answer
to the referral says an administration decided after all (« non, c'est la mairie qui m'a
licencié »), which sends the conversation to the public-law triage instead.
"""

from __future__ import annotations

import re
from datetime import datetime

from actions import facts as F
from actions.parsing import fold

# The dispute, by private party kind (actions/gazetteer.py PRIVATE_PARTIES), first match wins.
_BY_PARTY: tuple[tuple[str, str], ...] = (
    ("employeur_prive", "un litige avec votre employeur privé"),
    ("travail_prive", "un litige de travail avec un employeur privé"),
    ("bailleur", "un litige de location (propriétaire, agence, caution)"),
    ("assurance", "un litige avec une assurance"),
    ("banque", "une question de dette ou de crédit"),
    ("commercant", "un litige avec une entreprise ou un commerçant"),
    ("voisin", "un litige avec un voisin"),
    ("particulier", "un litige entre particuliers"),
)
# The family kind covers several matters: the person's words say which one.
_FAMILY: tuple[tuple[str, str], ...] = (
    (r"\b(?:succession|heritage|heriter|notaire|testament)", "une succession"),
    (r"\b(?:tutelle|curatelle|tuteur|curateur)", "une mesure de protection (tutelle, curatelle)"),
    (r".", "une question de famille (divorce, enfants, pension)"),
)
# Everyday words when no party is named.
_BY_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(?:plainte|procureur|classe(?:e)? sans suite|garde a vue|casier|tribunal correctionnel"
     r"|penal\w*|agress\w*|vol de)", "une affaire pénale (plainte, procureur)"),
    (r"\b(?:succession|heritage|heriter|notaire|testament)", "une succession"),
    (r"\b(?:tutelle|curatelle)", "une mesure de protection (tutelle, curatelle)"),
    (r"\b(?:divorce|garde des enfants|pension alimentaire|pacs|mariage)",
     "une question de famille (divorce, enfants, pension)"),
    (r"\b(?:licencie|licenciement|employeur|salaire|prud)", "un litige de travail"),
    (r"\b(?:loyer|bail|locataire|proprio|proprietaire)", "un litige de location"),
    (r"\b(?:assurance|assureur|seguro|insurance)", "un litige avec une assurance"),
    (r"\b(?:dette|credit|huissier|banque)", "une question de dette ou de crédit"),
)
GENERIC = "une question entre particuliers ou avec une entreprise"
NO_ADMINISTRATION = "sans administration en cause"


def topic(facts: F.Facts, text: str) -> str:
    """The dispute in a few words: « un litige avec votre employeur privé »."""
    folded = fold(text)
    kinds = [p.value for p in facts.private_parties]
    if "famille" in kinds:
        return next(label for pattern, label in _FAMILY if re.search(pattern, folded))
    for kind, label in _BY_PARTY:
        if kind in kinds:
            return label
    for pattern, label in _BY_WORDS:
        if re.search(pattern, folded):
            return label
    return GENERIC


def understood(facts: F.Facts, text: str) -> str:
    """« J'ai compris : un litige avec votre employeur privé, sans administration (…). »"""
    return f"J'ai compris : {topic(facts, text)}, {NO_ADMINISTRATION}."


# « pas la mairie », « ni l'État », « aucune administration »: an administration denied.
_DENIED_ADMINISTRATION = re.compile(
    r"\b(?:pas|ni|aucune?|non pas) (?:de |la |le |l'|une? |d'une? )?(?:mairie|prefecture|"
    r"administration|etat|commune|ville|departement|region|fonction publique)\b")


def corrects_to_public_law(text: str, now: datetime) -> bool:
    """Whether an answer to the referral says an administration decided after all: it names one
    (« c'est la mairie qui m'a licencié »), or a decision only an administration takes (an OQTF,
    a permit), and does not deny it (« ce n'est pas la mairie »)."""
    if _DENIED_ADMINISTRATION.search(fold(text)):
        return False
    return F.extract(text, now).is_administration() is True


def corrects_to_private(text: str, now: datetime) -> bool:
    """Whether a correction at the triage's summary says no administration is in it: a private
    party named (« non, c'est mon employeur privé, pas la mairie »), no administration left
    once the denied ones are set aside. The conversation then goes to the referral."""
    folded = fold(text)
    if not re.match(r"\s*(?:non|nan|pas|en fait|erreur|c'est faux)\b", folded) and not (
            _DENIED_ADMINISTRATION.search(folded)):
        return False
    kept = _DENIED_ADMINISTRATION.sub(" ", folded)
    facts = F.extract(kept, now)
    # « mon employeur » alone may be a commune: the correction must say it is private.
    plainly_private = _PLAINLY_PRIVATE.search(folded) or any(
        p.value not in ("employeur_prive", "voisin") for p in facts.private_parties)
    return bool(plainly_private) and facts.is_administration() is False


_PLAINLY_PRIVATE = re.compile(r"\b(?:privee?s?|particuliers?|entreprise|societe|sarl|sas|"
                              r"pas (?:de |d'une? )?administration|aucune administration)\b")
