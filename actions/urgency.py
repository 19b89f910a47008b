"""Urgency tier of a triage case, with the estimated deadline, for the lawyer only.

Tiers (LEGAL.md §4.8):

- P0, immediate: liberty measure (OQTF, rétention, assignation, détention, expulsion,
  reconduite); execution announced within days; election in the last 10 days; public-procurement
  rejection before signature; estimated deadline within 72 hours.
- P1, this week: estimated deadline within 15 days; deadline probably passed (to verify);
  urbanisme display older than four weeks or recours gracieux in urbanisme; decision notified
  more than six weeks ago; environmental authorisation published more than five weeks ago;
  one-year Czabaj limit near; December for local-tax complaints; execution measure mentioned.
- P2, standard: deadline further away, or no deadline issue.
- P3: no usable facts (general curiosity).
- OUT: not public law (``domaine == "hors_champ"``); the lawyer validates the referral (N6).

The estimated deadline and its rule are for the lawyer's dashboard (case record) only. The
assistant never tells the person "you have until ..." nor "you are out of time" (LEGAL.md N1): it
may only say that deadlines are short and that the request is treated as a priority.

Thresholds: ``today`` is a date without time, so the remaining time is measured from the end of
``today`` (the prudent reading): a whole-day deadline on day D is within 72 hours when
D - today <= 3 days. A deadline is "probably expired" when it ended before the start of ``today``.
Keywords (LEGAL.md §4.6, §4.7) are matched on ``type_decision``, ``recit`` and
``question_initiale``, ignoring accents and case.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from actions import deadlines as dl
from actions.facts import CONTRACT_SIGNED
from actions.referral import ReferralError, departement_from_postcode

__all__ = ["TIERS", "Urgency", "compute_urgency", "detect_triggers"]

TIERS = ("P0", "P1", "P2", "P3", "OUT")
_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}

# Domains where a measure taking effect on a date (the slot ``date_effet``) is the first
# deadline to meet, before the annulment's (LEGAL.md F2, §4.7.9).
EFFECT_DOMAINS = ("police_administrative", "urbanisme", "collectivites", "environnement",
                  "fonction_publique")

EXPIRED_REASON = "délai probablement expiré — à vérifier"
# The case's date is the damage's (no claim sent): actions/facts.py needed_date's note.
DAMAGE_DATE = "date du dommage"
# The case's date is that of a signed procurement contract: its note starts so.

# Keyword patterns on folded text (lower case, no accents, apostrophes and hyphens as spaces).
TRIGGERS: dict[str, tuple[str, ...]] = {
    "oqtf": (r"\boqtf\b", r"\bo q t f\b", r"obligation de quitter",
             r"oblige\w* (a|de) quitter (le territoire|la france)"),
    "retention": (r"\bretention\b", r"\bcra\b", r"centre de retention"),
    "assignation": (r"\bassignation\b", r"\bassigne", r"pointer au commissariat",
                    r"pointage au commissariat"),
    "detention": (r"\bdetention\b", r"\bdetenu", r"\bincarcere", r"\ben prison\b"),
    "removal": (r"\bexpulsion\b", r"\bexpulse", r"\breconduite\b", r"\breconduit",
                r"\beloignement\b"),
    "no_departure_period": (r"sans delai de depart", r"sans delai\b",
                            r"pas (?:de|d un) delai (?:de depart|pour partir|de depart volontaire)",
                            r"aucun delai (?:de depart|pour partir)",
                            r"quitter (?:la france|le territoire) (?:immediatement|tout de suite|"
                            r"sans attendre|sans delai)"),
    "imminent": (r"\bdemain\b", r"apres demain", r"\bce (week end|weekend|soir)\b",
                 r"\blundi prochain\b", r"\bdes lundi\b", r"\bce lundi\b", r"\bimminent",
                 r"\bprend effet\b", r"\bprendra effet\b", r"\bdans (24|48|72) ?h"),
    "execution": (r"\bfermeture\b", r"\bdemolition\b", r"\bdemolir\b", r"\bevacuation\b",
                  r"\bevacuer\b", r"interdiction de (manifester|manifestation|la manifestation)",
                  r"\bsaisie\b", r"suspension de (mon |son |du )?(salaire|traitement)",
                  r"\bexpulsion\b", r"\bfourriere\b", r"\beuthanasi", r"\babattage\b",
                  r"\babattre\b"),
    # Only read in commande_publique, where any "rejet" means a rejected offer.
    "procurement_rejection": (r"\brejet", r"offre (a ete |est )?rejetee",
                              r"rejet de (notre|mon|l) offre", r"(pas|non) (ete )?retenu",
                              r"attribue a un concurrent", r"\bevince"),
    # A signed contract with no award notice published: six months (CJA R. 551-7).
    "no_award_notice": (r"pas (encore )?(eu )?d avis d attribution",
                        r"aucun avis d attribution",
                        r"avis d attribution (n a|n est) (pas|jamais)",
                        r"sans avis d attribution"),
    # How a procurement rejection letter was sent (CCP R. 2182-1: 11 or 16 days).
    "paper_letter": (r"\bpar (la )?poste\b", r"\brecommande", r"\bpar courrier\b",
                     r"\b(courrier|lettre) papier\b", r"\bdans (ma|notre|la) boite aux lettres\b"),
    "electronic_letter": (r"\bmail\b", r"\be mail\b", r"\bcourriel\b", r"\bplateforme\b",
                          r"\bprofil d acheteur\b", r"voie electronique", r"\bmessagerie\b"),
    "election": (r"\belection", r"\bscrutin\b", r"\bmunicipales\b",
                 r"\b(premier|second|deuxieme) tour\b"),
    "neighbour": (r"\bvoisin", r"\baffichage\b", r"\bpanneau\b", r"\btiers\b"),
    "applicant": (r"refus (de |du )?(mon |ma |notre )?(permis|declaration)",
                  r"(permis|declaration prealable) (m a ete |a ete )?refuse",
                  r"opposition a (ma |notre )?declaration", r"\bmon permis\b",
                  r"\bma demande de permis\b"),
    # Urbanisme decisions aimed at the person (a pre-emption, an expropriation): notified to
    # them, the general two months (CJA R. 421-1), not a third party's display rule.
    "aimed_at": (r"\bpreempt", r"\bexpropri", r"\bcessibilite\b"),
    "silence": (r"pas de reponse", r"sans reponse", r"aucune reponse", r"\bsilence\b",
                r"(?:jamais|pas|toujours pas|rien) (?:eu |recu )?(?:de |d une )?reponse",
                r"rejet implicite", r"jamais repondu", r"n a (jamais |pas )?repondu"),
    "mpo": (r"\bremuneration\b", r"\btraitement\b", r"\bsalaire\b", r"\bprime\b",
            r"\bdisponibilite\b", r"\bdetachement\b", r"conge sans", r"\breintegration\b",
            r"\breclassement\b", r"\bformation\b", r"\bamenagement\b"),
    "local_tax": (r"taxe fonciere", r"taxe d habitation", r"\bcfe\b", r"cotisation fonciere",
                  r"logements? vacants?", r"\bteom\b", r"ordures menageres"),
    "tax_claim_rejected": (r"rejet de (ma |la |notre )?reclamation",
                           r"reclamation (a ete )?rejetee"),
}

_LIBERTY_TRIGGERS = ("oqtf", "retention", "assignation", "detention", "removal")


@dataclass(frozen=True)
class Urgency:
    """Urgency of a case. ``deadline`` and ``reasons`` are for the lawyer only (N1)."""

    tier: str
    reasons: tuple[str, ...] = ()
    deadline: dl.Deadline | None = None

    def to_record(self) -> dict[str, Any]:
        """JSON-serialisable form for the case record (lawyer's dashboard)."""
        return {
            "tier": self.tier,
            "reasons": list(self.reasons),
            "deadline": self.deadline.to_dict() if self.deadline is not None else None,
            "visibility": "lawyer_only",
        }


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    stripped = re.sub(r"['’`.\-]", " ", stripped)
    return re.sub(r"\s+", " ", stripped).strip()


# A liberty measure said not to be there (« pas d'OQTF », « je ne suis pas en rétention »):
# a negation up to three words before it, in the same clause (text folded by ``_fold``).
_NEGATED = re.compile(r"(?:\bn |\bne |\bpas |\bjamais |\baucune? |\bni |\bnon )(?:\w+ ){0,3}$")


def _affirmed(pattern: str, folded: str, negatable: bool) -> bool:
    for match in re.finditer(pattern, folded):
        before = re.split(r"[|,;:!?]", folded[max(0, match.start() - 40):match.start()])[-1]
        if not (negatable and _NEGATED.search(before)):
            return True
    return False


def detect_triggers(*texts: str | None) -> frozenset[str]:
    """Names of the keyword groups found in ``texts`` (accent- and case-insensitive); a liberty
    measure under a negation does not count."""
    folded = " | ".join(_fold(t) for t in texts if t)
    return frozenset(
        name
        for name, patterns in TRIGGERS.items()
        if any(_affirmed(pattern, folded, name in _LIBERTY_TRIGGERS) for pattern in patterns)
    )


def first_words_tier(text: str | None) -> str | None:
    """``P0`` when a message, before anything is triaged, already names a liberty measure
    (OQTF, rétention, assignation, détention, expulsion) or an execution in the next days: the
    channels then send this person's answers first (``permanence/priority.py``), the opening
    included. None otherwise: the triage sets the tier later."""
    triggers = detect_triggers(text)
    if triggers & set(_LIBERTY_TRIGGERS) or "imminent" in triggers:
        return "P0"
    return None


def _parse_time(value: str) -> time | None:
    """« 18:30 » as a time, or None."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value or "")
    return time(int(match[1]), int(match[2])) if match else None


def _slot(case: Mapping[str, Any], name: str) -> str:
    value = case.get(name)
    if value is None:
        return ""
    return str(value).strip()


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _subdivision(postcode: str) -> str | None:
    try:
        return dl.resolve_subdivision(departement_from_postcode(postcode))
    except ReferralError:
        return None


class _Collector:
    def __init__(self) -> None:
        self.tier = "P2"
        self.reasons: list[str] = []

    def flag(self, tier: str, reason: str) -> None:
        if _RANK[tier] < _RANK[self.tier]:
            self.tier = tier
        if reason not in self.reasons:
            self.reasons.append(reason)

    def note(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


def compute_urgency(case: Mapping[str, Any], today: date) -> Urgency:
    """Tier, reasons and estimated deadline of a case from its triage slots (LEGAL.md §4.8)."""
    domaine = _slot(case, "domaine").lower()
    mesure = _slot(case, "mesure_privative").lower()
    triggers = detect_triggers(
        _slot(case, "type_decision"), _slot(case, "recit"), _slot(case, "question_initiale")
    )
    liberty = mesure in ("retention", "assignation", "detention", "oqtf") or bool(
        triggers & set(_LIBERTY_TRIGGERS)
    )

    if domaine == "hors_champ":
        reasons = ["hors champ du droit public : orientation neutre vers l'Ordre des avocats, "
                   "à valider par l'avocat"]
        if liberty or "imminent" in triggers:
            reasons.append("mots-clés d'urgence détectés : vérifier la qualification hors champ")
        return Urgency(tier="OUT", reasons=tuple(reasons))

    raw_date = _slot(case, "date_decision")
    decided = _parse_date(raw_date) if raw_date else None
    has_facts = bool(domaine or _slot(case, "type_decision") or raw_date or triggers or liberty)
    if not has_facts:
        return Urgency(tier="P3", reasons=("aucun fait exploitable : question générale",))

    out = _Collector()
    if raw_date and decided is None:
        out.note("date de la décision illisible : à vérifier")
    if decided is not None and decided > today and domaine != "elections":
        out.note("date de la décision postérieure à aujourd'hui : à vérifier")

    _flag_triggers(out, case, domaine, mesure, triggers, liberty, decided, today)

    deadline: dl.Deadline | None = None
    effect = _parse_date(_slot(case, "date_effet"))
    if decided is not None:
        try:
            deadline = _select_deadline(out, case, domaine, mesure, triggers, decided, today)
        except ValueError:
            out.note("dates incohérentes (recours antérieur à la décision ?) : délai non "
                     "calculé")
            deadline = None
    elif (domaine or triggers) and effect is None:
        out.note("date de la décision inconnue : délai non calculé, à demander")
    if (effect is not None and effect >= today and domaine in EFFECT_DOMAINS
            and (deadline is None or effect < deadline.deadline)):
        # The measure applies before the annulment deadline: what the lawyer must meet first.
        deadline = dl.before_effect(effect, annulment=deadline)

    if deadline is not None:
        _flag_deadline(out, deadline, today)
    return Urgency(tier=out.tier, reasons=tuple(out.reasons), deadline=deadline)


def _flag_triggers(
    out: _Collector,
    case: Mapping[str, Any],
    domaine: str,
    mesure: str,
    triggers: frozenset[str],
    liberty: bool,
    decided: date | None,
    today: date,
) -> None:
    if liberty:
        out.flag("P0", "mesure privative de liberté ou d'éloignement (OQTF, rétention, "
                 "assignation, détention, expulsion) : prévenir l'avocat immédiatement")
    if "imminent" in triggers:
        out.flag("P0", "exécution annoncée à très brève échéance : référé à envisager "
                 "(CJA L. 521-1, L. 521-2)")
    elif "execution" in triggers:
        out.flag("P1", "mesure d'exécution signalée (fermeture, démolition, évacuation...) : "
                 "vérifier l'imminence, référé possible")
    if domaine == "police_administrative" and ("imminent" in triggers or "execution" in triggers):
        out.flag("P0", "mesure de police administrative en cours ou imminente")
    if domaine == "elections" or (not domaine and "election" in triggers):
        if decided is not None and 0 <= (today - decided).days <= 10:
            out.flag("P0", "élection de moins de dix jours : protestation à 18 h le cinquième "
                     "jour (C. électoral R. 119)")
        elif decided is None and domaine == "elections":
            out.note("date du scrutin inconnue : à demander en priorité")
    if domaine == "urbanisme":
        if decided is not None and (today - decided).days > 28:
            out.flag("P1", "urbanisme : affichage ou décision de plus de quatre semaines")
        if _slot(case, "recours_gracieux").lower() == "oui":
            out.flag("P1", "recours gracieux en urbanisme : ne proroge plus le délai de recours "
                     "(C. urb. L. 600-12-2)")
    if domaine == "environnement" and decided is not None and (today - decided).days > 35:
        out.flag("P1", "autorisation environnementale publiée depuis plus de cinq semaines")
    if domaine == "fonction_publique" and "mpo" in triggers:
        out.note("décision peut-être soumise à la médiation préalable obligatoire (CJA "
                 "L. 213-11 ; décret n° 2022-433) : à engager dans le délai de recours")
    if domaine == "fiscalite" and today.month == 12:
        out.flag("P1", "décembre : échéance du 31 décembre pour les réclamations d'impôts locaux "
                 "(LPF R. 196-2)")
    # A damage's date is no notified decision: the claim's deadline is the prescription
    # quadriennale (flagged P1 only past three years, _select_deadline), not six weeks.
    notified_kind = (
        domaine not in ("elections", "commande_publique", "urbanisme")
        and not liberty
        and "silence" not in triggers
        and not _slot(case, "date_decision_source").startswith(DAMAGE_DATE)
    )
    if notified_kind and decided is not None and (today - decided).days > 42:
        out.flag("P1", "décision notifiée il y a plus de six semaines")


def _select_deadline(
    out: _Collector,
    case: Mapping[str, Any],
    domaine: str,
    mesure: str,
    triggers: frozenset[str],
    decided: date,
    today: date,
) -> dl.Deadline:
    subdiv = _subdivision(_slot(case, "code_postal"))
    rg_answer = _slot(case, "recours_gracieux").lower()
    rg_date = _parse_date(_slot(case, "recours_gracieux_date")) if rg_answer == "oui" else None
    if rg_answer == "oui" and rg_date is None:
        out.note("recours gracieux formé, date inconnue : prorogation non retenue dans "
                 "l'estimation")
    mention = _slot(case, "mention_voies_delais").lower()

    oqtf = "oqtf" in triggers or mesure == "oqtf"
    foreigners = domaine == "etrangers" or oqtf or mesure in ("retention", "assignation")
    if foreigners and (oqtf or mesure in ("retention", "assignation", "detention")
                       or triggers & {"retention", "assignation"}):
        if mesure == "retention" or "retention" in triggers:
            at_time = _parse_time(_slot(case, "heure_decision"))
            if at_time is None:
                out.note("délai en heures : demander l'heure exacte de la notification")
            return dl.oqtf_48_hours(decided, at_time=at_time)
        if mesure in ("assignation", "detention") or triggers & {"assignation", "detention"}:
            return dl.oqtf_7_days(decided, subdiv=subdiv)
        if "no_departure_period" in triggers:
            result = dl.oqtf_7_days(decided, subdiv=subdiv)
            return dataclasses.replace(result, notes=(
                "[?] OQTF sans délai de départ : procédure de sept jours retenue par prudence "
                "(catégories à vérifier, CESEDA L. 614-1 et s.)", *result.notes))
        return dl.oqtf_month(decided)

    if domaine == "elections":
        return dl.election(decided, subdiv=subdiv)

    if domaine == "responsabilite_administrative" and _slot(
            case, "date_decision_source").startswith(DAMAGE_DATE):
        result = dl.prescription_quadriennale(decided)
        if (today - decided).days > 3 * 365:
            out.flag("P1", "dommage de plus de trois ans : prescription quadriennale proche")
        return result

    if domaine == "commande_publique" and _slot(case, "date_decision_source").startswith(
            CONTRACT_SIGNED):
        return _contractual(case, triggers, decided)

    if domaine == "commande_publique" and "procurement_rejection" in triggers:
        # 16 days for a letter sent otherwise than electronically; unknown: 11 (the earlier).
        paper = "paper_letter" in triggers and "electronic_letter" not in triggers
        return dl.procurement_standstill(decided, electronic=not paper)

    if domaine == "urbanisme" and not triggers & {"applicant", "aimed_at"}:
        return dl.urbanisme_display(decided, recours_gracieux=rg_date, subdiv=subdiv)

    if domaine == "environnement":
        return dl.environment_third_party(decided, recours_gracieux=rg_date, subdiv=subdiv)

    if domaine == "fiscalite" and "local_tax" in triggers and "tax_claim_rejected" not in triggers:
        return dl.local_tax_claim(decided)

    if "silence" in triggers:
        born = dl.implicit_decision_date(decided)
        if 0 <= (born - today).days <= 15:
            out.flag("P1", f"rejet implicite sur le point de naître ({dl.fr_date(born)})")
        return dl.implicit_rejection(decided, subdiv=subdiv)

    result = dl.general(
        decided,
        recours_gracieux=rg_date,
        urbanisme=domaine == "urbanisme",
        subdiv=subdiv,
    )
    if mention == "non" and result.end_datetime() <= datetime.combine(today, time.min):
        czabaj = dl.czabaj(decided)
        return dataclasses.replace(czabaj, notes=(
            "notification sans mention des voies et délais : délai de deux mois inopposable "
            "(CJA R. 421-5)", *czabaj.notes))
    if mention == "non":
        return dataclasses.replace(result, notes=(*result.notes,
                                          "mention des voies et délais absente : délai de deux "
                                          "mois probablement inopposable, estimation prudente"))
    if mention in ("nsp", "") and result.end_datetime() <= datetime.combine(today, time.min):
        out.note("mention des voies et délais inconnue : si absente, délai raisonnable d'un an "
                 "(Czabaj)")
    return result


def _contractual(case: Mapping[str, Any], triggers: frozenset[str],
                 decided: date) -> dl.Deadline:
    """The contract is signed (LEGAL.md §4.7.4): référé contractuel, 31 days from the award
    notice's publication, six months from the contract without one (CJA R. 551-7). From any
    other date (the contract's, the rejection letter's, both earlier than the publication) the
    deadline is earlier than the law's: shown, to verify."""
    source = _slot(case, "date_decision_source")
    published = source.startswith(CONTRACT_SIGNED + "date de publication")
    if "no_award_notice" in triggers and not published:
        result = dl.procurement_contractual_no_notice(decided)
    else:
        result = dl.procurement_contractual(decided)
    if not published and "no_award_notice" not in triggers:
        result = dataclasses.replace(result, notes=(
            "date de publication de l'avis d'attribution inconnue : 31 jours comptés depuis "
            "une date antérieure (estimation prudente, à vérifier)", *result.notes))
    return result


def _flag_deadline(out: _Collector, deadline: dl.Deadline, today: date) -> None:
    end = deadline.end_datetime()
    start_of_today = datetime.combine(today, time.min)
    end_of_today = start_of_today + timedelta(days=1)
    if end <= start_of_today:
        out.flag("P1", EXPIRED_REASON)
        if deadline.kind == "procurement_standstill":
            out.note("vérifier si le contrat est signé : référé contractuel (31 jours, CJA "
                     "R. 551-7) ou recours Tarn-et-Garonne (deux mois)")
        return
    remaining = end - end_of_today
    if remaining <= timedelta(hours=72):
        out.flag("P0", "délai estimé expirant dans 72 heures ou moins")
    elif remaining <= timedelta(days=15):
        out.flag("P1", "délai estimé expirant dans 15 jours ou moins")
    if deadline.kind == "czabaj" and remaining <= timedelta(days=60):
        out.flag("P1", "limite du délai raisonnable d'un an (Czabaj) proche")
    elif deadline.kind == "czabaj":
        out.note("délai raisonnable d'un an (Czabaj) : à vérifier")
    if deadline.kind == "procurement_standstill":
        out.flag("P0", "rejet d'offre : délai de suspension en cours, référé précontractuel "
                 "avant la signature")
