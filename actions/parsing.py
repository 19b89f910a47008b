"""Pure parsers for the triage form's free-text answers (no I/O, no Rasa imports).

Every function takes the person's text (and, for dates, "today") and returns a normalised value,
or ``None`` when the text cannot be understood, so that the form re-asks.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from functools import lru_cache

UNKNOWN = "nsp"  # "ne sait pas": the person does not know; stored as such, never guessed.

ROLES = ("particulier", "agent_public", "elu", "entreprise", "association")
ROLE_LABELS = {
    "particulier": "Particulier",
    "agent_public": "Agent public",
    "elu": "Élu(e)",
    "entreprise": "Entreprise",
    "association": "Association",
}
MESURES = ("retention", "assignation", "detention", "oqtf", "aucune", UNKNOWN)
MESURE_LABELS = {
    "retention": "Rétention (CRA)",
    "assignation": "Assignation à résidence",
    "detention": "Détention",
    "oqtf": "OQTF sans autre mesure",
    "aucune": "Aucune",
    UNKNOWN: "Ne sait pas",
}
YES_NO_LABELS = {"oui": "Oui", "non": "Non", UNKNOWN: "Ne sait pas"}


def fold(text: str) -> str:
    """Lower-case, strip accents, collapse spaces: 'Élu(e)  Préfecture' -> 'elu(e) prefecture'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("’", "'").replace("\u200b", "").replace("\u200f", "")
    return re.sub(r"\s+", " ", stripped).strip().lower()


def _words(folded: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", folded))


_UNKNOWN_PATTERNS = (
    r"\bje (ne )?(sais|sait|sai|c) (pas|plus)\b",
    r"\bj(e |')?sais (pas|plus)\b",
    r"\bchais pas\b",
    r"\bsais pas\b",
    r"\bsais plus\b",
    r"\baucune idee\b",
    r"\bne sait pas\b",
    r"\bnsp\b",
    r"\bje (ne )?(me|m'en) souviens (pas|plus)\b",
    r"\bme rappelle (pas|plus)\b",
    r"\bj'?ai oublie\b",
    r"\bpas sur\b",
    r"\bidk\b",
    r"\bjsp\b",
)


def is_unknown(text: str) -> bool:
    """True when the answer means 'I don't know'."""
    folded = fold(text)
    return any(re.search(p, folded) for p in _UNKNOWN_PATTERNS)


_YES = {"oui", "ouais", "ouai", "yes", "yep", "ok", "okay", "exact", "exactement", "absolument",
        "bien", "voila", "affirmatif", "evidemment", "certes", "si", "oe", "wi", "yup", "vrai"}
_NO = {"non", "nan", "no", "nope", "pas", "jamais", "aucun", "aucune", "rien", "negatif", "nn"}


def parse_yes_no(text: str) -> str | None:
    """'oui' / 'non' / 'nsp' from a free answer, or None if unclear.

    Numbers refer to the button order Oui / Non / Je ne sais pas (channels render buttons as a
    numbered list).
    """
    folded = fold(text)
    if not folded:
        return None
    if folded in {"1", "2", "3"}:
        return {"1": "oui", "2": "non", "3": UNKNOWN}[folded]
    if is_unknown(text):
        return UNKNOWN
    if any(e in text for e in ("👍", "✅")):
        return "oui"
    if any(e in text for e in ("👎", "❌")):
        return "non"
    words = _words(folded)
    yes, no = bool(words & _YES), bool(words & _NO)
    if folded.startswith(("non", "nan", "pas ")):
        return "non"
    if folded.startswith(("oui", "ouais", "yes")):
        return "oui"
    if yes and not no:
        return "oui"
    if no and not yes:
        return "non"
    return None


_ROLE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("association", ("association", "asso", "assoc", "collectif", "syndicat", "ong", "federation")),
    ("elu", ("elu", "elue", "elus", "maire", "adjoint", "adjointe", "conseiller municipal",
             "conseillere municipale", "conseiller departemental", "conseiller regional", "depute",
             "senateur", "senatrice", "candidat", "candidate", "opposition")),
    ("agent_public", ("agent public", "agent", "agente", "fonctionnaire", "contractuel",
                      "contractuelle", "titulaire", "stagiaire de la fonction", "militaire",
                      "gendarme", "policier", "policiere", "enseignant", "enseignante", "prof",
                      "professeur", "infirmier", "infirmiere", "aide-soignant", "aide-soignante",
                      "atsem", "territorial", "territoriale", "hospitalier", "hospitaliere",
                      "attache", "redacteur", "adjoint administratif",
                      "adjointe administrative", "adjoint technique", "adjointe technique")),
    ("entreprise", ("entreprise", "societe", "sarl", "sas", "sasu", "eurl", "artisan",
                    "commercant", "commercante", "auto-entrepreneur", "auto entrepreneur",
                    "autoentrepreneur", "micro-entreprise", "micro entreprise", "gerant",
                    "gerante", "start-up", "startup", "pme", "restaurateur", "entrepreneur",
                    "agriculteur", "agricultrice", "exploitant", "exploitante", "promoteur")),
    ("particulier", ("particulier", "particuliere", "perso", "personnel", "moi-meme", "moi meme",
                     "citoyen", "citoyenne", "habitant", "habitante", "riverain", "riveraine",
                     "voisin", "voisine", "etudiant", "etudiante", "parent", "retraite",
                     "retraitee", "salarie", "salariee", "simple", "personne", "moi",
                     "contribuable", "proprietaire", "locataire", "administre")),
)


