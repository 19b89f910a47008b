"""Every fact of a free-text message, with its span; merging over messages; what a domain needs.

Pure (no Rasa, no I/O): ``extract(text, now)`` reads one message, ``merge(previous, new)``
accumulates messages (explicit corrections win), ``needed_date(facts, domain)`` gives the date
the deadline rule of a domain needs, ``missing(facts, domain)`` the facts still to ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

from actions import gazetteer
from actions.dates_fr import PARIS, DateMention, find_dates, fold_keep
from actions.parsing import parse_postcode
from actions.places import departement_end, named_places

Span = tuple[int, int]

DATE_ROLES = ("signed", "notified", "display", "published", "election", "proclaimed", "effect",
              "contract",
              "claim", "recours_gracieux", "damage", "hearing", "unspecified")


@dataclass(frozen=True)
class Fact:
    """A value read from the message, the span it came from, and the words of that span."""

    value: Any
    span: Span
    text: str = ""


@dataclass(frozen=True)
class Administration:
    kind: str
    place: str | None
    span: Span
    text: str = ""


@dataclass(frozen=True)
class DateFact:
    role: str
    day: date | None
    span: Span
    text: str = ""
    hour: time | None = None
    candidates: tuple[date, ...] = ()
    uncertain: bool = False
    future: bool = False


@dataclass(frozen=True)
class Facts:
    administrations: tuple[Administration, ...] = ()
    private_parties: tuple[Fact, ...] = ()
    role: Fact | None = None
    decisions: tuple[Fact, ...] = ()
    dates: tuple[DateFact, ...] = ()
    mesure: Fact | None = None
    postcode: Fact | None = None
    town: Fact | None = None
    # Places the story names with a capital (« une maison à Pessac »): where things happened,
    # not necessarily where the person lives; they complete a placeless « maire ».
    places: tuple[Fact, ...] = ()
    contract_signed: Fact | None = None
    award_notice: Fact | None = None  # an award notice published (False: none, as the person says)
    recours_gracieux: Fact | None = None
    claim_sent: Fact | None = None
    courrier_recu: Fact | None = None
    # « la mairie m'a dit que ce n'était pas leur problème »: the administration named is not
    # a party to the dispute.
    administration_declined: Fact | None = None
    correction: bool = False
    corrected: tuple[str, ...] = field(default=())

    def date_for(self, role: str) -> DateFact | None:
        """The first date of ``role``, or None."""
        return next((d for d in self.dates if d.role == role), None)

    def decision_kinds(self) -> tuple[str, ...]:
        return tuple(d.value for d in self.decisions)

    def is_administration(self) -> bool | None:
        """True when an administration is named or a decision only an administration takes (a
        building permit, an OQTF…), False when only a private party is, else None."""
        if self.administration_declined is not None and self.private_parties:
            return False  # a neighbour's hedge the mairie said was not its business
        if self.administrations or any(d.value in PUBLIC_DECISIONS for d in self.decisions):
            return True
        if self.mesure is not None and self.mesure.value in ("retention", "assignation"):
            return True  # only the préfet places in rétention or assigns to residence
        if self.private_parties:
            return False
        return None


# Decisions (gazetteer.DECISIONS kinds) that only an administration takes.
PUBLIC_DECISIONS = frozenset({
    "oqtf", "refus_titre_sejour", "irtf", "eloignement", "refus_permis", "permis_construire",
    "fermeture_administrative", "interdiction_manifestation", "suspension_permis_conduire",
    "refus_titularisation", "resultats_election", "redressement_fiscal", "avis_imposition",
    "autorisation_environnementale", "dommage_travaux_publics", "indu_prestation",
    "prestation_sociale", "refus_entree", "asile", "naturalisation", "visa", "expropriation",
    "preemption", "retrait_points", "bourse", "dalo", "autorisation_sante", "evacuation",
    "armes"})

# Decisions whose author is asked about by « le projet est-il le vôtre, ou celui d'un voisin ? ».
PERMIT_KINDS = frozenset({"permis_construire", "refus_permis"})

# A date the person says is wrong: « pas le 4 », « et non le 1er », « au lieu du 2 ».
_DATE_DENIED = re.compile(r"(?:\bpas|\bet non|\bnon pas|\bau lieu)\s+(?:du |de |le |la |l')?$")

_ROLE_CUES: tuple[tuple[str, str], ...] = (
    ("recours_gracieux", r"recours (?:gracieux|hierarchique)|contest\w*|j'?ai (?:ecrit|envoye "
     r"une lettre) (?:a|au) (?:la |le )?(?:maire|prefet|mairie|prefecture)"),
    ("claim", r"demande (?:prealable|d'indemni\w*|indemnitaire)|reclamation|demande de "
     r"remboursement|(?:j'?ai|on a) (?:envoye|fait|ecrit) (?:une |ma |un )?(?:demande|courrier|"
     r"lettre)"),
    ("contract", r"contrat|signature du marche|marche (?:a ete |est )?signe"),
    ("display", r"affich\w*|panneau|pose|posee|installe"),
    ("published", r"publiee?s?|publication|paru|journal officiel|mise? en ligne|sur le site"),
    # The results' proclamation is not the election day (R. 119 counts from the vote).
    ("proclaimed", r"proclam\w*|resultats? (?:ont ete |a ete )?(?:annonces?|publies?|affiches?)"),
    ("election", r"election\w*|scrutin|vote|votes|tour|municipales|depouillement"),
    ("effect", r"prend(?:ra)? effet|a compter d\w*|a partir d\w*|(?:entre|entree)? ?en vigueur|"
     r"fermeture|"
     r"fermer|demoli\w*|expuls\w*|evacu\w*|execution|effectif|effective|fourriere|"
     r"euthanasi\w*|abattu|abattage|saisie?|emmene|enleve|(?:doi(?:t|vent)|va|vont|devra|devront)"
     r" (?:etre )?\w+|sera|seront|applicable|s'applique|prevue? (?:pour|le)|"
     r"(?:manif|manifestation|rassemblement|festival) (?:est |etait |c'?est )?(?:prevue? )?"
     r"(?:pour |le )?(?:ce )?"),
    ("hearing", r"audience|convoquee?|convocation|passe devant|conseil de discipline|"
     r"rendez-vous|rdv"),
    ("notified", r"recue?s?|resu|recu|notifiee?s?|notification|remise?|j'?ai eu|arrivee?|"
     r"l'(?:a|ai|avons|ont) eue?s?|accuse de reception|avis de reception|"
     r"parvenue?s?|"
     r"donne|donnee|boite aux lettres|en main propre"),
    ("damage", r"accident|tombee?|chute|blesse\w*|degats?|dommages?|inond\w*|abime\w*|cass\w*|"
     r"fissur\w*|crev\w*|perdu\w*|perte|egare\w*|vole\w*|detrui\w*|endommag\w*"),
    ("signed", r"datee|datees|signee?s?|date du|en date"),
)
_CUE_RE = [(role, re.compile(r"\b(?:" + pattern + r")\b")) for role, pattern in _ROLE_CUES]
_OF_DOCUMENT = re.compile(r"(?:\bdu|\bdatee? du|\ben date du|\best du|\bdate du)\s*$")
_EFFECT_END = re.compile(r"(?:a compter d\w*|a partir d\w*|des le|effet le|effet au|"
                         r"prend(?:ra)? effet)\s*(?:le\s*)?$")
# A duration counted back from today (« depuis 3 mois »); its role comes from the words just
# before it only.
_SINCE = re.compile(r"(?:depuis|ca fait|cela fait)\b")
_SINCE_CUE_CHARS = 24
# « sans réponse depuis 3 mois »: waiting since the request, whose cue comes earlier.
_WAITING = re.compile(r"\b(?:sans|pas de|aucune|toujours pas de) reponse|\battends?\b")
# « avant jeudi », « d'ici lundi »: a day the person must act by, not when a measure applies.
_BY_DAY = re.compile(r"\b(?:avant|d'ici|jusqu'(?:a|au)|au plus tard)\s*(?:le\s*)?$")
# A date mention that took the full stop after a whole month name or a number: the sentence ends.
_ENDS_SENTENCE = re.compile(r"(?:\d|janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|"
                            r"octobre|novembre|decembre)\s*\.$")
_CLAUSE_BREAK = re.compile(r"[.;!?\n]| mais | et puis ")


def _date_role(folded: str, start: int, end: int, prev_end: int, next_start: int) -> str:
    before = folded[prev_end:start]
    cut = list(_CLAUSE_BREAK.finditer(before))
    if cut:
        before = before[cut[-1].end():]
    stripped = before.rstrip()
    if _EFFECT_END.search(stripped):
        return "effect"
    best: tuple[int, str] | None = None
    for role, pattern in _CUE_RE:
        for match in pattern.finditer(before):
            if best is None or match.end() > best[0]:
                best = (match.end(), role)
    if _OF_DOCUMENT.search(stripped) and (best is None or best[1] not in (
            "display", "election", "damage", "contract", "claim", "recours_gracieux")
            or best[0] < len(before) - 30):
        return "signed"
    if best is not None:
        if best[1] == "signed" and re.search(r"\b(?:contrat|marche)\b", before):
            return "contract"
        return best[1]
    after = folded[end:next_start]
    if _ENDS_SENTENCE.search(folded[start:end]):
        after = ""  # « … vendredi 11 décembre. J'ai eu l'arrêté samedi »: the next sentence's
    # « Le 2 octobre, les agents ont perdu… »: a date that opens its clause reads past a comma.
    opens = not re.search(r"[a-z]{3,}", before.replace(" le ", " ").replace("le ", ""))
    cut = re.search(r"[.;!?\n]| mais " if opens else r"[.;!?,\n]| mais | et ", after)
    if cut:
        after = after[:cut.start()]
    first: tuple[int, str] | None = None
    for role, pattern in _CUE_RE:
        match = pattern.search(after)
        if match and (first is None or match.start() < first[0]):
            first = (match.start(), role)
    return first[1] if first else "unspecified"


def _negated(folded: str, start: int) -> bool:
    before = folded[max(0, start - 30):start]
    cut = list(re.finditer(r"[.,;!?]", before))
    if cut:
        before = before[cut[-1].end():]
    return bool(gazetteer.NEGATION_BEFORE.search(before))


_COURRIER = re.compile(r"\b(?:recu|recue|eu|resu)\b(?: \w+){0,2} (?:de |d'|le |la |un |une |aucun |"
                       r"aucune )?(?:courrier|lettre|notification|decision|reponse|arrete)")
_NO_COURRIER = re.compile(r"\b(?:n'ai|n'avons|n'a|ai) (?:pas|jamais|toujours pas|rien) (?:encore |"
                          r"eu |recu |ete )*(?:recu|eu|notifie)|\bpas (?:encore )?de (?:courrier|"
                          r"lettre|notification|decision ecrite)\b|\baucun courrier\b|\brien recu\b")  # noqa: E501
_RECOURS_YES = re.compile(r"\b(?:recours gracieux|recours hierarchique|(?:j'?ai|on a|nous avons) "
                          r"(?:ecrit|envoye (?:un|une) (?:lettre|courrier)) (?:a|au) (?:la |le )?"
                          r"(?:maire|prefet|mairie|prefecture|recteur|directeur))")
_RECOURS_NO = re.compile(r"\b(?:pas (?:encore )?(?:fait|envoye|fais|de) (?:de |d')?(?:recours|"
                         r"gracieux)|aucun recours|pas de recours|sans recours|(?:j'?ai |on a |"
                         r"nous avons )?rien (?:envoye|ecrit|fait)(?: a (?:la|le|l') ?\w+)?"
                         r"(?: pour l'instant| encore)?(?=[,.;!?]|$)|n'ai (?:pas|fait "
                         r"aucun) (?:encore )?(?:fait |envoye )?(?:de |d'|aucun )?recours)")
_CLAIM_YES = re.compile(r"\b(?:demande prealable|demande d'indemni\w*|demande indemnitaire|"
                        r"reclamation|(?:j'?ai|on a|nous avons) (?:envoye|fait|ecrit) (?:une |ma |"
                        r"un )?(?:demande|courrier|lettre)(?: recommande\w*)? (?:a|au|aux) "
                        r"(?:la |le |l')?(?:mairie|metropole|ville|commune|departement|hopital|"
                        r"prefecture|impots|administration))")
_CLAIM_NO = re.compile(r"\b(?:pas (?:encore )?(?:fait|envoye|ecrit) (?:de |d')?(?:demande|"
                       r"reclamation|courrier)|aucune demande|rien envoye|rien demande)")
_CONTRACT_NO = re.compile(r"\bcontrat (?:n'est |n'a |est |a )?(?:pas|toujours pas|pas encore)"
                          r" (?:encore )?(?:ete )?signe|\bpas encore (?:ete )?signe|\bnon signe|"
                          r"\bavant (?:la )?signature\b")
_CONTRACT_YES = re.compile(r"\b(?:contrat|marche) (?:a |est |a deja |est deja |a bien )?(?:ete |"
                           r"deja )?signe|\bdeja signe")
_NOTICE_YES = re.compile(r"\bavis d'attribution (?:a ete |est )?(?:paru|publie)")
_NOTICE_NO = re.compile(r"\b(?:pas (?:encore )?(?:eu )?d'avis d'attribution|aucun avis "
                        r"d'attribution|sans avis d'attribution|avis d'attribution (?:n'a|n'est)"
                        r" (?:pas|jamais))")
_MESURES = (
    # « retenu(e) » of a person held (« il est retenu à l'aéroport »), not « l'offre retenue »
    ("retention", r"\b(?:retention|cra|centre de retention|zone d'attente|(?:est|a ete|suis|"
     r"sommes|sont|etait|ont ete|sera|reste) (?:toujours |encore |actuellement )?retenue?s?)\b"),
    ("assignation", r"\b(?:assignation|assignee?|pointer|pointage|pointe au commissariat)\b"),
    ("detention", r"\b(?:detention|detenue?|prison|incarceree?|maison d'arret|ecrouee?)\b"),
)
_TOWN = re.compile(r"\b(?:j'?habite|j'?abite|je vis|je reside|on habite|nous habitons|on vit|"
                   r"domicilie|habitant) (?:a|au|en|sur|dans) (?:la ville de )?"
                   r"([a-z][a-z'-]*[a-z](?: (?:sur|sous|en|les|le|la)[- ][a-z][a-z-]*)?)")
# « on est à muret 31600 », « moi je suis a sarcelles, »: the person's town, where a postcode or
# the clause's end follows (not « je suis à bout de nerfs »).
_TOWN_SAID = re.compile(r"\b(?:on est|je suis|j'?suis|nous sommes|on habite) a "
                        r"([a-z][a-z'-]*[a-z](?:[- ](?:sur|sous|en|les|le|la)[- ][a-z][a-z-]*)?)"
                        r"(?=\s*(?:\(?\d{2} ?\d{3}\)?|[,.;!?]|$))")
_NOT_A_TOWN = frozenset({"bout", "court", "cote", "jour", "table", "l'heure", "temps", "fond",
                         "plat", "sec", "terre", "cran", "deux", "trois", "moitie", "peine"})
_DECLINED = re.compile(
    r"\b(?:(?:c'est|c'etait|ce n'est|ce n'etait|c est|que c'etait|que c'est|que ce n'etait) )?pas "
    r"(?:leur|son|de leur|de son|du ressort de la \w+) (?:probleme|ressort|competence|affaire|role|"
    r"boulot|domaine)|(?:la |le |l')(?:mairie|prefecture|maire|ville|commune|police) (?:m'a|m'ont|"
    r"nous a|nous ont|a) (?:dit|repondu|explique) (?:qu'(?:elle|il|ils) ne pouv\w+ rien|de (?:voir|"
    r"m'adresser|aller) (?:avec|au|a|chez))|(?:m'a|m'ont|nous a|nous ont) renvoyee?s? vers")
_POSTCODE_RE = re.compile(r"(?<![0-9])([0-9]{2} ?[0-9]{3})(?![0-9])")
# A number followed by what it counts is a quantity, not a postcode (« 40 000 poulets »).
_QUANTITY_AFTER = re.compile(
    r"\s*(?:€|%|k€|eur\b|euros?\b|habitants?\b|poulets?\b|porcs?\b|vaches?\b|animaux\b|"
    r"betes\b|tetes\b|personnes\b|gens\b|m\b|m2\b|m²|metres?\b|km\b|kilometres?\b|voix\b|"
    r"electeurs?\b|votants?\b|signatures?\b|logements?\b|places?\b|tonnes?\b|litres?\b|"
    r"hectares?\b|ha\b|ans\b|jours\b|fois\b|salaries\b|eleves\b|etudiants\b|exemplaires\b|"
    r"visiteurs\b|vehicules\b|arbres\b)")
_CORRECTION = re.compile(r"^\s*(?:non|nan|non non|pardon|erreur|correction|en fait|plutot|"
                         r"je me suis trompee?|je rectifie|petite correction|attention)\b|"
                         r"\b(?:c'est|c est|cest) (?:plutot|pas|en fait)\b|\bje me suis trompee?\b")
_CORRECTED_FIELD = (
    ("postcode", r"code postal|\bcp\b"),
    ("date", r"\bdate\b|\bjour\b|\ble \d"),
    ("administration", r"mairie|prefecture|prefet|administration|metropole|departement"),
    ("role", r"\bje suis\b"),
    ("town", r"\bville\b|j'?habite"),
)


# « je suis la propriétaire », « c'est mon chien »: the person owns the thing concerned; the
# « propriétaire » that follows is the person, not a landlord.
_OWN_THING = re.compile(r"(?:\b(?:je suis|j'?suis|nous sommes|on est|en tant que|c'est moi)"
                        r" (?:le |la |l'|les )?)$")
_DAMAGE_WORDS = re.compile(dict(gazetteer.DECISIONS)["accident"] + "|" + dict(
    gazetteer.DECISIONS)["dommage_travaux_publics"])
_DISPLAYED_AT = re.compile(r"\b(?:affich\w*|publi\w*|consultable|panneau\w*)\b[^.;!?]{0,30}"
                           r"\b(?:en|a la|dans la|sur les panneaux de la|a l'accueil de la)\s*$")
_PROCUREMENT_WORDS = re.compile(r"\b(?:offres?|appel d'offres?|marches? publics?|marches? de "
                                r"(?:restauration|travaux|fournitures?|services?|prestations?|"
                                r"nettoyage|transport|livraison)|"
                                r"attribu\w*|candidat\w*|consultation|prestataire|traiteur|"
                                r"titulaire du marche)\b")
_ANIMAL = re.compile(r"\b(?:chiens?|chienne|chiots?|chats?|chatte|chevaux|cheval|jument|poney|"
                     r"animal|animaux|betail|troupeau|vaches?|moutons?|brebis|chevres?|ane|"
                     r"poules?|nac|serpent|pitbull|rottweiler|berger)\b")
_REFUSAL_OBJECT_AFTER = re.compile(r"\s*(?:ma |mon |notre |la |le |l'|les |de |d')(?:demande "
                                   r"(?:de |d')|prise en charge (?:de |du |des |d')?)?"
                                   r"[a-z][a-z' -]{2,60}?(?=[,.;!?(\n]| au motif| car | parce"
                                   r"| alors| pour | a cause|$)")


def _refusal_object(folded: str, match: re.Match[str]) -> re.Match[str] | tuple[int, int]:
    """A refusal with what was refused, in the person's words: « refusé le transport scolaire »,
    « ma demande de disponibilité a été refusée »."""
    after = _REFUSAL_OBJECT_AFTER.match(folded, match.end())
    if after and not re.match(r"\s*(?:de |d')?(?:me |m'|nous |lui )", folded[match.end():]):
        return _Span(match.start(), after.end())
    clause = re.split(r"[,.;!?\n]", folded[:match.start()])[-1]
    before = re.search(r"(?:ma |mon |notre |la |une )?demande (?:de |d')[a-z' -]{2,50}?"
                       r"(?= (?:a ete|est|m'a ete|ont|a) |$)", clause)
    if before:
        offset = match.start() - len(clause)
        return _Span(offset + before.start(), match.end())
    return match


_CLAUSE_LEAD = re.compile(r"\s*(?:c'est |c est |il s'agit d'|il s'agit de )?(?:un |une |le |la "
                          r"|l'|des )?")
MAX_CLAUSE_CHARS = 80


def _clause_of(folded: str, match: re.Match[str]) -> re.Match[str] | _Span:
    """The person's words around a kind (« une exclusion de la cantine pour mon fils »): the
    clause it stands in, when short, its lead words left out."""
    start = max((m.end() for m in re.finditer(r"[,.;!?(\n]", folded[:match.start()])),
                default=0)
    end = next((m.start() + match.end() for m in re.finditer(r"[,.;!?()\n]",
                                                                folded[match.end():])),
               len(folded))
    start += _CLAUSE_LEAD.match(folded, start).end() - start
    if end - start > MAX_CLAUSE_CHARS or end <= start:
        return match
    return _Span(start, end)


def _to_clause_end(folded: str, match: re.Match[str]) -> re.Match[str] | _Span:
    """« retiré ma place de stationnement résidentiel »: the verb and what it bears on."""
    end = next((m.start() + match.end() for m in re.finditer(
        r"[,.;!?()\n]| (?:sans|car|parce|au motif|alors|depuis|mais) ", folded[match.end():])),
        len(folded))
    while end > match.end() and folded[end - 1] == " ":
        end -= 1
    if end - match.start() > MAX_CLAUSE_CHARS:
        return match
    return _Span(match.start(), end)


@dataclass(frozen=True)
class _Span:
    """A span that reads as a regex match (start, end, span)."""

    s: int
    e: int

    def start(self) -> int:
        return self.s

    def end(self) -> int:
        return self.e

    def span(self) -> tuple[int, int]:
        return (self.s, self.e)


def _fact(text: str, value: Any, start: int, end: int) -> Fact:
    return Fact(value=value, span=(start, end), text=text[start:end])


def extract(text: str, now: datetime, coming_as_effect: bool = True) -> Facts:
    """Every fact of one message, resolved against ``now`` (timezone-aware, Paris time).

    ``coming_as_effect``: a coming day with no cue is the day a measure applies. The intake turns
    it off for an answer to a date question, where the question gives the role."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    text = text or ""
    folded = fold_keep(text)

    administrations: list[Administration] = []
    seen_spans: list[Span] = []
    for kind, pattern in gazetteer.ADMINISTRATIONS:
        for match in re.finditer(pattern, folded):
            if any(not (match.end() <= s or match.start() >= e) for s, e in seen_spans):
                continue
            if kind == "commune" and re.search(r"(?:adjointe? au|je suis(?: le| la)?) $",
                                               folded[max(0, match.start() - 12):match.start()]):
                continue
            place, p_end = None, match.end()
            if match.lastindex and match.group(match.lastindex):
                p_start, p_end = match.span(match.lastindex)
                p_end = departement_end(folded, p_start, p_end)
                place = gazetteer.place_ok(folded[p_start:p_end]) and text[p_start:p_end]
                more = re.match(r" [A-ZÉÈ][\w-]+", text[p_end:])
                if place and more:  # « Pays Basque », « Val d'Oise »: a capitalised second word
                    p_end += more.end()
                    place = text[p_start:p_end]
            end = max(match.end(), p_end) if place else (
                match.end() if kind == "etablissement_public"
                else match.start() + len(re.split(r" d(?:e|u|es)\b| d'", match.group(0))[0]))
            seen_spans.append((match.start(), match.end()))
            administrations.append(Administration(kind, place or None, (match.start(), end),
                                                  text[match.start():end]))
    administrations.sort(key=lambda a: a.span)
    if any(a.kind != "commune" for a in administrations):
        # « le préfet … affiché en mairie de X »: where it was displayed, not who decided.
        administrations = [a for a in administrations if not (
            a.kind == "commune" and _DISPLAYED_AT.search(
                folded[max(0, a.span[0] - 45):a.span[0]]))]

    has_permis = bool(re.search(r"\bpermis\b(?!" + gazetteer.NOT_BUILDING_PERMIT + ")", folded))
    private: list[Fact] = []
    for kind, pattern in gazetteer.PRIVATE_PARTIES:
        if kind == "voisin" and has_permis:
            continue
        match = next((m for m in re.finditer(pattern, folded)
                      if not (kind == "bailleur" and _OWN_THING.search(folded[:m.start()]))),
                     None)
        if match:
            private.append(_fact(text, kind, match.start(), match.end()))

    role = None
    for kind, pattern in gazetteer.ROLES:
        match = re.search(pattern, folded)
        if match:
            explicit = re.match(r"je suis", match.group(0))
            explicit = explicit or match.group(0).startswith("riverain")
            if kind == "voisin" and not explicit and not (
                    has_permis or re.search(r"construi|travaux|eolien|panneau|porcherie|elevage|"
                                            r"methanis|usine|carriere|icpe|installation",
                                            folded)):
                continue
            role = _fact(text, kind, match.start(), match.end())
            break

    decisions: list[Fact] = []
    decision_spans: list[Span] = []
    for kind, pattern in gazetteer.DECISIONS:
        match = re.search(pattern, folded)
        if not match:
            continue
        if any(d.value == kind for d in decisions):
            continue  # a kind of several patterns: the first, most precise, reading
        overlaps = any(not (match.end() <= s or match.start() >= e) for s, e in decision_spans)
        if kind in ("permis_construire", "refus_demande", "attribution_marche", "accident",
                    "retrait") and (overlaps or decisions):
            continue
        if kind == "rejet_offre" and not re.search(r"offre|marche|appel|lettre de rejet|retenu",
                                                   folded):
            continue
        if kind == "dommage_travaux_publics" and _PROCUREMENT_WORDS.search(folded):
            continue  # « un marché de travaux de voirie »: a contract, not a damage
        if kind == "service_public_local" and (_DAMAGE_WORDS.search(folded)
                                               or _PROCUREMENT_WORDS.search(folded)):
            continue  # a fall at the canteen, a canteen's catering contract: not the service
        if kind == "mesure_animal" and not _ANIMAL.search(folded):
            continue  # a car's fourrière, not a police measure on an animal
        if kind == "refus_demande":
            match = _refusal_object(folded, match)
        if kind == "retrait" and _negated(folded, match.start()):
            continue
        if kind in ("retrait", "autorisation_environnementale"):
            match = _to_clause_end(folded, match)
        if kind == "service_public_local":
            match = _clause_of(folded, match)
        if kind in PUBLIC_DECISIONS and _negated(folded, match.start()):
            continue
        decision_spans.append(match.span())
        decisions.append(_fact(text, kind, match.start(), match.end()))

    mentions = find_dates(text, now)
    dates: list[DateFact] = []
    for index, mention in enumerate(mentions):
        prev_end = mentions[index - 1].span[1] if index else 0
        next_start = mentions[index + 1].span[0] if index + 1 < len(mentions) else len(text)
        if _DATE_DENIED.search(folded[max(0, mention.span[0] - 20):mention.span[0]]):
            continue  # « le 3 décembre, pas le 4 »: the 4th is what it was not
        if _SINCE.match(folded[mention.span[0]:mention.span[1]]) and not _WAITING.search(
                folded[max(0, mention.span[0] - _SINCE_CUE_CHARS):mention.span[0]]):
            # « loué depuis 2 ans »: the start of a state, not of the decision. Only a cue in
            # the words just before gives it a role (« affiché depuis 3 semaines »).
            prev_end = max(prev_end, mention.span[0] - _SINCE_CUE_CHARS)
            comma = folded.rfind(",", prev_end, mention.span[0])
            if comma >= 0:
                prev_end = comma + 1  # « …a égaré son dentier, ça fait 2 mois qu'il… »
        role_name = _date_role(folded, *mention.span, prev_end, next_start)
        if coming_as_effect and role_name == "unspecified" and mention.day is not None and (
                mention.day > now.astimezone(PARIS).date()) and not _BY_DAY.search(
                folded[max(0, mention.span[0] - 12):mention.span[0]]):
            role_name = "effect"  # « jeudi 10 décembre »: a coming day is when it applies
        dates.append(_date_fact(text, mention, role_name))
    dates += _notified_hour_only(folded, text, mentions, dates, now)
    # « lundi matin le 7 »: one day said twice; the words with a role keep it.
    dates = [d for d in dates if not (d.role == "unspecified" and any(
        o.role != "unspecified" and o.day == d.day and abs(o.span[0] - d.span[1]) <= 12
        or o.role != "unspecified" and o.day == d.day and abs(d.span[0] - o.span[1]) <= 12
        for o in dates))]

    mesure = None
    for kind, pattern in _MESURES:
        match = re.search(pattern, folded)
        if match and not _negated(folded, match.start()):
            mesure = _fact(text, kind, match.start(), match.end())
            break
    if mesure is None:
        match = re.search(r"\b(?:ni (?:retenue?|en retention),? ni assignee?|pas (?:en retention|"
                          r"retenue?|assignee?|de mesure|de retention)|libre)\b", folded)
        if match:
            mesure = _fact(text, "aucune", match.start(), match.end())

    postcode = None
    for match in _POSTCODE_RE.finditer(text):
        code = parse_postcode(match.group(1))
        if code and not re.search(r"\d[/.]\s*$", text[:match.start()]) and not (
                _QUANTITY_AFTER.match(fold_keep(text[match.end():match.end() + 20]))):
            postcode = _fact(text, code, match.start(), match.end())
            break

    town = None
    match = _TOWN.search(folded) or _TOWN_SAID.search(folded)
    if match and gazetteer.place_ok(match.group(1)) and match.group(1) not in _NOT_A_TOWN:
        town = _fact(text, text[match.start(1):match.end(1)], match.start(1), match.end(1))
    elif not town:
        commune = next((a for a in administrations if a.kind == "commune" and a.place), None)
        if commune:
            town = Fact(value=commune.place, span=commune.span, text=commune.text)

    places = tuple(_fact(text, name, start, end)
                   for name, start, end in named_places(text, folded))
    contract = _yes_no(text, folded, _CONTRACT_YES, _CONTRACT_NO)
    notice = _yes_no(text, folded, _NOTICE_YES, _NOTICE_NO)
    recours = _yes_no(text, folded, _RECOURS_YES, _RECOURS_NO)
    claim = _yes_no(text, folded, _CLAIM_YES, _CLAIM_NO)
    courrier = _yes_no(text, folded, _COURRIER, _NO_COURRIER)
    if recours is None and any(d.role == "recours_gracieux" for d in dates):
        first = next(d for d in dates if d.role == "recours_gracieux")
        recours = Fact(True, first.span, first.text)

    correction = bool(_CORRECTION.search(folded)) or bool(
        re.search(r"\b(?:le|la|mon|ma) (?:code postal|date|cp|ville)\b,? (?:c'est|c est|cest|est)"
                  r"\b", folded))
    corrected = tuple(name for name, pattern in _CORRECTED_FIELD
                      if correction and re.search(pattern, folded))
    return Facts(
        administrations=tuple(administrations), private_parties=tuple(private), role=role,
        decisions=tuple(decisions), dates=tuple(dates), mesure=mesure, postcode=postcode,
        town=town, places=places, contract_signed=contract, award_notice=notice,
        recours_gracieux=recours,
        claim_sent=claim, courrier_recu=courrier, correction=correction, corrected=corrected,
        administration_declined=(_fact(text, True, *declined.span()) if (
            declined := _DECLINED.search(folded)) else None),
    )


