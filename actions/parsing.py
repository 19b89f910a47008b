"""Pure helpers for short answers (no I/O, no Rasa imports): folding, « je ne sais pas »,
yes/no, postcodes, and the labels the fact card shows. The facts of a story are read by
``actions/facts.py``.
"""

from __future__ import annotations

import re
import unicodedata

UNKNOWN = "nsp"  # "ne sait pas": the person does not know; stored as such, never guessed.

ROLE_LABELS = {
    "particulier": "Particulier",
    "agent_public": "Agent public",
    "elu": "Élu(e)",
    "entreprise": "Entreprise",
    "association": "Association",
    # Roles read from the story (actions/gazetteer.py ROLES) and from the urbanisme question.
    "entreprise_candidate": "Entreprise candidate",
    "candidat": "Candidat(e)",
    "electeur": "Électeur / électrice",
    "proche": "Proche / famille",
    "voisin": "Voisin(e) / tiers",
    "demandeur": "Demandeur (votre projet)",
}
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


# Words that greet, ask for help or say « a question », and nothing of a situation.
_NO_CONTENT_WORDS = frozenset("""
bonjour bonsoir salut slt bjr bsr bjour hello hi coucou cc allo re madame monsieur mme mr
maitre mesdames messieurs svp stp plait vous te merci mercii avance d j je jai ai me m moi
nous on tu il y a au aux est c ce cest etre avoir besoin aide aider aidez aidiez conseil
conseils conseiller renseignement renseignements renseigner information informations info
infos question questions petite petit une un des de du la le les l pour sur avec par
voudrais voudrait voulais souhaite souhaiterais aimerais veux peux pouvez pourriez pourrais
pourrait puis svp urgent urgente urgence please help juridique juridiques droit droits
probleme problemes souci soucis avocat avocate avocats parler quelqu quelquun demande
demander poser savoir ok oui bien tres vite rapidement possible si est-ce que qui quoi
avis eclairer orienter contacter contact sil ya yaura juste simple svpl slvp sos bonne
journee soiree cordialement excusez excuse deranger derange dsl desole desolee aurais
aurai aurait aimerai aimerait souhaiterai souhaitais souhaiterait voulu avais besoins auriez
sauriez savez pouvons pourrions voir faire comment s recu recue recus lettre lettres courrier
courriers document documents papier papiers decision comprends comprend pas rien ne n dois
doit sais quoi que lu mail email eu gros grosse grand petit vos mes ma mon votre perdu perdue
jsuis suis sui chui dans la merde galere car contacte contacter concernant situation
rapide adresser a qui yo wesh hey bonne journee soir matin aidez-moi merci beaucoup
attendez attends etes es vrai vraie robot robots humain humaine bot chatbot ia machine
personne reelle reel ou parle parler programme automatique
""".split())
MAX_NO_CONTENT_CHARS = 160


def says_nothing(text: str | None) -> bool:
    """A greeting or a request for help with nothing of the situation in it (« bjr jai besoin
    d'un conseil svp », « Bonjour, j'ai une question juridique ») : the story is still to ask.
    Not an out-of-scope question, whatever the NLU reads."""
    folded = fold(text or "")
    if len(folded) > MAX_NO_CONTENT_CHARS or not re.search(r"[a-z]", folded):
        return False
    words = re.findall(r"[a-z0-9]+", folded)
    return bool(words) and all(w in _NO_CONTENT_WORDS for w in words)


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




# Erasure and stop are destructive: the words must say so, whatever the NLU read
# (« suppression de ma prime », « personne n'est arrêté » are answers, not requests).
_ERASE_LAW = re.compile(r"droit a l'?(?:oubli|effacement)|\brgpd\b|article 17|delete my data")
_ERASE_VERB = re.compile(r"\b(?:supprim\w*|suppr|suppression|effac\w*|detrui\w*|detruis\w*|"
                         r"oubli\w*|retir\w*|conserv\w*|gard\w*|delete|remove|erase)\b")
_ERASE_OBJECT = re.compile(r"\b(?:donnees?|data|messages?|conversation|discussion|echange|"
                           r"historique|infos?|informations?|tout|numero|compte|ce que j|"
                           r"ce qui me concerne|rien)\b")
_STOP = re.compile(r"^\W*(?:(?:bon|ok|non|alors) )?(?:stop|arret\w*|annul\w*|laisse[rz]? tomber|"
                   r"je laisse tomber|abandon\w*|j'?abandonne|fin\b|termin\w*|quitt\w*|je quitte|"
                   r"exit|cancel|ca suffit|oubliez ca|on (?:s'?)?arrete|j'?arrete|"
                   r"je (?:veux|voudrais) (?:arreter|sortir)|je ne veux plus|plus de questions)")


def asks_erasure(text: str) -> bool:
    """The person's words ask to erase their data (« supprimez mes données », « droit à
    l'oubli »)."""
    folded = fold(text)
    return bool(_ERASE_LAW.search(folded)) or bool(
        _ERASE_VERB.search(folded) and _ERASE_OBJECT.search(folded))


def asks_to_stop(text: str) -> bool:
    """The person's words end the conversation (« stop », « j'arrête », « laissez tomber »)."""
    return bool(_STOP.search(fold(text)))


_LAWYER = re.compile(r"\b(?:avocate?s?|maitre|humain|quelqu'?un|une personne|un vrai|une vraie)\b")


def asks_for_lawyer(text: str) -> bool:
    """« avocat », « je veux parler à quelqu'un », « un humain svp »."""
    return bool(_LAWYER.search(fold(text)))