def parse_role(text: str) -> str | None:
    """The person's role: particulier, agent_public, elu, entreprise or association."""
    folded = fold(text)
    if folded in {"1", "2", "3", "4", "5"}:
        return ROLES[int(folded) - 1]
    padded = f" {re.sub(r'[^a-z0-9-]+', ' ', folded)} "
    # The longest matching phrase wins: "adjoint administratif" (agent) over "adjoint" (élu).
    matches = [(len(k), role) for role, keywords in _ROLE_KEYWORDS for k in keywords
               if f" {k} " in padded]
    return max(matches)[1] if matches else None


_MESURE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("retention", ("retention", "cra", "centre de retention", "retenu", "retenue",
                   "zone d'attente")),
    ("assignation", ("assignation", "assigne", "assignee", "pointer", "pointage", "pointe")),
    ("detention", ("detention", "detenu", "detenue", "prison", "incarcere", "incarceree",
                   "maison d'arret", "ecroue", "ecrouee")),
    ("oqtf", ("oqtf", "obligation de quitter")),
    ("aucune", ("aucune", "aucun", "non", "rien", "nan", "pas de mesure", "libre", "ni l'un")),
)


def parse_mesure(text: str) -> str | None:
    """The liberty measure the person is under (LEGAL.md F1), or None if unclear."""
    folded = fold(text)
    if folded in {"1", "2", "3", "4", "5"}:
        return MESURES[int(folded) - 1]
    if is_unknown(text):
        return UNKNOWN
    padded = f" {re.sub(r'[^a-z0-9]+', ' ', folded.replace(chr(39), ' '))} "
    for mesure, keywords in _MESURE_KEYWORDS:
        for keyword in keywords:
            normal = re.sub(r"[^a-z0-9]+", " ", keyword)
            if f" {normal} " in padded:
                return mesure
    return None


_POSTCODE = re.compile(r"(?<![0-9])([0-9]{2}) ?([0-9]{3})(?![0-9])")


def ascii_digits(text: str) -> str:
    """'٧٥٠١١' or '７５０１１' -> '75011': people type digits on many keyboards."""
    return "".join(
        str(unicodedata.decimal(c)) if not c.isascii() and unicodedata.decimal(c, None) is not None
        else c
        for c in text
    )


def parse_postcode(text: str) -> str | None:
    """A French postal code (metropolitan, Corsica, overseas), as 5 digits, or None.

    Valid first two digits: 01-95, 971-976 and 984-988 (overseas); '00', '96' and '99' do not
    exist, and 980xx is Monaco.
    """
    for match in _POSTCODE.finditer(ascii_digits(text or "")):
        code = match.group(1) + match.group(2)
        prefix = int(code[:2])
        if code.endswith("000") and prefix == 0:
            continue
        if prefix == 97 and code[2] not in "123456":
            continue
        if prefix == 98 and code[2] not in "4678":  # 980xx is Monaco, not France
            continue
        if 1 <= prefix <= 95 or prefix in (97, 98):
            return code
    return None


_DATE_NOISE = re.compile(
    r"\b(je l'?ai|j'?ai|on l'?a|elle a ete|il a ete|recue?s?|recu|notifiee?s?|affichee?s?|"
    r"publiee?s?|envoyee?s?|c'?etait|depuis|environ|vers|a peu pres|datee? du|date du|en date du)\b"
)


_DATE_WORD = re.compile(
    r"[0-9]|\b(hier|avant-hier|aujourd'?hui|demain|apres-demain|semaines?|mois|ans?|annee|jours?|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|janv\w*|fevr?\w*|mars|avr\w*|mai|"
    r"juin|juil\w*|aout|sept\w*|oct\w*|nov\w*|dec\w*|debut|fin|mi)\b"
)