_NOTIFIED_AT_HOUR = re.compile(r"\b(?:notifiee?s?|remise?s?)\b(?: [a-z']+){0,4}?"
                               r" (?:a|vers|aux alentours de) ([01]?\d|2[0-3]) ?h ?([0-5]\d)?\b")


def _notified_hour_only(folded: str, text: str, mentions: list[DateMention],
                        dates: list[DateFact], now: datetime) -> list[DateFact]:
    """« OQTF notifiée à 8h » with no day next to it: the notification, on the day the message
    last named before it (« arrêté ce matin à 6h, … notifiée à 8h »), else today — to verify."""
    if any(d.role == "notified" for d in dates):
        return []
    for match in _NOTIFIED_AT_HOUR.finditer(folded):
        if any(not (match.end() <= m.span[0] or match.start() >= m.span[1]) for m in mentions):
            continue
        before = [m for m in mentions if m.span[1] <= match.start() and m.day is not None]
        day = before[-1].day if before else now.astimezone(PARIS).date()
        hour = time(int(match.group(1)), int(match.group(2) or 0))
        return [DateFact("notified", day, match.span(), text[match.start():match.end()], hour,
                         (day,), uncertain=not before)]
    return []


def _date_fact(text: str, mention: DateMention, role: str) -> DateFact:
    start, end = mention.span
    return DateFact(role=role, day=mention.day, span=mention.span, text=text[start:end],
                    hour=mention.hour, candidates=mention.candidates,
                    uncertain=mention.uncertain, future=mention.future)


