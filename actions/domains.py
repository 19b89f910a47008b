"""The legal domains the assistant triages: intent names, slot values and labels, in one place."""

from __future__ import annotations

import re

from actions.parsing import fold, says_nothing

IN_SCOPE = (
    "etrangers",
    "urbanisme",
    "fonction_publique",
    "fiscalite",
    "collectivites",
    "responsabilite_administrative",
    "police_administrative",
    "commande_publique",
    "environnement",
    "elections",
)
OUT_OF_SCOPE = "hors_champ"
ALL = IN_SCOPE + (OUT_OF_SCOPE,)  # the order of the domain buttons in domain.yml

LABELS = {
    "etrangers": "Droit des étrangers",
    "urbanisme": "Urbanisme",
    "fonction_publique": "Fonction publique",
    "fiscalite": "Fiscalité",
    "collectivites": "Collectivités territoriales",
    "responsabilite_administrative": "Responsabilité administrative",
    "police_administrative": "Police administrative",
    "commande_publique": "Commande publique",
    "environnement": "Environnement",
    "elections": "Élections",
    OUT_OF_SCOPE: "Hors droit public",
}

# Domains where a liberty measure (OQTF, rétention, assignation) can be at stake (LEGAL.md F1).
LIBERTY_DOMAINS = ("etrangers", "police_administrative")

_KEYWORDS = {
    "etrangers": ("etranger", "etrangers", "sejour", "oqtf", "titre", "visa", "naturalisation",
                  "asile"),
    "urbanisme": ("urbanisme", "permis", "plu", "construire"),
    "fonction_publique": ("fonction publique", "fonctionnaire", "agent"),
    "fiscalite": ("impot", "impots", "taxe", "taxes", "fiscal", "fiscalite"),
    "collectivites": ("commune", "collectivite", "collectivites", "conseil municipal", "mairie"),
    "responsabilite_administrative": ("dommage", "responsabilite", "indemnisation", "accident",
                                      "administration"),
    "police_administrative": ("police", "fermeture", "interdiction", "mesure de police"),
    "commande_publique": ("marche", "marches", "marches publics", "appel d offres",
                          "commande publique"),
    "environnement": ("environnement", "eolien", "eolienne", "eoliennes", "icpe", "pollution"),
    "elections": ("election", "elections", "electoral", "vote"),
    OUT_OF_SCOPE: ("autre", "famille", "travail", "penal", "logement"),
}


def from_intent(intent: str | None) -> str | None:
    """'question_urbanisme' -> 'urbanisme'; None for any other intent.

    An out-of-scope topic ('question_hors_champ__famille', an NLU training label that
    permanence/intent_merge.py reports as 'question_hors_champ') is 'hors_champ' too.
    """
    base = (intent or "").split("__", 1)[0]
    if base.startswith("question_") and base[len("question_"):] in ALL:
        return base[len("question_"):]
    return None


# When a question is classified as a short answer ("inform") or is uncertain, the best
# question_* intent of the ranking still tells its domain if it has at least this confidence.
MIN_RANKED_CONFIDENCE = 0.05
MIN_QUESTION_CHARS = 15


def from_message(message: dict) -> str | None:
    """The domain of a question message: its intent, or the best question_* of its ranking.

    "j'ai reçu une OQTF hier et je suis au CRA" can come out as ``inform`` (it reads like an
    answer); its ranking still puts ``question_etrangers`` first among the questions. The person
    sees the domain in the summary and can correct it.
    """
    intent = (message.get("intent") or {}).get("name")
    domain = from_intent(intent)
    if domain or len(message.get("text") or "") < MIN_QUESTION_CHARS:
        return domain
    if intent not in ("inform", "nlu_fallback"):
        return None
    ranked = [
        (r.get("confidence") or 0.0, from_intent(r.get("name")))
        for r in message.get("intent_ranking") or []
    ]
    ranked = [(confidence, d) for confidence, d in ranked if d]
    if ranked:
        confidence, best = max(ranked)
        if confidence >= MIN_RANKED_CONFIDENCE:
            return best
    return None