def _check_past(value: date, today: date) -> tuple[str, date | None]:
    if value > today:
        return "future", value
    if value.year < today.year - 30:
        return "invalid", None
    return "ok", value


@lru_cache(maxsize=1)
def _dateparser():
    import dateparser  # imported lazily: its language data takes a second to load
    import dateparser.search

    return dateparser


def parse_past_date(text: str, today: date) -> tuple[str, date | None]:
    """Parse a free French date relative to ``today``.

    Returns ``(status, value)`` where status is ``"ok"`` (value set), ``"unknown"`` (the person
    does not know), ``"future"`` (a date after today) or ``"invalid"``.
    """
    if is_unknown(text):
        return "unknown", None
    folded = fold(text)
    if not folded or len(folded) > 200:
        return "invalid", None
    base = datetime.combine(today, time(12, 0))
    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": base,
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "REQUIRE_PARTS": [],
    }
    if re.search(r"\b(ce matin|cet apres-midi|ce midi|ce soir|tout a l'heure)\b", folded):
        return "ok", today
    iso = re.fullmatch(r"\s*(\d{4})-(\d{2})-(\d{2})\s*", text)
    if iso:
        try:
            return _check_past(date(int(iso[1]), int(iso[2]), int(iso[3])), today)
        except ValueError:
            return "invalid", None
    dp = _dateparser()
    for candidate in (text.strip(), _DATE_NOISE.sub(" ", folded).strip(" ,.!")):
        if not candidate or not _DATE_WORD.search(fold(candidate)):
            continue
        parsed = dp.parse(candidate, languages=["fr"], settings=settings)
        if parsed is None:
            found = dp.search.search_dates(candidate, languages=["fr"], settings=settings) or []
            # search_dates reads 'je' as jeudi and 'me' as mercredi: keep real date phrases only.
            plausible = [value for phrase, value in found if _DATE_WORD.search(fold(phrase))]
            parsed = plausible[-1] if plausible else None
        if parsed is not None:
            return _check_past(parsed.date(), today)
    return "invalid", None


# Fields the person may correct at the summary, in the order of the buttons of
# utter_ask_field_to_correct (a number typed by the person refers to this order).
CORRECTABLE_FIELDS = (
    "domaine",
    "partie_adverse",
    "role",
    "type_decision",
    "date_decision",
    "mention_voies_delais",
    "recours_gracieux",
    "mesure_privative",
    "code_postal",
    "recit",
)
# Words that designate a field, most specific first: "date du recours" is about the recours,
# "voies et délais de recours" about the mention, "date de la décision" about the date.
_FIELD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mention_voies_delais", ("voies", "delais", "mention")),
    ("recours_gracieux", ("recours", "gracieux", "contest")),
    ("date_decision", ("date", "jour", "quand")),
    ("domaine", ("domaine", "theme", "sujet", "matiere")),
    ("code_postal", ("code postal", "postal", "cp", "ville", "commune", "adresse")),
    ("partie_adverse", ("administration", "adverse", "partie", "en face", "mairie", "prefecture")),
    ("role", ("vous etes", "qualite", "role", "statut", "je suis")),
    ("mesure_privative", ("mesure", "retention", "assignation", "oqtf")),
    ("type_decision", ("decision", "type", "nature")),
    ("recit", ("recit", "histoire", "description", "situation", "explication", "faits")),
)


def parse_field(text: str) -> str | None:
    """Which summary field the person wants to correct (button title, number or words)."""
    folded = fold(text)
    if folded.isdigit() and 1 <= int(folded) <= len(CORRECTABLE_FIELDS):
        return CORRECTABLE_FIELDS[int(folded) - 1]
    words = f" {re.sub(r'[^a-z0-9]+', ' ', folded)} "
    for slot, keywords in _FIELD_WORDS:
        if any(f" {k} " in words or (len(k) > 5 and k in folded) for k in keywords):
            return slot
    return None


def looks_like_chitchat(text: str) -> bool:
    """Answers that cannot be a party, a decision or an account: 'ok', 'merci', 'oui', emoji."""
    folded = fold(text)
    letters = [c for c in folded if c.isalpha()]
    if len(letters) < 2:
        return True
    return folded.strip(" !.?") in {
        "ok", "oui", "non", "merci", "bonjour", "salut", "coucou", "ouais", "nan", "d'accord",
        "daccord", "hello", "bonsoir", "merci beaucoup", "super", "top", "cool", "stp", "svp",
    }