def _yes_no(text: str, folded: str, yes: re.Pattern[str], no: re.Pattern[str]) -> Fact | None:
    match = no.search(folded)
    if match:
        return _fact(text, False, match.start(), match.end())
    match = yes.search(folded)
    if match:
        return _fact(text, not _negated(folded, match.start()), match.start(), match.end())
    return None


_SCALARS = ("role", "mesure", "postcode", "town", "contract_signed", "award_notice",
            "recours_gracieux", "claim_sent", "courrier_recu", "administration_declined")


def merge(previous: Facts, new: Facts) -> Facts:
    """Facts of a conversation so far plus one message.

    A scalar fact already known is kept unless the new message is an explicit correction
    (« non, … », « le code postal c'est 33800 ») or a restatement of that field. Lists are
    united (administration, decisions, dates); a corrected date replaces the date of the same role,
    or, for a date without a role, the single earlier date it corrects.
    """
    changes: dict[str, Any] = {}
    for name in _SCALARS:
        old, fresh = getattr(previous, name), getattr(new, name)
        if fresh is not None and (old is None or new.correction):
            changes[name] = fresh
    changes["administrations"] = _union(previous.administrations, new.administrations,
                                        key=lambda a: (a.kind, (a.place or "").lower()),
                                        replace_all=new.correction and "administration"
                                        in new.corrected)
    # « la mairie » then « la mairie de Lens »: one administration, the precise one.
    placed = {a.kind for a in changes["administrations"] if a.place}
    changes["administrations"] = tuple(a for a in changes["administrations"]
                                       if a.place or a.kind not in placed)
    changes["private_parties"] = _union(previous.private_parties, new.private_parties,
                                        key=lambda p: p.value)
    changes["decisions"] = _union(previous.decisions, new.decisions, key=lambda d: d.value)
    changes["places"] = _union(previous.places, new.places, key=lambda p: fold_keep(p.value))
    changes["dates"] = _merge_dates(previous.dates, new.dates, new.correction)
    changes["correction"] = new.correction
    changes["corrected"] = new.corrected
    return replace(previous, **changes)