def parse_domain(text: str) -> str | None:
    """A domain from a button payload ('/question_x'), its number in the list, or words."""
    stripped = (text or "").strip()
    if stripped in ALL:
        return stripped
    if stripped.startswith("/"):
        return from_intent(stripped[1:].split("{", 1)[0])
    folded = fold(stripped)
    if folded.isdigit() and 1 <= int(folded) <= len(ALL):
        return ALL[int(folded) - 1]
    padded = f" {re.sub(r'[^a-z0-9]+', ' ', folded)} "
    for domain, words in _KEYWORDS.items():
        if any(f" {w} " in padded for w in words):
            return domain
    return None


# Decisions (actions/gazetteer.py DECISIONS kinds) that belong to one domain only. When the
# person names one and the NLU read another domain (« manif interdite par le préfet » read as
# environnement), the decision decides: its deadline rule is the one that applies.
DECISION_DOMAINS = {
    "oqtf": "etrangers",
    "refus_titre_sejour": "etrangers",
    "irtf": "etrangers",
    "eloignement": "etrangers",
    "refus_permis": "urbanisme",
    "fermeture_administrative": "police_administrative",
    "interdiction_manifestation": "police_administrative",
    "suspension_permis_conduire": "police_administrative",
    "refus_titularisation": "fonction_publique",
    "revocation": "fonction_publique",
    "redressement_fiscal": "fiscalite",
    "rejet_offre": "commande_publique",
    "autorisation_environnementale": "environnement",
    "indu_prestation": "collectivites",
    "prestation_sociale": "collectivites",
    "dommage_travaux_publics": "responsabilite_administrative",
    "mesure_animal": "police_administrative",
    "service_public_local": "collectivites",
    "refus_entree": "etrangers",
    "asile": "etrangers",
    "naturalisation": "etrangers",
    "visa": "etrangers",
    "expropriation": "urbanisme",
    "preemption": "urbanisme",
    "retrait_points": "police_administrative",
    "bourse": "collectivites",
    "dalo": "collectivites",
    "autorisation_sante": "police_administrative",
    "evacuation": "police_administrative",
    "armes": "police_administrative",
    "attribution_marche": "commande_publique",
    "resultats_election": "elections",
}
# A damage in a public service (a fall at the canteen) is a liability claim, not the service's
# decision: these kinds do not pull the domain to collectivites.
_DAMAGE_KINDS = ("accident", "dommage_travaux_publics")


def consistent(domain: str | None, decisions: list[str]) -> str | None:
    """``domain``, unless it is an in-scope domain that none of the named decisions belongs to
    while they all point to one other domain: then that one. Out of scope, no domain yet, or
    decisions of several domains: unchanged (the person sees the domain in the summary)."""
    if domain not in IN_SCOPE:
        return domain
    damage = any(d in _DAMAGE_KINDS for d in decisions)
    owners = {DECISION_DOMAINS[d] for d in decisions if d in DECISION_DOMAINS
              and not (damage and d == "service_public_local")}
    if len(owners) == 1 and domain not in owners:
        return owners.pop()
    return domain


def ranked_in_scope(events: list[dict], latest: bool = False) -> str | None:
    """The best public-law domain of the NLU ranking of the person's first message (their
    latest one with ``latest``), from tracker events."""
    users = [e for e in events if e.get("event") == "user" and (e.get("text") or "").strip()]
    if not latest:
        # The first message that tells something: not « bonjour, j'ai besoin d'un conseil »,
        # not the consent's « oui » (the story asked after them is then the question).
        telling = [e for e in users if len(e.get("text") or "") >= MIN_QUESTION_CHARS
                   and not says_nothing(e.get("text"))]
        users = telling or users
    if not users:
        return None
    ranking = (users[-1 if latest else 0].get("parse_data") or {}).get("intent_ranking") or []
    for ranked in ranking:
        domain = from_intent(ranked.get("name"))
        if domain in IN_SCOPE:
            return domain
    return None
