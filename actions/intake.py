"""Story-first intake: read every message of the conversation, ask only what is missing.

Pure (no Rasa, no I/O). The conversation after consent is a list of :class:`Turn` (what the
person wrote, when, and what the assistant had just asked). :func:`read` extracts every fact
of every message (``actions/facts.py``), reading an answer in the light of the question it
answers (« le 10 » after « quel jour avez-vous reçu la décision ? » is the notification date;
« non » after « le contrat est-il signé ? » is a no). :func:`next_step` says what to do next:
ask the facts the domain still needs, all in one message (one DM on X), at most twice each and
never more than ``MAX_ASK_ROUNDS`` rounds, then show the summary for confirmation.
:func:`case_slots` turns the facts into the case record the urgency rules, the summary and the
lawyer's card read (``actions/case.py``).

Question keys are those of ``facts.QUESTIONS`` plus ``story`` (the story was too thin),
``confirm`` (the summary), ``correction`` (« what is wrong? »).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, time
from typing import Any

from actions import domains
from actions import facts as F
from actions.dates_fr import PARIS, find_dates, fold_keep
from actions.parsing import (
    UNKNOWN,
    fold,
    is_unknown,
    parse_postcode,
    parse_yes_no,
    says_nothing,
)
from actions.places import departement_named

STORY = "story"
CONFIRM = "confirm"
CORRECTION = "correction"

# At most this many rounds of questions before the summary: the person is never held longer.
MAX_ASK_ROUNDS = 2
# A key asked this many times without an answer is not asked again (no dead end).
MAX_ASKED = 2
# A story shorter than this, with no decision, administration nor date, is asked for once.
THIN_STORY_CHARS = 60
# Summary rounds after which the conversation is handed over as it is.
MAX_CONFIRM_ROUNDS = 3
MAX_SHORT_ANSWER = 200

# What each question key asks, in French (one line each; several go in one message).
QUESTION_TEXT: dict[str, str] = {
    STORY: ("Racontez-moi en un message ce qui s'est passé : qui a décidé quoi, quand, "
            "et où vous habitez."),
    "decision": "Quelle décision avez-vous reçue (refus, sanction, OQTF, amende…) ?",
    "mesure": "Êtes-vous libre, assigné(e) à résidence, ou en rétention ?",
    "date_notified": "Quel jour avez-vous reçu la décision ?",
    "hour_notified": "À quelle heure environ vous l'a-t-on remise ?",
    "place": "Votre code postal ? (pour trouver le bon tribunal)",
    "role": ("Êtes-vous directement visé(e), voisin(e), une entreprise, ou une "
             "association ?"),
    "role_applicant_or_neighbour": "Le projet est-il le vôtre, ou celui d'un voisin ?",
    "date_display": "Depuis quel jour le panneau est-il affiché sur le terrain ?",
    "recours_gracieux": ("Avez-vous déjà écrit à l'administration pour contester "
                         "(recours gracieux) ? Si oui, quel jour ?"),
    "recours_gracieux_date": "Quel jour avez-vous envoyé ce recours ?",
    "date_election": "Quel jour a eu lieu l'élection (le tour contesté) ?",
    "administration": "Quelle administration est en face (mairie, préfecture, département…) ?",
    "date_rejection": "Quel jour avez-vous reçu la lettre de rejet ?",
    "contract_signed": ("Le contrat est-il déjà signé ? Si oui, quel jour l'avis d'attribution "
                        "est-il paru (si vous le savez) ?"),
    "date_award_notice": "Quel jour l'avis d'attribution est-il paru (si vous le savez) ?",
    "date_damage": "Quel jour le dommage a-t-il eu lieu ?",
    "claim_sent": ("Avez-vous déjà demandé une indemnisation à l'administration ? "
                   "Si oui, quel jour ?"),
    "claim_date": "Quel jour avez-vous envoyé cette demande ?",
    "date_effect": "À partir de quand la mesure s'applique-t-elle ?",
}

# The date role an answer to a date question gives to a date written without any cue.
_DATE_KEY_ROLE = {
    "date_notified": "notified", "date_display": "display", "date_election": "election",
    "date_rejection": "notified", "date_award_notice": "published", "contract_signed": "published",
    "date_damage": "damage", "date_effect": "effect",
    "recours_gracieux_date": "recours_gracieux", "claim_date": "claim",
    "recours_gracieux": "recours_gracieux", "claim_sent": "claim",
}
_YES_NO_KEYS = {"contract_signed": "contract_signed", "recours_gracieux": "recours_gracieux",
                "claim_sent": "claim_sent"}
# Asking the first also asks the second (« si oui, quel jour ? »).
_COVERS = {"recours_gracieux": "recours_gracieux_date", "claim_sent": "claim_date",
           "contract_signed": "date_award_notice"}
_HOUR = re.compile(r"\b(?:a|vers|environ|aux alentours de)?\s*([01]?\d|2[0-3])\s*(?:h|heures?)"
                   r"\s*([0-5]\d)?\b")
_APPLICANT = re.compile(r"\b(?:le mien|la mienne|mon (?:permis|projet)|c'est moi|moi|je suis le "
                        r"demandeur|j'ai demande|notre (?:permis|projet))\b")
# An answer to « Êtes-vous directement visé(e)… ? » in the first person, with no other role
# in it (« c'est mon permis à moi », « je suis la pharmacienne qui demande le transfert »):
# the person concerned, not a question to ask again.
_CONCERNED = re.compile(r"\b(?:c'est (?:moi|pour moi|mon \w+ a moi|ma \w+ a moi|a moi)|moi[- ]meme|"
                        r"directement (?:vise|visee|concerne|concernee)|(?:oui,? )?c'est moi|"
                        r"(?:on est|nous sommes) (?:tous |toutes )?concernee?s|"
                        r"je suis (?:le |la |l')?(?:concerne|concernee|vise|visee|destinataire|"
                        r"interesse|interessee)|personnellement|"
                        r"je suis (?:le |la |l')\w+ (?:qui|titulaire|concernee?|visee?))\b")
_NEIGHBOUR = re.compile(r"\b(?:voisine?s?|riveraine?s?|d'un voisin|a cote)\b")
_CONFIRM = re.compile(r"^\s*(?:oui|ouais|ouai|yes|ok|okay|oki|d'accord|dac|exact|exactement|"
                      r"parfait|correct|c'est (?:bien )?(?:ca|cela|correct|exact|juste|bon)|"
                      r"c est (?:bien )?ca|tout est (?:bon|juste|correct|ok)|nickel|impeccable|"
                      r"valide|je confirme|confirme|c'est tout bon|tout bon|top|super|"
                      r"merci)\b")
_DENY = re.compile(r"^\s*(?:non|nan|pas (?:du tout|tout a fait|vraiment)|c'est faux|"
                   r"il y a une erreur|erreur)\b")


@dataclass(frozen=True)
class Turn:
    """One message of the person, when it was written, and what it answers."""

    text: str
    at: datetime
    asked: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """The facts of the whole conversation, and the keys the person said they do not know."""

    facts: F.Facts
    unknown: frozenset[str] = frozenset()


def read(turns: list[Turn]) -> Reading:
    """Every fact of every turn, merged in order (explicit corrections win)."""
    facts, unknown = F.Facts(), set()
    for turn in turns:
        if turn.asked == ("consent",):
            continue
        at = turn.at.astimezone(PARIS)
        # An answer to a date question takes the question's role, even for a coming day.
        fresh = F.extract(turn.text, at, coming_as_effect=not _asked_date_roles(turn.asked,
                                                                                 facts))
        if (CORRECTION in turn.asked or CONFIRM in turn.asked) and fresh.administrations:
            # At the summary, an administration named corrects the one shown.
            fresh = replace(fresh, correction=True,
                            corrected=tuple({*fresh.corrected, "administration"}))
        if CORRECTION in turn.asked and not fresh.correction:
            fresh = replace(fresh, correction=True)
        fresh = _in_context(fresh, turn, facts)
        facts = F.merge(facts, fresh)
        if ("role_applicant_or_neighbour" in turn.asked and fresh.role is not None
                and fresh.role.value not in ("particulier", "proche")):
            facts = replace(facts, role=fresh.role)  # the answer says more than « particulier »
        facts = _with_hour(facts, turn)
        if turn.asked and is_unknown(turn.text):
            unknown |= {key for key in turn.asked if key not in (CONFIRM, CORRECTION, STORY)}
    return Reading(facts, frozenset(unknown))


def _asked_date_roles(asked: tuple[str, ...], facts: F.Facts) -> list[str]:
    roles = []
    for key in asked:
        if key == "date_display_or_notified":
            roles.append("display" if _neighbour(facts) else "notified")
        elif key in _DATE_KEY_ROLE:
            roles.append(_DATE_KEY_ROLE[key])
    return roles


def _neighbour(facts: F.Facts) -> bool:
    return bool(facts.role and facts.role.value in ("voisin", "association"))


def _in_context(fresh: F.Facts, turn: Turn, before: F.Facts) -> F.Facts:
    """An answer read as the answer to what was asked."""
    asked = turn.asked
    if not asked or asked in ((CONFIRM,), (CORRECTION,)):
        return fresh
    text, folded = turn.text.strip(), fold(turn.text)
    changes: dict[str, Any] = {}
    whole = (0, len(text))
    role = fresh.role
    if role is None and "role_applicant_or_neighbour" in asked:
        if _NEIGHBOUR.search(folded):
            role = F.Fact("voisin", whole, text)
        elif _APPLICANT.search(folded):
            role = F.Fact("demandeur", whole, text)
        changes["role"] = role
    if role is None and "role" in asked and before.role is None and _CONCERNED.search(folded):
        role = F.Fact("particulier", whole, text)
        changes["role"] = role
    merged_role = role or before.role
    roles = _asked_date_roles(asked, replace(before, role=merged_role))
    if roles:
        dates, free = [], [r for r in roles if not any(d.role == r for d in fresh.dates)]
        for found in fresh.dates:
            if found.role == "unspecified" and free:
                found = replace(found, role=free.pop(0))
            dates.append(found)
        changes["dates"] = tuple(dates)
    yes_no = [key for key in asked if key in _YES_NO_KEYS
              and getattr(fresh, _YES_NO_KEYS[key]) is None]
    if len(yes_no) == 1:
        answer = _yes_no_part(text)
        if answer in ("oui", "non"):
            changes[_YES_NO_KEYS[yes_no[0]]] = F.Fact(answer == "oui", whole, text)
        elif any(d.role == _DATE_KEY_ROLE.get(yes_no[0]) for d in changes.get("dates", ())):
            changes[_YES_NO_KEYS[yes_no[0]]] = F.Fact(True, whole, text)  # « le 3 mars »
    short = len(text) <= MAX_SHORT_ANSWER and not is_unknown(text)
    if ("administration" in asked and short and not fresh.administrations
            and not before.administrations and len(asked) == 1):
        changes["administrations"] = (F.Administration("autre", None, whole, text),)
    if ("decision" in asked and short and not fresh.decisions and not before.decisions
            and len(asked) == 1):
        changes["decisions"] = (F.Fact("autre", whole, text),)
    elif "decision" in asked and not fresh.decisions and not before.decisions:
        # A bundle answered in one message: the part that answers no other question.
        part = decision_part(text, turn.at.astimezone(PARIS))
        if part is not None:
            changes["decisions"] = (F.Fact("autre", part[0], part[1]),)
    if ("place" in asked and short and fresh.postcode is None and fresh.town is None
            and len(asked) == 1 and re.fullmatch(r"[A-Za-zÀ-ÿ' -]{2,40}", text)
            and not _NOT_A_PLACE.search(folded)):
        changes["town"] = F.Fact(text, whole, text)
    if "mesure" in asked and fresh.mesure is None and re.search(
            r"\b(?:oqtf|obligation de quitter)\b", folded) and not re.search(
            r"\b(?:retenue?|retention|cra|assigne\w*|assignation|pointe\w*|detention|prison)\b",
            folded):
        # « seulement l'obligation de quitter le territoire »: an OQTF and no other measure.
        changes["mesure"] = F.Fact("oqtf", whole, text)
    elif "mesure" in asked and fresh.mesure is None:
        free_words = re.search(r"\b(?:libre|rien|aucune?|non|chez moi)\b", folded)
        if free_words and len(asked) == 1:
            changes["mesure"] = F.Fact("aucune", whole, text)
    return replace(fresh, **changes) if changes else fresh


# A short answer to the postcode question that refuses or does not know is not a town.
_NOT_A_PLACE = re.compile(r"\b(?:non|nan|pas|desolee?|prefere|prefererais|envie|sais|jsp|rien|"
                          r"aucune?|secret|oui|ok|merci)\b")


_PART = re.compile(r"[^,;\n]+")
_NUMBERING = re.compile(r"^\s*(?:\d+\s*[.)-]\s*)?")
_DECISION_LEAD = re.compile(r"^(?:(?:c'est|c est|cest|il s'agit d'|il s'agit de|la decision"
                            r"(?: c'est)?|decision|j'ai recu|on m'a notifie)\s*:?\s*)?"
                            r"(?:un |une |d'une |d'un |le |la |l')?", re.IGNORECASE)
# A part that answers another question: a liberty measure, who the person is (« je suis
# riverain », « nous sommes l'association »), « je ne sais pas ».
_OTHER_ANSWER = re.compile(r"\b(?:retention|cra|assigne\w*|assignation|libre|detention|prison|"
                           r"je ne sais pas|aucune idee)\b|^(?:je suis|j'suis|jsuis|nous sommes|"
                           r"on est|en tant qu\w*|moi)\b")


def decision_part(text: str, now: datetime) -> tuple[tuple[int, int], str] | None:
    """In a bundled answer (« c'est un refus de titre de séjour, notifié le 3, je suis en
    rétention »), the words that name the decision: the first part (between commas) that has
    no date, hour, postcode, yes or no, liberty measure or role in it, and is not only an
    administration. Its span and its text, the lead words (« c'est un ») left out."""
    for match in _PART.finditer(text):
        raw = match.group(0)
        lead = _NUMBERING.match(raw).end()
        part = raw[lead:].strip().rstrip(".!")
        folded = fold(part)
        if len(re.findall(r"[a-z]{3,}", folded)) < 1 or len(part) > MAX_SHORT_ANSWER:
            continue
        if (find_dates(part, now) or parse_postcode(part) or _HOUR.search(folded)
                or parse_yes_no(part) in ("oui", "non") or is_unknown(part)
                or _OTHER_ANSWER.search(folded)):
            continue
        found = F.extract(part, now)
        if found.administrations and len(folded.split()) <= 5:
            continue  # « la mairie de Lens »: who, not what
        cut = _DECISION_LEAD.match(part)
        kept = part[cut.end():] if cut and cut.end() < len(part) else part
        start = match.start() + raw.index(part) + (len(part) - len(kept))
        return (start, start + len(kept)), kept
    return None


def _yes_no_part(text: str) -> str | None:
    """The yes or no of an answer that may carry other answers (« il y a 4 mois, non »)."""
    for part in re.split(r"[,;\n.]+", text):
        if part.strip() and len(part.split()) <= 5:
            answer = parse_yes_no(part)
            if answer in ("oui", "non"):
                return answer
    return None


def _with_hour(facts: F.Facts, turn: Turn) -> F.Facts:
    """« vers 19 h » in answer to the hour question: the hour of the notification."""
    if "hour_notified" not in turn.asked:
        return facts
    notified = facts.date_for("notified")
    if notified is None or notified.hour is not None:
        return facts
    match = _HOUR.search(fold(turn.text))
    if not match:
        return facts
    hour = time(int(match.group(1)), int(match.group(2) or 0))
    dates = tuple(replace(d, hour=hour) if d is notified else d for d in facts.dates)
    return replace(facts, dates=dates)


# ------------------------------------------------------------------------- what comes next


@dataclass(frozen=True)
class Step:
    """``ask`` (with the keys, in order) or ``confirm`` (show the summary)."""

    kind: str
    keys: tuple[str, ...] = ()


# Words that only name the field (« une question par rapport aux élections »), not a decision.
_FIELD_WORDS = frozenset({"election", "elections", "permis", "impot", "impots", "marche public",
                          "appel d'offres", "appel d'offre", "scrutin", "municipales"})


def story_is_thin(reading: Reading, story: str) -> bool:
    facts = reading.facts
    decisions = [d for d in facts.decisions
                 if fold_keep(d.text).strip() not in _FIELD_WORDS]
    # Messages that say nothing of the situation (« vous êtes un robot ? ») do not thicken it.
    telling = "\n".join(part for part in story.split("\n") if not says_nothing(part))
    return (len(telling.strip()) < THIN_STORY_CHARS and not decisions
            and not facts.administrations and not facts.dates)


def missing(reading: Reading, domain: str) -> tuple[str, ...]:
    """The keys ``domain`` still needs, as they are asked (one display question for
    neighbours, the date question covered by its yes/no question)."""
    keys = []
    needed = F.missing(reading.facts, domain)
    for key in needed:
        if key == "date_display_or_notified":
            key = "date_display" if _neighbour(reading.facts) else "date_notified"
        if key in _COVERS.values() and any(k for k, v in _COVERS.items()
                                            if v == key and k in needed):
            continue
        if key not in keys:
            keys.append(key)
    return tuple(keys)


def next_step(reading: Reading, domain: str, turns: list[Turn], story: str) -> Step:
    asked = Counter(key for turn in turns for key in turn.asked)
    # The scope question (« est-ce une administration ? ») is the routing's, not a round of the
    # intake's questions.
    rounds = sum(1 for turn in turns if turn.asked and turn.asked[0] not in (
        "consent", CONFIRM, CORRECTION, SCOPE))
    if story_is_thin(reading, story) and not asked[STORY]:
        return Step("ask", (STORY,))
    todo = tuple(key for key in missing(reading, domain)
                 if key not in reading.unknown and asked[key] < MAX_ASKED)
    if todo and rounds < MAX_ASK_ROUNDS:
        return Step("ask", todo)
    return Step("confirm")


# Where a domain words a question its own way.
DOMAIN_QUESTION_TEXT: dict[str, dict[str, str]] = {
    "etrangers": {
        "administration": "Quelle préfecture a pris la décision (ex. préfecture du Nord) ?",
    },
    "fiscalite": {
        "claim_sent": ("Avez-vous déjà fait une réclamation auprès de l'administration fiscale ? "
                       "Si oui, quel jour ?"),
        "claim_date": "Quel jour avez-vous envoyé cette réclamation ?",
        "decision": "Quel impôt ou quelle décision (avis, redressement, refus…) ?",
    },
}


def questions_text(keys: tuple[str, ...], domain: str | None = None) -> str:
    """One message: one question, or a short numbered list answerable in one reply."""
    own = DOMAIN_QUESTION_TEXT.get(domain or "", {})
    lines = [own.get(key) or QUESTION_TEXT[key] for key in keys]
    if len(lines) == 1:
        return lines[0]
    numbered = "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))
    return f"Il me manque quelques précisions :\n{numbered}\nRépondez en un seul message."


# ------------------------------------------------------------------------- the summary's answer


def confirms(text: str) -> bool:
    """« oui », « c'est bien ça, merci », « ok parfait », 👍."""
    folded = fold(text)
    if "👍" in text or "✅" in text or folded in ("1", "/affirm"):
        return True
    return bool(_CONFIRM.search(folded)) and not _DENY.search(folded) and not re.search(
        r"\b(?:mais|sauf|par contre|erreur|faux|corrig)", folded)


def denies(text: str) -> bool:
    folded = fold(text)
    return folded in ("2", "/deny") or bool(_DENY.search(folded)) or "👎" in text


def brings_facts(before: F.Facts, after: F.Facts) -> bool:
    """Whether a message changed the facts (a correction or an addition)."""
    return before != replace(after, correction=before.correction, corrected=before.corrected)


# ------------------------------------------------------------------------- the case record

DATE_LABELS = {
    "signed": "Décision datée du", "notified": "Reçue / notifiée le",
    "display": "Affichage sur le terrain depuis le", "published": "Publiée le",
    "election": "Élection le", "proclaimed": "Résultats proclamés le", "effect": "Prend effet le",
    "contract": "Contrat signé le",
    "claim": "Demande d'indemnisation le", "recours_gracieux": "Recours gracieux le",
    "damage": "Dommage le", "hearing": "Audience / convocation le",
    "unspecified": "Date citée",
}


# How a decision kind (actions/gazetteer.py DECISIONS) reads; « autre » keeps the person's words.
DECISION_LABELS = {
    "oqtf": "OQTF (obligation de quitter le territoire)",
    "refus_titre_sejour": "refus de titre de séjour",
    "irtf": "interdiction de retour (IRTF)",
    "eloignement": "expulsion / éloignement",
    "refus_permis": "refus de permis",
    "permis_construire": "permis de construire",
    "fermeture_administrative": "fermeture administrative",
    "interdiction_manifestation": "interdiction de manifester",
    "indu_prestation": "remboursement d'un indu (trop-perçu)",
    "prestation_sociale": "prestation sociale",
    "suspension_permis_conduire": "suspension du permis de conduire",
    "revocation": "révocation",
    "sanction_disciplinaire": "sanction disciplinaire",
    "licenciement": "licenciement / fin de contrat",
    "refus_titularisation": "refus de titularisation",
    "rejet_offre": "rejet d'une offre",
    "attribution_marche": "marché public",
    "resultats_election": "élection",
    "redressement_fiscal": "redressement fiscal",
    "avis_imposition": "impôt ou taxe",
    "dommage_travaux_publics": "dommage de travaux publics",
    "accident": "accident / dommage",
    "autorisation_environnementale": "autorisation environnementale",
    "refus_demande": "refus d'une demande",
    "mesure_animal": "mesure de police visant un animal",
    "service_public_local": "service public local",
    "retrait": "retrait ou suppression",
    "rejet_reclamation": "rejet d'une réclamation ou d'un recours",
    "silence": "pas de réponse (rejet implicite)",
    "refus_entree": "refus d'entrée (zone d'attente)",
    "asile": "asile",
    "naturalisation": "naturalisation",
    "visa": "refus de visa",
    "expropriation": "expropriation",
    "preemption": "préemption",
    "retrait_points": "retrait de points / permis invalidé",
    "bourse": "bourse",
    "dalo": "DALO (droit au logement opposable)",
    "autorisation_sante": "autorisation sanitaire",
    "evacuation": "ordre de quitter les lieux (évacuation)",
    "armes": "interdiction de détenir des armes",
}
# Kinds whose label is a family: the person's words say which one.
_SHOW_WORDS = {"avis_imposition", "sanction_disciplinaire", "autorisation_environnementale",
               "redressement_fiscal", "dommage_travaux_publics", "licenciement", "refus_demande",
               "mesure_animal", "service_public_local", "retrait", "prestation_sociale",
               "asile", "naturalisation", "expropriation", "preemption", "retrait_points",
               "bourse", "autorisation_sante", "evacuation"}
# A general kind says nothing more when a precise one is there.
_GENERAL_DECISIONS = {"refus_demande": ("refus_permis", "refus_titre_sejour",
                                        "refus_titularisation", "rejet_offre", "refus_entree",
                                        "visa", "bourse", "dalo", "autorisation_sante",
                                        "naturalisation", "asile"),
                      "permis_construire": ("refus_permis",)}


def decision_label(facts: F.Facts) -> str | None:
    """The decisions of the story in French, each once: « refus de permis »."""
    kinds = [d.value for d in facts.decisions]
    labels = []
    for decision in facts.decisions:
        general = _GENERAL_DECISIONS.get(decision.value, ())
        if any(k in kinds for k in general):
            continue
        label = DECISION_LABELS.get(decision.value) or decision.text
        if decision.value in _SHOW_WORDS and fold(decision.text) != fold(label) and not (
                decision.value == "refus_demande" and " " not in decision.text.strip()):
            label = f"{label} ({decision.text})"  # « impôt ou taxe (taxe foncière) »
        if label and label not in labels:
            labels.append(label)
    return "; ".join(labels) or None


def _fr(day) -> str:
    return day.strftime("%d/%m/%Y")


def fact_lines(facts: F.Facts) -> list[str]:
    """Every date with its role and hour, and the yes/no facts, as lines for the lawyer."""
    lines = []
    for found in facts.dates:
        if found.day is None:
            continue
        line = f"{DATE_LABELS.get(found.role, found.role)} {_fr(found.day)}"
        if found.hour is not None:
            line += f" à {found.hour.strftime('%H:%M')}"
        if found.uncertain and len(found.candidates) > 1:
            line += " (à vérifier : " + " ou ".join(_fr(c) for c in found.candidates) + ")"
        elif found.uncertain:
            line += " (à vérifier)"
        lines.append(f"{line} — « {found.text} »")
    for label, fact in (("Contrat signé", facts.contract_signed),
                        ("Avis d'attribution publié", facts.award_notice),
                        ("Demande d'indemnisation envoyée", facts.claim_sent),
                        ("Courrier reçu", facts.courrier_recu)):
        if fact is not None:
            lines.append(f"{label} : {'oui' if fact.value else 'non'}")
    if facts.town is not None and facts.postcode is None:
        lines.append(f"Commune : {facts.town.value}")
    if facts.administrations and facts.private_parties:
        # Two problems in one message: the public-law one is triaged, the other noted.
        others = ", ".join(dict.fromkeys(p.text for p in facts.private_parties))
        lines.append(f"Autre problème cité, hors droit public (à orienter) : {others}")
    return lines


_AUTHOR_OF = {"arrete municipal": "commune", "arrêté municipal": "commune",
              "police du maire": "maire"}
# Administrations that sit in one commune: « le maire » of the town the story names.
_TOWN_KINDS = frozenset({"commune"})


def adverse_text(administration: F.Administration, facts: F.Facts, story: str = "") -> str:
    """The administration as the card shows it: a placeless « maire » or « mairie » gets the
    town the story named (« une maison à Pessac … le maire » → « maire de Pessac »), so that the
    lawyer can check conflicts; the person's own town when none was named. A placeless
    « préfet » gets the one département the story places itself in (« dans le Doubs »)."""
    if not administration.place and administration.kind == "prefecture":
        departement = departement_named(story)
        return f"{administration.text} ({departement})" if departement else administration.text
    if administration.place or administration.kind not in _TOWN_KINDS:
        return administration.text
    # « un arrêté municipal »: the commune is who decided.
    text = _AUTHOR_OF.get(fold(administration.text), administration.text)
    named = [p.value for p in facts.places] or ([facts.town.value] if facts.town else [])
    towns = list(dict.fromkeys(named))
    if len(towns) != 1:
        return text
    return f"{text} de {towns[0]}"


def _permit_authority(facts: F.Facts, domain: str | None) -> list[str]:
    """A neighbour's permit with no administration named: the mairie granted it (the card says
    so, to verify), not the neighbour who builds."""
    if domain != "urbanisme" or not _neighbour(facts):
        return []
    mairie = adverse_text(F.Administration("commune", None, (0, 0), "mairie"), facts)
    return [f"{mairie} (auteur du permis, à vérifier)"]


def effect_date(facts: F.Facts) -> F.DateFact | None:
    """The day the measure applies: the first effect date that is not the day the paper was
    handed over (« hier soir les gendarmes nous ont donné un papier … 48 h pour partir … jusqu'à
    mercredi »: handed over yesterday, applies on Wednesday)."""
    notified = {d.day for d in facts.dates if d.role == "notified"}
    effects = [d for d in facts.dates if d.role == "effect" and d.day is not None]
    return next((d for d in effects if d.day not in notified), effects[0] if effects else None)


def case_slots(reading: Reading, domain: str | None, story: str) -> dict[str, Any]:
    """The case record (``actions/case.py`` slots) from the facts of the conversation."""
    facts = reading.facts
    parties = ([adverse_text(a, facts, story) for a in facts.administrations]
               or _permit_authority(facts, domain)
               or [p.text for p in facts.private_parties])
    recours = facts.recours_gracieux
    rg_date = facts.date_for("recours_gracieux")
    slots: dict[str, Any] = {
        "partie_adverse": ", ".join(dict.fromkeys(parties)) or None,
        "role": facts.role.value if facts.role else None,
        "type_decision": decision_label(facts),
        "recours_gracieux": (None if recours is None else "oui" if recours.value else "non"),
        "recours_gracieux_date": (rg_date.day.isoformat() if recours and recours.value
                                  and rg_date and rg_date.day else None),
        "mesure_privative": facts.mesure.value if facts.mesure else None,
        "code_postal": facts.postcode.value if facts.postcode else None,
        "recit": story or None,
        "faits": fact_lines(facts) or None,
        "date_decision": None,
        "date_decision_source": None,
        "heure_decision": None,
        "date_effet": (effect.day.isoformat() if (effect := effect_date(facts)) else None),
    }
    if "recours_gracieux" in reading.unknown and recours is None:
        slots["recours_gracieux"] = UNKNOWN
    if domain and domain != domains.OUT_OF_SCOPE:
        needed = F.needed_date(facts, domain)
        if needed.date is not None and needed.date.day is not None:
            slots["date_decision"] = needed.date.day.isoformat()
            if needed.date.hour is not None:
                slots["heure_decision"] = needed.date.hour.strftime("%H:%M")
            slots["date_decision_source"] = needed.note + (" — à vérifier"
                                                           if needed.uncertain else "")
        else:
            slots["date_decision_source"] = needed.note
    if slots["date_decision"] is None:
        # Out of scope, or no date of the rule's role: the earliest date given, to verify.
        days = sorted(d.day for d in facts.dates if d.day is not None and not d.future)
        if days:
            slots["date_decision"] = days[0].isoformat()
            slots["date_decision_source"] = "date la plus ancienne citée — à vérifier"
    return slots


# Words of a public agent's working life: with none of them, « fonction publique » is a misreading.
_AGENT_WORDS = re.compile(
    r"\b(?:agente?s?|fonctionnaires?|titulaire|contractuel\w*|stagiaire|titularisation|mutation|"
    r"(?:mon|ma|son|sa) (?:poste|carriere|salaire|traitement|remuneration|prime|contrat|chef|"
    r"cheffe|employeur|travail|hierarchie|service)|carriere|avancement|promotion|notation|"
    r"sanction|blame|avertissement|revocation|licencie\w*|licenciement|disponibilite|"
    r"detachement|reclassement|conge\w*|arret maladie|je travaille|j'?ai travaille|collegues?|"
    r"embauch\w*|recrut\w*|concours|profs?|professeure?|enseignante?|infirmiere?|atsem|"
    r"militaire|policiere?|gendarme|pompier|radiation|discipline|statut)\b")
_LOCAL_AUTHORITIES = frozenset({"commune", "departement", "region", "metropole",
                                "intercommunalite"})
SERVICE_DOMAIN = "collectivites"


def service_user(facts: F.Facts, story: str) -> bool:
    """A local authority's decision on a user of its services (school transport, a canteen, a
    market stall, a social aid), not on its agent: no agent role, no word of a public agent's
    working life, and only local authorities named."""
    kinds = {a.kind for a in facts.administrations}
    return (bool(kinds) and kinds <= _LOCAL_AUTHORITIES
            and not (facts.role and facts.role.value == "agent_public")
            and not _AGENT_WORDS.search(fold(story)))


def as_public_law_lawyer(domain: str | None, facts: F.Facts, story: str) -> str | None:
    """``domain``, unless a public-law lawyer would file it elsewhere: a « fonction publique »
    reading of a local authority's decision on a user of its services is ``collectivites``."""
    if domain == "fonction_publique" and service_user(facts, story):
        return SERVICE_DOMAIN
    if (domain == "environnement" and not _ENVIRONMENT_CUES.search(fold(story))
            and facts.administrations
            and all(a.kind in _LOCAL_AUTHORITIES for a in facts.administrations)):
        # « la ville a refusé le renouvellement de notre terrasse » read as environnement: no
        # word of nature, pollution or nuisance; a local authority's decision.
        return SERVICE_DOMAIN
    return domain


_LOCAL_AUTHORITIES = frozenset({"commune", "metropole", "intercommunalite", "departement",
                                "region"})
# Words without which a story is no environmental case, whatever the NLU read.
_ENVIRONMENT_CUES = re.compile(
    r"environnement|ecolog|pollu|dechet|ordures|decharge|\beaux?\b|riviere|cours d'eau|nappe|"
    r"zone humide|especes?|faune|flore|oiseaux|animaux sauvages|protegee?s?\b|arbres?\b|haies?\b|"
    r"forets?\b|bois\b|defrich|chasse|peche|pesticide|epandage|elevage|carriere|methani|"
    r"incinerat|eolien|icpe|installation classee|nuisance|odeurs?\b|bruit|natura|parc naturel|"
    r"littoral|paysage|climat|amiante|radioact|sols?\b|inond")


THIN_STORY_WORDS = 14
# A topic named, not a story told (« au sujet de », « concernant », « une question sur »).
_ABOUT = re.compile(r"\b(?:au sujet d|a propos d|concernant|c'est pour|c'est par rapport|"
                    r"par rapport (?:a|au|aux)|(?:une |ma )?question (?:sur|pour|concernant)|"
                    r"c'est (?:a propos|au sujet))")


def thin_story(text: str | None, facts: F.Facts) -> bool:
    """A first message that names no one and nothing decided (« c'est au sujet de l'école de
    notre village »): no administration, no private party, no decision, no date, a few words.
    Neither in nor out of scope yet: the story is asked for, never a referral on it."""
    folded = fold(text or "")
    words = re.findall(r"[a-z0-9]+", folded)
    return (0 < len(words) <= THIN_STORY_WORDS and bool(_ABOUT.search(folded))
            and not facts.administrations
            and not facts.private_parties and not facts.decisions and not facts.dates)


ASK_SCOPE = "ask_scope"
SCOPE = "scope"


def scope(nlu_domain: str | None, facts: F.Facts, ranked_in_scope: str | None) -> str | None:
    """The domain as a public-law lawyer decides: a dispute with only private parties is out of
    scope whatever the words. A question read as out of scope that names an administration (or
    a decision only an administration takes) is not sent away: ``ASK_SCOPE``, ask who decided
    (« la mairie nous a mariés » is still a divorce; « la mairie veut vendre le chemin » is not)."""
    administration = facts.is_administration()
    if nlu_domain == domains.OUT_OF_SCOPE and administration is True and ranked_in_scope:
        return ASK_SCOPE
    if nlu_domain in domains.IN_SCOPE and administration is False:
        return domains.OUT_OF_SCOPE
    if nlu_domain in domains.IN_SCOPE and _damage_only(facts):
        return LIABILITY
    return nlu_domain


LIABILITY = "responsabilite_administrative"
_DAMAGE_KINDS = frozenset({"dommage_travaux_publics", "accident"})


def _damage_only(facts: F.Facts) -> bool:
    """A damage caused by an administration, with its date, and no decision to challenge
    (« tombé dans un nid de poule le 14 novembre, la voirie c'est la métropole »): a claim for
    compensation, whatever the NLU read (its deadline runs from the claim, not the damage)."""
    kinds = set(facts.decision_kinds()) - {"silence"}  # a claim left unanswered is still one
    return (bool(kinds) and kinds <= _DAMAGE_KINDS
            and facts.administrations != () and facts.date_for("damage") is not None)


def scope_answer(text: str, now: datetime, ranked_in_scope: str | None) -> str:
    """The domain after « Est-ce une administration qui a pris la décision ? »: a clear no (and
    no administration named) is out of scope; yes, an administration, or « je ne sais pas » goes
    to the public-law lawyer, who reviews it (sending a doubtful case away is the worse error)."""
    named = F.extract(text, now).administrations
    if (denies(text) and not named) or not ranked_in_scope:
        return domains.OUT_OF_SCOPE
    return ranked_in_scope