def _union(old: tuple, new: tuple, key, replace_all: bool = False) -> tuple:
    if replace_all and new:
        return new
    keys = {key(item) for item in old}
    return old + tuple(item for item in new if key(item) not in keys)


def _merge_dates(old: tuple[DateFact, ...], new: tuple[DateFact, ...],
                 correction: bool) -> tuple[DateFact, ...]:
    result = list(old)
    for fresh in new:
        same_role = [i for i, d in enumerate(result) if d.role == fresh.role]
        if correction and fresh.role != "unspecified" and same_role:
            result[same_role[0]] = fresh
        elif correction and fresh.role == "unspecified" and any(d.day == fresh.day for d in old):
            continue  # « y a 10 jours c'était l'appel du notaire »: the old date, explained
        elif correction and fresh.role == "unspecified" and result:
            # « non, la date c'est le 8 octobre »: the role of the date it corrects is kept.
            target = same_role[0] if same_role else 0
            result[target] = replace(fresh, role=result[target].role)
        elif fresh.role == "unspecified" and len(result) == 1 and result[0].day is None:
            result[0] = replace(fresh, role=result[0].role)
        elif fresh.role != "unspecified" and fresh.day is not None and any(
                d.role == "unspecified" and d.day == fresh.day for d in result) and not any(
                d.role == fresh.role for d in result):
            # « le 20 octobre » in the story, then « le 20 octobre » as the damage's date: one
            # date, now with its role.
            target = next(i for i, d in enumerate(result)
                          if d.role == "unspecified" and d.day == fresh.day)
            result[target] = replace(result[target], role=fresh.role)
        elif not any(d.role == fresh.role and d.day == fresh.day for d in result):
            result.append(fresh)
    return tuple(result)


