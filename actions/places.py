"""Places in a message (pure): the towns a story names, with a capital (« une maison à Pessac »)
or in lower case where the words say it is a place (« sur le marché de montreuil »), and the
whole name of a département of several words (« préfecture de seine maritime »).

They complete a placeless « maire » on the card (``actions/intake.py:adverse_text``); they are
not the person's own town (the postcode question still asks it).
"""

from __future__ import annotations

import re

from actions import gazetteer
from actions.dates_fr import fold_keep
from actions.referral import DEPARTEMENTS

# A place named with a capital after « à / au / sur / près de » (« une maison à Pessac »).
_PLACE_NAMED = re.compile(r"(?:\b[àa]|\bau|\bsur|\bpr[èe]s de|\bvers|\bcommune de|\bville de|"
                          r"\b[Hh]abitante? de|\b(?:commune|ville|village|mairie) ?(?=\())"
                          r" ?\(?((?:[A-ZÉÈÂ][\w'’]+)(?:[- ](?:(?:sur|sous|en|les|le|la|de|du|des|"
                          r"d'|l')[- ]?)?[A-ZÉÈ][\w'’]+)*)")
# Written in lower case, a place is read only where the words say it is one: « habitante de
# saint-omer », « sur le marché de montreuil », « mon commerce à lunel ».
_PLACE_LOWER = re.compile(
    r"\b(?:habitante?s? (?:de|d')|(?:j'?habite|j'?habitais|je vis|on vit|on habite|nous habitons|"
    r"installee?s?|situee?s?|(?:mon|ma|notre|un|une) (?:commerce|maison|terrain|ecole|village|"
    r"ville|boutique|restaurant|resto|snack|bar|cafe|hotel|salon|garage|pharmacie|officine|"
    r"cabinet|magasin|entreprise|exploitation)|(?:marche|village)(?: du \w+)?)"
    r" (?:a|au|de|d'|sur))\s?([a-z][a-z'-]{2,}[a-z](?: (?:sur|sous|en)"
    r"[- ][a-z][a-z-]+)?)(?=[ ,.;!?)\n]|$)")
# Words after « a » (the verb avoir) that no lower-case town is.
_NOT_TOWNS = frozenset({
    "ete", "fait", "eu", "recu", "pris", "dit", "mis", "ecrit", "du", "pu", "vu", "perdu",
    "obtenu", "voulu", "ouvert", "offert", "rendu", "vendu", "tenu", "venu", "refuse", "ferme",
    "decide", "demande", "retire", "envoye", "besoin", "rien", "tout", "toujours", "jamais",
    "deja", "bien", "encore", "cote", "coté", "cause", "partir", "compter", "nouveau", "domicile",
    "temps", "pied", "cheval", "velo", "distance", "proximite", "peine", "moins", "plus", "vie",
})
_SMALL_WORDS = frozenset({"de", "du", "des", "la", "le", "les", "sur", "sous", "en", "et", "l",
                          "d", "lès"})


def town_case(name: str) -> str:
    """« saint-jean-de-luz » → « Saint-Jean-de-Luz »."""
    parts = re.split(r"([- '])", name)
    out = []
    for index, part in enumerate(parts):
        keep = index and part in _SMALL_WORDS
        out.append(part if keep or part in "- '" else part[:1].upper() + part[1:])
    return "".join(out)
# Capitalised words after « à » that are no place.
_NOT_PLACES = frozenset({
    "madame", "monsieur", "maitre", "bonjour", "l'etat", "etat", "la", "le", "les", "chu", "chr",
    "oqtf", "caf", "urssaf", "prefecture", "mairie", "ministere", "universite", "pole", "france",
    "rectorat", "tribunal", "conseil", "region", "departement", "metropole", "hopital", "dieu",
    "noel", "paques", "toussaint", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
    "dimanche", "janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout",
    "septembre", "octobre", "novembre", "decembre", "partir", "compter", "cause", "nouveau",
})
_DEPARTEMENT_WORDS = tuple(sorted(
    {fold_keep(name).replace("-", " ") for name in DEPARTEMENTS.values() if "-" in name
     or " " in name}, key=len, reverse=True))


def departement_end(folded: str, start: int, end: int) -> int:
    """« préfecture de seine maritime »: a département's whole name, not « seine »."""
    ahead = folded[start:start + 40].replace("-", " ")
    for name in _DEPARTEMENT_WORDS:
        if ahead.startswith(name) and (len(ahead) == len(name) or not ahead[len(name)].isalpha()):
            return max(end, start + len(name))
    return end


def named_places(text: str, folded: str) -> list[tuple[str, int, int]]:
    """The places ``text`` names (``folded`` is its ``fold_keep``), each once, with its span."""
    places: list[tuple[str, int, int]] = []
    for m in [*_PLACE_NAMED.finditer(text), *_PLACE_LOWER.finditer(folded)]:
        name = text[m.start(1):m.end(1)]
        if name[:1].islower() and (fold_keep(name) in _NOT_TOWNS or re.search(
                r"(?:é|ée|és|ées)$", name) or re.match(r"[ld]['’]", name)):
            continue  # « ma maison a été… », « mon commerce a fermé »: a verb, not a town
        name = name if name[:1].isupper() else town_case(name)  # « montreuil »: « Montreuil »
        if (fold_keep(name).split()[0].split("-")[0] not in _NOT_PLACES
                and gazetteer.place_ok(fold_keep(name).lower())
                and all(fold_keep(p[0]) != fold_keep(name) for p in places)):
            places.append((name, m.start(1), m.end(1)))
    return places


# Département names that are also everyday words: read only with a capital (« dans le Lot »,
# not « dans le lot 3 »).
_AMBIGUOUS_DEPARTEMENTS = frozenset({"lot", "cher", "var", "ain", "orne", "eure", "gers",
                                     "nord", "somme", "indre", "loire", "marne", "vienne"})
_DEPARTEMENT_NAMES = {fold_keep(name).replace("-", " "): name for name in DEPARTEMENTS.values()}
_IN_DEPARTEMENT = re.compile(
    r"\b(?:dans (?:le |la |les |l')|en )(" + "|".join(
        re.escape(n) for n in sorted(_DEPARTEMENT_NAMES, key=len, reverse=True)) + r")\b")


def departement_named(text: str) -> str | None:
    """The one département a story places itself in (« une association dans le Doubs », « on
    habite en Gironde »), or None (none, or several). It completes a placeless « préfet »."""
    folded = fold_keep(text).replace("-", " ")
    found = set()
    for m in _IN_DEPARTEMENT.finditer(folded):
        name = m[1]
        capital = text[m.start(1):m.start(1) + 1].isupper()
        if name.split()[0] in _AMBIGUOUS_DEPARTEMENTS and not capital:
            continue
        found.add(_DEPARTEMENT_NAMES[name])
    return found.pop() if len(found) == 1 else None
