"""The legal domains the assistant triages: intent names, slot values and labels, in one place."""

from __future__ import annotations

from actions.parsing import fold

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
    "etrangers": ("etranger", "sejour", "oqtf", "titre", "visa", "naturalisation", "asile"),
    "urbanisme": ("urbanisme", "permis", "plu", "construire"),
    "fonction_publique": ("fonction publique", "fonctionnaire", "agent"),
    "fiscalite": ("impot", "taxe", "fiscal"),
    "collectivites": ("commune", "collectivite", "conseil municipal", "mairie"),
    "responsabilite_administrative": ("dommage", "responsabilite", "indemnisation", "accident"),
    "police_administrative": ("police", "fermeture", "interdiction"),
    "commande_publique": ("marche", "appel d'offres", "commande publique"),
    "environnement": ("environnement", "eolien", "icpe", "pollution"),
    "elections": ("election", "electoral", "vote"),
    OUT_OF_SCOPE: ("autre", "famille", "travail", "penal", "logement"),
}


def from_intent(intent: str | None) -> str | None:
    """'question_urbanisme' -> 'urbanisme'; None for any other intent."""
    if intent and intent.startswith("question_") and intent[len("question_"):] in ALL:
        return intent[len("question_"):]
    return None


def parse_domain(text: str) -> str | None:
    """A domain from a button payload ('/question_x'), its number in the list, or words."""
    stripped = (text or "").strip()
    if stripped.startswith("/"):
        return from_intent(stripped[1:].split("{", 1)[0])
    folded = fold(stripped)
    if folded.isdigit() and 1 <= int(folded) <= len(ALL):
        return ALL[int(folded) - 1]
    for domain, words in _KEYWORDS.items():
        if any(w in folded for w in words):
            return domain
    return None