# --- What each domain needs (LEGAL.md §4.7) -----------------------------------------------------

# For each domain: the date roles its deadline rule starts from, in order of preference, by the
# person's role ("*" for any other role). The first role present in the facts is used.
DATE_RULES: dict[str, dict[str, tuple[str, ...]]] = {
    "etrangers": {"*": ("notified", "signed")},
    "urbanisme": {"voisin": ("display", "published"), "association": ("display", "published"),
                  "*": ("notified", "signed")},
    "elections": {"*": ("election",)},
    # The standstill runs from the sending of the rejection letter (its date), not its receipt.
    "commande_publique": {"*": ("signed", "notified", "contract", "published")},
    # A claim's explicit rejection first; else the claim (implicit rejection); else the damage.
    "responsabilite_administrative": {"*": ("notified", "claim", "damage")},
    "fonction_publique": {"*": ("notified", "signed", "effect")},
    "fiscalite": {"*": ("notified", "signed")},
    "police_administrative": {"*": ("notified", "signed", "effect")},
    "environnement": {"voisin": ("display", "published"), "association": ("display", "published"),
                      "*": ("notified", "published", "display")},
    "collectivites": {"*": ("notified", "published", "signed")},
}
# How each date role reads in the note to the lawyer (« date de notification »).
ROLE_WORDS = {
    "signed": "de signature", "notified": "de notification (réception)",
    "display": "du premier jour d'affichage", "published": "de publication",
    "election": "de l'élection", "effect": "d'effet", "contract": "de signature du contrat",
    "claim": "de la demande d'indemnisation", "recours_gracieux": "du recours gracieux",
    "damage": "du dommage", "hearing": "de l'audience", "unspecified": "citée sans précision",
    "proclaimed": "de la proclamation des résultats",
}
# Domains whose rule needs the hour (OQTF regimes in hours, election at 18:00 is fixed).
HOUR_NEEDED = ("etrangers",)

# The facts to ask per domain (LEGAL.md §4.7 « Bot: ask … »), in the order to ask them.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "etrangers": ("decision", "mesure", "date_notified", "hour_notified", "administration",
                  "place"),
    "urbanisme": ("role_applicant_or_neighbour", "date_display_or_notified", "recours_gracieux",
                  "recours_gracieux_date", "place"),
    "elections": ("date_election", "place"),
    "commande_publique": ("administration", "date_rejection", "contract_signed",
                          "date_award_notice", "place"),
    "responsabilite_administrative": ("administration", "date_damage", "claim_sent",
                                      "claim_date", "place"),
    "fonction_publique": ("administration", "decision", "date_notified", "recours_gracieux",
                          "recours_gracieux_date", "place"),
    "fiscalite": ("decision", "date_notified", "claim_sent", "place"),
    "police_administrative": ("administration", "decision", "date_notified", "date_effect",
                              "place"),
    "environnement": ("role", "decision", "date_display_or_notified", "recours_gracieux",
                      "place"),
    "collectivites": ("administration", "decision", "date_notified", "recours_gracieux",
                      "recours_gracieux_date", "place"),
    "hors_champ": ("place",),
}


@dataclass(frozen=True)
class NeededDate:
    """The date a domain's deadline rule starts from, which role it is, and why."""

    role: str | None
    date: DateFact | None
    uncertain: bool
    note: str


def needed_date(facts: Facts, domain: str) -> NeededDate:
    """The date the deadline rule of ``domain`` needs, from the facts (None if not given)."""
    rules = DATE_RULES.get(domain)
    if not rules:
        return NeededDate(None, None, True, "pas de règle de délai pour ce domaine")
    person = facts.role.value if facts.role else None
    wanted = rules.get(person or "", rules["*"])
    prefix = ""
    if domain == "commande_publique" and facts.contract_signed and facts.contract_signed.value:
        # Signed: no référé précontractuel; the référé contractuel runs from the award notice.
        # Without its date, an earlier one (the contract's, the rejection's) gives an earlier
        # deadline, to verify (LEGAL.md §4.7.4).
        wanted, prefix = CONTRACTUAL_DATES, CONTRACT_SIGNED
    for position, role in enumerate(wanted):
        found = facts.date_for(role)
        apart = _earliest_apart(facts, role)
        if apart is not None:
            # Two decisions of the same kind (the tax of 2025 and of 2026): the earlier one's
            # deadline comes first; never a later one (LEGAL.md: the earlier reading).
            return NeededDate(role, apart, True, prefix + (
                f"date {ROLE_WORDS[role]} la plus ancienne des dates données (plusieurs "
                f"décisions ?)"))
        if found is not None and found.day is not None and found.uncertain:
            # « reçu début septembre », « avis du 28 août »: when unsure, the earlier date (an
            # earlier deadline, never a late one), marked to verify (issue #12 item 7).
            earlier = [d for r in wanted[position + 1:] if (d := facts.date_for(r)) is not None
                       and d.day is not None and not d.uncertain and d.day < found.day]
            if earlier:
                chosen = min(earlier, key=lambda d: d.day)
                return NeededDate(chosen.role, chosen, True, prefix + (
                    f"date {ROLE_WORDS[chosen.role]} (la date {ROLE_WORDS[role]}, imprécise, "
                    f"est postérieure)"))
            signed = facts.date_for("signed")
            if (role == "notified" and signed is not None and signed.day is not None
                    and not signed.uncertain and signed.day > found.day):
                # « daté du 2 octobre, reçu mi-octobre » read as 1 October: a notification is
                # never before the act; the earliest it can be is the act's date.
                return NeededDate("signed", signed, True, prefix + (
                    "date de signature (la notification, imprécise, ne peut la précéder)"))
        if found is not None and found.day is not None:
            fallback = position > 0
            uncertain = found.uncertain or fallback or (
                domain in HOUR_NEEDED and found.hour is None)
            note = prefix + f"date {ROLE_WORDS[role]}" + (
                f" (faute de la date {ROLE_WORDS[wanted[0]]})" if fallback else "")
            return NeededDate(role, found, uncertain, note)
    return NeededDate(wanted[0], None, True,
                      prefix + f"date manquante : {ROLE_WORDS[wanted[0]]}")


def _earliest_apart(facts: Facts, role: str) -> DateFact | None:
    """The earliest date of ``role`` when the person gave several more than a month apart (two
    letters, two years' taxes: two decisions, not one date said twice), else None."""
    days = [d for d in facts.dates if d.role == role and d.day is not None]
    if len(days) < 2:
        return None
    earliest = min(days, key=lambda d: d.day)
    latest = max(days, key=lambda d: d.day)
    return earliest if (latest.day - earliest.day).days > 31 else None


# The note of a signed procurement contract's date (actions/urgency.py reads the prefix).
CONTRACT_SIGNED = "contrat signé, référé contractuel : "
CONTRACTUAL_DATES = ("published", "contract", "signed", "notified")


def _is_neighbour(facts: Facts) -> bool:
    return bool(facts.role and facts.role.value in ("voisin", "association"))


def _has(facts: Facts, key: str) -> bool | None:
    """Whether ``key`` is known; None when the question does not apply."""
    if key == "decision":
        return bool(facts.decisions)
    if key == "mesure":
        return facts.mesure is not None
    if key == "administration":
        return bool(facts.administrations)
    if key == "place":
        # The person's postcode or town; the town in the administration's name (« mairie de
        # Lens ») is where it sits, not where the person lives (the Ordre, some tribunals).
        own_town = facts.town is not None and not any(
            a.span == facts.town.span and a.text == facts.town.text
            for a in facts.administrations)
        return facts.postcode is not None or own_town
    if key == "role_applicant_or_neighbour":
        if facts.decisions and not any(d.value in PERMIT_KINDS for d in facts.decisions):
            return None  # a préemption, an expropriation: the person is the one it aims at
        # « je suis propriétaire », « habitante de Lens » say nothing of whose project it is.
        return facts.role is not None and facts.role.value not in ("particulier", "proche")
    if key == "role":
        return facts.role is not None
    if key == "date_notified":
        return facts.date_for("notified") is not None
    if key == "hour_notified":
        notified = facts.date_for("notified")
        return notified is not None and notified.hour is not None
    if key == "date_display_or_notified":
        if _is_neighbour(facts):  # a third party: the display, or the publication
            return (facts.date_for("display") or facts.date_for("published")) is not None
        return facts.date_for("notified") is not None
    if key == "date_election":
        return facts.date_for("election") is not None
    if key == "date_rejection":
        return facts.date_for("notified") is not None or facts.date_for("signed") is not None
    if key == "date_damage":
        return facts.date_for("damage") is not None
    if key == "date_effect":
        return facts.date_for("effect") is not None
    if key == "contract_signed":
        return facts.contract_signed is not None
    if key == "date_award_notice":
        # Asked once the contract is signed: the référé contractuel runs from the notice.
        if not (facts.contract_signed and facts.contract_signed.value):
            return None
        return facts.date_for("published") is not None or (
            facts.award_notice is not None and not facts.award_notice.value)
    if key == "recours_gracieux":
        return facts.recours_gracieux is not None
    if key == "recours_gracieux_date":
        if not (facts.recours_gracieux and facts.recours_gracieux.value):
            return None
        return facts.date_for("recours_gracieux") is not None
    if key == "claim_sent":
        return facts.claim_sent is not None
    if key == "claim_date":
        if not (facts.claim_sent and facts.claim_sent.value):
            return None
        return facts.date_for("claim") is not None
    raise KeyError(key)


# Who decides on a foreigner's stay or removal: the préfet (or the minister, OFII, OFPRA). The
# police who handed the OQTF over is not its author.
FOREIGNERS_AUTHORS = frozenset({"prefecture", "ministere", "ofii", "ofpra", "etat"})


def missing(facts: Facts, domain: str) -> tuple[str, ...]:
    """The question keys of ``domain`` (QUESTIONS) whose fact is still unknown, in order."""
    keys = []
    for key in QUESTIONS.get(domain, ("place",)):
        if key == "administration" and domain == "etrangers":
            if not any(a.kind in FOREIGNERS_AUTHORS for a in facts.administrations):
                keys.append(key)
        elif _has(facts, key) is False:
            keys.append(key)
    return tuple(keys)
