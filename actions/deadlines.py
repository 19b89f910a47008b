"""Estimated administrative-law deadlines, for the lawyer only.

Pure functions: dates in, a frozen :class:`Deadline` out (the estimated last day, the rule applied
and its source, and notes explaining each step). Nothing here is ever shown to the person as
advice: the assistant only tells them that deadlines are short (LEGAL.md S6, N1).

Rules implemented (LEGAL.md §4; re-check primary texts before relying on them):

- Délai franc in months (CJA R. 421-1; CE, sect., 4 juin 1954, Cne de Décines-Charpieu): neither
  the day of notification nor the last day counts. LEGAL.md §4.1 gives two formulations: (a) the
  reference algorithm, start the day after the event, add the months, clamp to the last day of a
  short month; (b) the event's quantième plus the months, clamped, plus one day (CPC art. 641
  counting, then franc). They agree except when the event falls at the end of a month, and not
  only before a short February as LEGAL.md says: 30 Dec 2027 gives (a) 29 Feb 2028, (b) 1 Mar
  2028, but 30 Jun 2026 gives (a) 1 Sep, (b) 31 Aug, and 28 Feb 2026 gives (a) 1 May, (b)
  29 Apr. The estimate takes the earlier of the two, with a note, because an estimate for the
  lawyer must not be later than the real deadline. The result is then moved past Saturdays,
  Sundays and public holidays (CE, 19 sept. 2014, n° 362568; same rule as CPC art. 642).
- Public holidays from the ``holidays`` package (France): metropolitan list; Alsace-Moselle adds
  Good Friday and 26 December (subdivisions "57" and "6AE" of holidays 0.86); the overseas
  subdivisions (971 to 974, 976, Saint-Pierre-et-Miquelon "PM", ...) add their own days.
- Prorogation (CRPA L. 411-2): a first recours gracieux or hiérarchique made within the time
  limit starts a new two-month period from its rejection (explicit, or implicit after two months
  of silence, CRPA L. 231-4 and CJA R. 421-2). Not in urbanisme since loi n° 2025-1129 (C. urb.
  L. 600-12-2, in force 27 Nov 2025), not in the OQTF procedures.
- Implicit rejection after two months of silence (CRPA L. 231-4, CJA R. 421-2).
- Czabaj (CE, Ass., 13 juil. 2016, n° 387763): without mention of the appeal routes, a reasonable
  time of one year from notification or knowledge.
- Délai de distance (CJA R. 421-7): + 1 month outre-mer, + 2 months abroad.
- OQTF since 15 July 2024 (loi n° 2024-42, décret n° 2024-799): 1 month (ordinary procedure),
  7 days (CESEDA L. 921-1, not franc: CAA Lyon, 19 déc. 2024, n° 24LY03013), 48 hours (CESEDA
  L. 921-2, counted in hours, no weekend extension).
- Elections (C. électoral R. 119): 18:00 on the fifth day after the round.
- Urbanisme, third parties (C. urb. R. 600-2): two months from the first day of display on site.
- Environmental authorisations, third parties (C. env. R. 181-50, décret n° 2024-423): two
  months for decisions from 1 Sept 2024, four months before.
- Public procurement: standstill of 11 days (electronic) or 16 days (CCP R. 2182-1); référé
  contractuel 31 days (CJA R. 551-7).
- Local direct taxes: prior complaint by 31 December of the year after collection (LPF R. 196-2).

Where the law is uncertain the estimate takes the earlier date and says so in ``notes``.

Command line (prints JSON)::

    python -m actions.deadlines --kind general --from 2026-09-10
"""

from __future__ import annotations

import argparse
import calendar
import dataclasses
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any, NoReturn

import holidays

__all__ = [
    "Deadline",
    "KINDS",
    "add_months",
    "compute",
    "czabaj",
    "election",
    "environment_third_party",
    "general",
    "holiday_name",
    "implicit_decision_date",
    "implicit_rejection",
    "is_non_working_day",
    "local_tax_claim",
    "main",
    "oqtf_48_hours",
    "oqtf_7_days",
    "oqtf_month",
    "procurement_contractual",
    "procurement_standstill",
    "resolve_subdivision",
    "urbanisme_display",
]

# Dates at which rules changed.
URBANISME_NO_PROROGATION_FROM = date(2025, 11, 27)  # loi 2025-1129, JO 27 Nov 2025
ENVIRONMENT_TWO_MONTHS_FROM = date(2024, 9, 1)  # décret 2024-423
OQTF_REFORM_FROM = date(2024, 7, 15)  # loi 2024-42, décret 2024-799

DISTANCE_MONTHS = {"outre-mer": 1, "etranger": 2}

WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

_SUBDIVISIONS = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
    "975": "PM",
    "977": "BL",
    "978": "MF",
    "987": "PF",
    "988": "NC",
}


@dataclass(frozen=True)
class Deadline:
    """An estimated deadline, for the lawyer's dashboard only (LEGAL.md N1).

    ``deadline`` is the last day on which the act can be done; ``time`` the hour at which it
    ends that day ("24:00" for whole days, "18:00" for elections, "HH:MM" for hour deadlines,
    ``None`` when the date is the first day something may happen, e.g. the first day the
    contract may be signed after a standstill: the deadline then ends at 00:00 that day).
    ``start`` is the event the period runs from (notification, display, election...).
    """

    kind: str
    deadline: date
    rule: str
    source: str
    start: date
    time: str | None = "24:00"
    expires_at: datetime | None = None
    notes: tuple[str, ...] = ()

    def end_datetime(self) -> datetime:
        """The moment the deadline expires (the start of the next day for whole days)."""
        if self.expires_at is not None:
            return self.expires_at
        if self.time is None:
            return datetime.combine(self.deadline, time.min)
        if self.time == "24:00":
            return datetime.combine(self.deadline + timedelta(days=1), time.min)
        return datetime.combine(self.deadline, time.fromisoformat(self.time))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "deadline": self.deadline.isoformat(),
            "time": self.time,
            "kind": self.kind,
            "rule": self.rule,
            "source": self.source,
            "start": self.start.isoformat(),
            "notes": list(self.notes),
        }
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at.isoformat(timespec="minutes")
        return data


# --------------------------------------------------------------------------- calendar helpers


def fr_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def fr_day(d: date) -> str:
    return f"{WEEKDAYS_FR[d.weekday()]} {fr_date(d)}"


def resolve_subdivision(departement: str | None = None, alsace_moselle: bool = False) -> str | None:
    """Map a département code to the ``holidays.France`` subdivision (None = metropolitan list).

    57 -> "57"; 67, 68 -> "6AE" (Good Friday and 26 December); 971-974, 976 as such; 975 -> "PM";
    977 -> "BL"; 978 -> "MF"; 987 -> "PF"; 988 -> "NC". ``alsace_moselle`` forces "6AE" (or "57").
    """
    code = (departement or "").strip().upper()
    if alsace_moselle:
        return "57" if code == "57" else "6AE"
    return _SUBDIVISIONS.get(code)


@cache
def _calendar(subdiv: str | None) -> holidays.HolidayBase:
    return holidays.France(subdiv=subdiv, language="fr")


def holiday_name(d: date, subdiv: str | None = None) -> str | None:
    """Name of the public holiday on ``d`` (in French, from the holidays package), else None."""
    return _calendar(subdiv).get(d)


def is_non_working_day(d: date, subdiv: str | None = None) -> bool:
    """Saturday, Sunday or public holiday."""
    return d.weekday() >= 5 or holiday_name(d, subdiv) is not None


def _describe_non_working(d: date, subdiv: str | None) -> str:
    name = holiday_name(d, subdiv)
    if name is not None:
        return f"{fr_day(d)}, jour férié ({name})"
    return fr_day(d)


def _roll_forward(d: date, subdiv: str | None) -> tuple[date, list[str]]:
    """Move a deadline past Saturdays, Sundays and holidays (CE 19 Sept 2014, n° 362568)."""
    if not is_non_working_day(d, subdiv):
        return d, []
    skipped = []
    current = d
    while is_non_working_day(current, subdiv):
        skipped.append(_describe_non_working(current, subdiv))
        current += timedelta(days=1)
    note = (
        f"échéance tombant un jour non ouvrable ({'; '.join(skipped)}) : "
        f"reportée au premier jour ouvrable, {fr_day(current)}"
    )
    return current, [note]


def _warn_if_non_working(d: date, subdiv: str | None) -> list[str]:
    if is_non_working_day(d, subdiv):
        return [
            f"échéance un jour non ouvrable ({_describe_non_working(d, subdiv)}) : report non "
            "retenu (estimation prudente), à vérifier"
        ]
    return []


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later, clamped to the last day of a shorter month."""
    year, month0 = divmod(d.month - 1 + months, 12)
    year += d.year
    month = month0 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def _franc_months(event: date, months: int, subdiv: str | None) -> tuple[date, list[str]]:
    """Délai franc in months: the earlier of LEGAL.md §4.1's two formulations, then moved."""
    first_day = event + timedelta(days=1)
    from_day_after = add_months(first_day, months)
    from_quantieme = add_months(event, months) + timedelta(days=1)
    raw = min(from_day_after, from_quantieme)
    notes = []
    if from_day_after != from_quantieme:
        notes.append(
            f"[?] fin de mois : « lendemain + {months} mois » donne le "
            f"{fr_date(from_day_after)}, « quantième + {months} mois + 1 jour » le "
            f"{fr_date(from_quantieme)} ; date la plus précoce retenue (estimation prudente)"
        )
    elif raw.day != first_day.day:
        notes.append(
            f"quantième du {first_day.day} inexistant en {raw.month:02d}/{raw.year} : "
            f"dernier jour du mois retenu ({fr_date(raw)})"
        )
    final, moved = _roll_forward(raw, subdiv)
    return final, notes + moved


def _distance_months(distance: str | None) -> tuple[int, list[str]]:
    if distance is None:
        return 0, []
    key = distance.strip().lower().replace("é", "e").replace("_", "-")
    if key not in DISTANCE_MONTHS:
        raise ValueError(f"unknown délai de distance {distance!r}: use 'outre-mer' or 'etranger'")
    extra = DISTANCE_MONTHS[key]
    label = "outre-mer" if key == "outre-mer" else "étranger"
    return extra, [f"délai de distance ({label}) : + {extra} mois (CJA R. 421-7)"]


def implicit_decision_date(request_received: date, months: int = 2) -> date:
    """Date an implicit rejection arises: two months of silence after receipt (CRPA L. 231-4)."""
    return add_months(request_received, months)


# --------------------------------------------------------------------------- prorogation


def _prorogation(
    base: Deadline,
    *,
    decision: date,
    recours_gracieux: date | None,
    rejet_explicite: date | None,
    months: int,
    urbanisme: bool,
    subdiv: str | None,
) -> Deadline:
    """Apply a first recours gracieux / hiérarchique to ``base`` (CRPA L. 411-2)."""
    if recours_gracieux is None:
        if rejet_explicite is not None:
            raise ValueError("rejet_explicite given without recours_gracieux")
        return base
    if recours_gracieux < decision:
        raise ValueError("the recours gracieux date precedes the decision date")
    notes = list(base.notes)
    rg = fr_date(recours_gracieux)
    if urbanisme:
        if recours_gracieux > add_months(decision, 1):
            notes.append(
                f"recours gracieux du {rg} formé plus d'un mois après la décision "
                "(délai d'un mois, C. urb. L. 600-12-2)"
            )
        if recours_gracieux >= URBANISME_NO_PROROGATION_FROM:
            notes.append(
                f"recours gracieux du {rg} : ne proroge pas le délai de recours contentieux "
                "en urbanisme (C. urb. L. 600-12-2, loi n° 2025-1129)"
            )
            return _replace(base, notes=notes)
        notes.append(
            "[?] recours gracieux antérieur au 27/11/2025 : prorogation selon le droit antérieur "
            "(dispositions transitoires de la loi n° 2025-1129 à vérifier)"
        )
    if recours_gracieux > base.deadline:
        notes.append(
            f"recours gracieux du {rg} formé après l'expiration du délai : pas de prorogation"
        )
        return _replace(base, notes=notes)
    if rejet_explicite is not None and rejet_explicite < recours_gracieux:
        raise ValueError("the explicit rejection precedes the recours gracieux")

    born = implicit_decision_date(recours_gracieux)
    from_implicit, implicit_notes = _franc_months(born, months, subdiv)
    candidates = [(from_implicit, [f"rejet implicite né le {fr_date(born)} (silence de deux "
                                   "mois, CRPA L. 231-4)"] + implicit_notes)]
    if rejet_explicite is not None:
        from_explicit, explicit_notes = _franc_months(rejet_explicite, months, subdiv)
        candidates.append(
            (from_explicit, [f"rejet explicite notifié le {fr_date(rejet_explicite)}"]
             + explicit_notes)
        )
        if rejet_explicite > born:
            notes.append(
                "[?] rejet explicite postérieur à la naissance du rejet implicite : la date la "
                "plus précoce est retenue, à vérifier"
            )
    chosen, chosen_notes = min(candidates, key=lambda item: item[0])
    notes.append(f"délai initial, sans prorogation : {fr_date(base.deadline)}")
    notes.append(
        f"prorogé par recours gracieux ou hiérarchique du {rg} (CRPA L. 411-2 ; seul le premier "
        "recours administratif proroge)"
    )
    notes.extend(chosen_notes)
    return _replace(
        base,
        deadline=chosen,
        notes=notes,
        rule=base.rule + " ; prorogé par recours administratif",
        source=base.source + " ; CRPA L. 411-2, L. 231-4 ; CJA R. 421-2",
    )


def _replace(base: Deadline, **changes: Any) -> Deadline:
    if "notes" in changes:
        changes["notes"] = tuple(changes["notes"])
    return dataclasses.replace(base, **changes)


# --------------------------------------------------------------------------- deadline kinds


def general(
    notified: date,
    *,
    recours_gracieux: date | None = None,
    rejet_explicite: date | None = None,
    urbanisme: bool = False,
    distance: str | None = None,
    subdiv: str | None = None,
) -> Deadline:
    """Two-month recours contentieux, délai franc (CJA R. 421-1), with prorogation.

    ``notified``: date of notification or publication. ``recours_gracieux``: date the first
    administrative appeal was made (its receipt date if known; the sending date gives an earlier,
    prudent estimate). ``urbanisme``: the decision concerns an urbanisme authorisation, so a
    recours gracieux made from 27 Nov 2025 does not extend the time limit (L. 600-12-2).
    """
    extra, notes = _distance_months(distance)
    months = 2 + extra
    end, franc_notes = _franc_months(notified, months, subdiv)
    base = Deadline(
        kind="general",
        deadline=end,
        rule="Délai de recours contentieux de deux mois, délai franc (CJA R. 421-1)",
        source="CJA R. 421-1 ; CE, sect., 4 juin 1954, Cne de Décines-Charpieu ; "
        "CE 19 sept. 2014, n° 362568",
        start=notified,
        notes=tuple(
            [f"décision notifiée ou publiée le {fr_date(notified)}"] + notes + franc_notes
            + ["opposable seulement si la notification mentionne les voies et délais de "
               "recours (CJA R. 421-5) ; à défaut, délai raisonnable d'un an (Czabaj)"]
        ),
    )
    return _prorogation(
        base,
        decision=notified,
        recours_gracieux=recours_gracieux,
        rejet_explicite=rejet_explicite,
        months=months,
        urbanisme=urbanisme,
        subdiv=subdiv,
    )


def implicit_rejection(
    request_received: date,
    *,
    distance: str | None = None,
    subdiv: str | None = None,
) -> Deadline:
    """Recours against an implicit rejection born after two months of silence.

    The implicit decision arises two months after receipt of the request (CRPA L. 231-4); the
    two-month délai franc runs from that date (CJA R. 421-2).
    """
    extra, notes = _distance_months(distance)
    born = implicit_decision_date(request_received)
    end, franc_notes = _franc_months(born, 2 + extra, subdiv)
    return Deadline(
        kind="implicit_rejection",
        deadline=end,
        rule="Rejet implicite après deux mois de silence, puis recours de deux mois, délai "
        "franc (CRPA L. 231-4 ; CJA R. 421-2)",
        source="CRPA L. 231-4, L. 112-3, L. 112-6 ; CJA R. 421-2 ; CE avis 30 janv. 2019, "
        "n° 420797",
        start=request_received,
        notes=tuple(
            [
                f"demande reçue le {fr_date(request_received)} ; rejet implicite né le "
                f"{fr_date(born)}",
            ]
            + notes
            + franc_notes
            + [
                "le délai ne court que si l'accusé de réception mentionnait les voies et délais "
                "(CRPA L. 112-3, L. 112-6), sauf entre l'administration et ses agents ; à "
                "défaut, délai raisonnable d'un an (Czabaj ; CE 18 mars 2019, n° 417270 ; "
                "CE avis 2 oct. 2025, n° 504677)",
                "silence valant acceptation dans certains cas (CRPA L. 231-1) : à vérifier",
            ]
        ),
    )


def prescription_quadriennale(event: date) -> Deadline:
    """No claim sent yet for a damage: the public body's debt lapses four years from 1 January
    of the year after the damage (loi n° 68-1250 of 31 Dec 1968, art. 1); a prior claim is
    needed before any recours (CJA R. 421-1)."""
    end = date(event.year + 4, 12, 31)
    return Deadline(
        kind="prescription_quadriennale",
        deadline=end,
        rule="Prescription quadriennale : quatre ans à compter du 1er janvier suivant le "
        "dommage (loi n° 68-1250 du 31 déc. 1968, art. 1) ; demande préalable obligatoire "
        "(CJA R. 421-1)",
        source="Loi n° 68-1250 du 31 déc. 1968, art. 1 ; CJA R. 421-1",
        start=event,
        notes=(f"dommage du {fr_date(event)}, aucune demande indemnitaire connue",
               "adresser une demande préalable à l'administration ; le recours de deux mois "
               "courra de son rejet",
               "hôpital public : dix ans à compter de la consolidation (CSP L. 1142-28)"),
    )


def czabaj(notified: date) -> Deadline:
    """One-year reasonable time without mention of appeal routes (CE, Ass., 2016, Czabaj).

    Counted from notification or knowledge, same date one year later (29 Feb -> 28 Feb); not a
    délai franc and not moved past weekends: a prudent estimate.
    """
    end = add_months(notified, 12)
    return Deadline(
        kind="czabaj",
        deadline=end,
        rule="Délai raisonnable d'un an sans mention des voies et délais de recours (Czabaj)",
        source="CE, Ass., 13 juil. 2016, Czabaj, n° 387763 ; CJA R. 421-5",
        start=notified,
        notes=(
            "délai raisonnable d'un an (Czabaj)",
            f"à compter de la notification ou de la connaissance de la décision "
            f"({fr_date(notified)}), sauf circonstances particulières",
            "ni franc ni reporté au jour ouvrable (estimation prudente)",
        ),
    )


def _oqtf_regime_notes(notified: date) -> list[str]:
    if notified < OQTF_REFORM_FROM:
        return [
            "[?] décision antérieure au 15/07/2024 : ancien régime (48 h / 15 jours / 30 jours), "
            "à vérifier"
        ]
    return []


def oqtf_month(notified: date) -> Deadline:
    """OQTF, ordinary procedure since 15 July 2024: one month from notification.

    Counted prudently as not franc and not moved past weekends (by analogy with the 7-day ruling
    of CAA Lyon 24LY03013): the deadline is the same date the next month, clamped.
    """
    end = add_months(notified, 1)
    return Deadline(
        kind="oqtf_month",
        deadline=end,
        rule="OQTF sans mesure restrictive de liberté : recours d'un mois (procédure ordinaire "
        "depuis le 15/07/2024)",
        source="CESEDA L. 911-1, L. 614-1 et s. ; loi n° 2024-42 ; décret n° 2024-799",
        start=notified,
        notes=tuple(
            _oqtf_regime_notes(notified)
            + [
                "[?] caractère franc non retenu, pas de report au jour ouvrable (estimation "
                "prudente)",
                "non prorogé par un recours administratif ; interrompu par une demande d'aide "
                "juridictionnelle",
                "devient 7 jours en cas d'assignation à résidence ou de détention, 48 heures en "
                "cas de placement en rétention (CESEDA L. 921-1, L. 921-2)",
            ]
        ),
    )


def oqtf_7_days(notified: date, *, subdiv: str | None = None) -> Deadline:
    """OQTF with assignation à résidence or detention: seven days (CESEDA L. 921-1), not franc.

    The period starts the day after notification and ends at midnight on the seventh day
    (CAA Lyon, 19 déc. 2024, n° 24LY03013); no weekend extension is assumed (prudent).
    """
    end = notified + timedelta(days=7)
    return Deadline(
        kind="oqtf_7_days",
        deadline=end,
        rule="OQTF avec assignation à résidence ou détention : recours de sept jours, non franc "
        "(CESEDA L. 921-1)",
        source="CESEDA L. 921-1 ; CAA Lyon, 19 déc. 2024, n° 24LY03013",
        start=notified,
        notes=tuple(
            _oqtf_regime_notes(notified)
            + ["du lendemain de la notification à minuit le septième jour"]
            + _warn_if_non_working(end, subdiv)
            + ["non prorogé par un recours administratif"]
        ),
    )


def oqtf_48_hours(notified: date, *, at_time: time | None = None) -> Deadline:
    """OQTF with rétention: 48 hours from notification (CESEDA L. 921-2).

    Counted in hours, not franc, no weekend extension. When the hour of notification is unknown
    the count starts at 00:00 that day (the earliest possible end).
    """
    notes = _oqtf_regime_notes(notified)
    if at_time is None:
        notes.append("heure de notification inconnue : calcul depuis 00:00 (estimation prudente)")
        start_at = datetime.combine(notified, time.min)
    else:
        start_at = datetime.combine(notified, at_time)
    end_at = start_at + timedelta(hours=48)
    notes += [
        f"notification le {fr_date(notified)} à {start_at:%H:%M}",
        "délai en heures : ni franc ni reporté (samedi, dimanche, jour férié)",
        "le juge statue dans les 96 heures",
    ]
    if end_at.time() == time.min:  # shown as 24:00 the day before
        last_day, clock = end_at.date() - timedelta(days=1), "24:00"
    else:
        last_day, clock = end_at.date(), end_at.strftime("%H:%M")
    return Deadline(
        kind="oqtf_48_hours",
        deadline=last_day,
        time=clock,
        expires_at=end_at,
        rule="OQTF avec placement en rétention : recours de 48 heures (CESEDA L. 921-2)",
        source="CESEDA L. 921-2 ; loi n° 2024-42 ; décret n° 2024-799",
        start=notified,
        notes=tuple(notes),
    )


def election(round_day: date, *, subdiv: str | None = None) -> Deadline:
    """Election protest: 18:00 on the fifth day after the round (C. électoral R. 119).

    Each round separately (CE 27 juil. 2001, Armissan). No extension is assumed when the day is
    a holiday (prudent).
    """
    end = round_day + timedelta(days=5)
    return Deadline(
        kind="election",
        deadline=end,
        time="18:00",
        rule="Protestation électorale : au plus tard à 18 heures le cinquième jour qui suit "
        "l'élection (C. électoral R. 119)",
        source="C. électoral R. 119 ; CE 27 juil. 2001, Armissan",
        start=round_day,
        notes=tuple(
            [
                f"tour de scrutin du {fr_day(round_day)} ; délai propre à chaque tour",
                "élections municipales ; autres scrutins : délais différents, à vérifier",
            ]
            + _warn_if_non_working(end, subdiv)
        ),
    )


def urbanisme_display(
    first_display_day: date,
    *,
    recours_gracieux: date | None = None,
    subdiv: str | None = None,
) -> Deadline:
    """Third-party recours against an urbanisme authorisation (C. urb. R. 600-2).

    Two months, délai franc, from the first day of a continuous two-month display on site. A
    recours gracieux made from 27 Nov 2025 does not extend it (C. urb. L. 600-12-2).
    """
    end, franc_notes = _franc_months(first_display_day, 2, subdiv)
    base = Deadline(
        kind="urbanisme_display",
        deadline=end,
        rule="Recours des tiers contre une autorisation d'urbanisme : deux mois à compter du "
        "premier jour d'affichage continu sur le terrain, délai franc (C. urb. R. 600-2)",
        source="C. urb. R. 600-2, R. 600-1, L. 600-12-2 ; CJA R. 421-1",
        start=first_display_day,
        notes=tuple(
            [f"premier jour d'affichage sur le terrain : {fr_date(first_display_day)}"]
            + franc_notes
            + [
                "affichage continu de deux mois requis ; recours à notifier à l'auteur et au "
                "bénéficiaire dans les 15 jours francs (C. urb. R. 600-1)",
                "plus de recours six mois après l'achèvement des travaux (C. urb. R. 600-3)",
            ]
        ),
    )
    return _prorogation(
        base,
        decision=first_display_day,
        recours_gracieux=recours_gracieux,
        rejet_explicite=None,
        months=2,
        urbanisme=True,
        subdiv=subdiv,
    )


def environment_third_party(
    published: date,
    *,
    decision_date: date | None = None,
    recours_gracieux: date | None = None,
    rejet_explicite: date | None = None,
    subdiv: str | None = None,
) -> Deadline:
    """Third-party recours against an environmental authorisation (C. env. R. 181-50).

    Two months (four before 1 Sept 2024, by decision date) from display in the mairie or
    publication on the préfecture website, délai franc; a recours gracieux extends it.
    """
    decided = decision_date or published
    months = 2 if decided >= ENVIRONMENT_TWO_MONTHS_FROM else 4
    end, franc_notes = _franc_months(published, months, subdiv)
    notes = [f"affichage ou publication le {fr_date(published)}"]
    if decision_date is None:
        notes.append("date de la décision inconnue : date de publication utilisée")
    notes.append(
        f"décision du {fr_date(decided)} : délai de {months} mois "
        f"({'depuis' if months == 2 else 'avant'} le 01/09/2024, décret n° 2024-423)"
    )
    base = Deadline(
        kind="environment_third_party",
        deadline=end,
        rule=f"Recours des tiers contre une autorisation environnementale : {months} mois, "
        "délai franc (C. env. R. 181-50)",
        source="C. env. R. 181-50 ; décret n° 2024-423 ; CRPA L. 411-2",
        start=published,
        notes=tuple(notes + franc_notes),
    )
    return _prorogation(
        base,
        decision=published,
        recours_gracieux=recours_gracieux,
        rejet_explicite=rejet_explicite,
        months=months,
        urbanisme=False,
        subdiv=subdiv,
    )


def procurement_standstill(sent: date, *, electronic: bool = True) -> Deadline:
    """End of the standstill between the rejection letter and signature (CCP R. 2182-1).

    11 days after sending the rejection by electronic means, 16 days otherwise. The returned
    date is the earliest day the contract may be signed; the référé précontractuel (CJA L. 551-1)
    must be filed and notified to the buyer before signature. Counted prudently (not franc).
    """
    days = 11 if electronic else 16
    end = sent + timedelta(days=days)
    return Deadline(
        kind="procurement_standstill",
        deadline=end,
        time=None,
        rule=f"Délai de suspension de la signature (standstill) de {days} jours après l'envoi "
        "de la lettre de rejet (CCP R. 2182-1) : référé précontractuel avant la signature",
        source="CCP R. 2182-1 ; CJA L. 551-1, L. 551-4",
        start=sent,
        notes=(
            f"lettre de rejet envoyée le {fr_date(sent)} "
            f"({'voie électronique' if electronic else 'autre voie'})",
            f"signature possible au plus tôt le {fr_date(end)} (estimation prudente)",
            "après signature : référé contractuel (31 jours, CJA R. 551-7) ou recours Tarn-et-"
            "Garonne (deux mois)",
        ),
    )


def procurement_contractual(published: date) -> Deadline:
    """Référé contractuel: 31 days from publication of the award notice (CJA R. 551-7)."""
    end = published + timedelta(days=31)
    return Deadline(
        kind="procurement_contractual",
        deadline=end,
        rule="Référé contractuel : 31 jours à compter de la publication de l'avis d'attribution "
        "(CJA R. 551-7)",
        source="CJA L. 551-13, R. 551-7",
        start=published,
        notes=(
            f"avis d'attribution publié le {fr_date(published)}",
            "sans publication ni notification : six mois à compter du lendemain de la "
            "conclusion du contrat",
            "ni franc ni reporté (estimation prudente)",
        ),
    )


def before_effect(effect: date, *, annulment: Deadline | None = None) -> Deadline:
    """A measure that takes effect on ``effect`` (a ban on a demonstration, a closure, a
    demolition): a référé is only useful before that day (LEGAL.md §4.6, §4.7.9; CJA L. 521-1,
    L. 521-2). The returned date is the day the measure applies (ends at 00:00 that day); the
    annulment action keeps its own, later deadline, named in the notes."""
    notes = [f"la mesure s'applique le {fr_date(effect)} : un référé n'est utile qu'avant"]
    if annulment is not None:
        notes.append(f"recours en annulation : jusqu'au {fr_date(annulment.deadline)} "
                     f"({annulment.rule})")
    return Deadline(
        kind="before_effect",
        deadline=effect,
        time=None,
        rule="Avant la prise d'effet de la mesure : référé-liberté (le juge statue en 48 h, CJA "
        "L. 521-2) ou référé-suspension avec un recours en annulation (CJA L. 521-1)",
        source="CJA L. 521-1, L. 521-2",
        start=effect,
        notes=tuple(notes),
    )


def procurement_contractual_no_notice(concluded: date) -> Deadline:
    """Référé contractuel without an award notice: six months from the day after the contract's
    conclusion (CJA R. 551-7). Counted to the same date six months later (the earlier
    reading), neither franc nor moved."""
    end = add_months(concluded, 6)
    return Deadline(
        kind="procurement_contractual",
        deadline=end,
        rule="Référé contractuel sans avis d'attribution publié : six mois à compter du "
        "lendemain de la conclusion du contrat (CJA R. 551-7)",
        source="CJA L. 551-13, R. 551-7",
        start=concluded,
        notes=(
            f"contrat conclu le {fr_date(concluded)} (ou date antérieure citée)",
            "ni franc ni reporté (estimation prudente)",
        ),
    )


def local_tax_claim(collected: date) -> Deadline:
    """Prior complaint on local direct taxes: 31 December of the following year (LPF R. 196-2)."""
    end = date(collected.year + 1, 12, 31)
    return Deadline(
        kind="local_tax_claim",
        deadline=end,
        rule="Réclamation préalable en matière d'impôts directs locaux : au plus tard le 31 "
        "décembre de l'année suivant la mise en recouvrement (LPF R. 196-2)",
        source="LPF L. 190, R. 190-1, R. 196-2, R. 199-1",
        start=collected,
        notes=(
            f"mise en recouvrement (ou avis) du {fr_date(collected)}",
            "puis tribunal administratif dans les deux mois du rejet de la réclamation "
            "(LPF R. 199-1)",
        ),
    )


# --------------------------------------------------------------------------- dispatcher / CLI


KINDS: dict[str, tuple[Callable[..., Deadline], str]] = {
    "general": (general, "recours contentieux de deux mois, délai franc (CJA R. 421-1); "
                "--from = notification; options --recours-gracieux, --rejet-explicite, "
                "--urbanisme, --distance"),
    "implicit_rejection": (implicit_rejection, "rejet implicite après deux mois de silence puis "
                           "deux mois (CRPA L. 231-4); --from = réception de la demande"),
    "czabaj": (czabaj, "délai raisonnable d'un an sans mention des voies et délais (Czabaj)"),
    "oqtf_month": (oqtf_month, "OQTF sans mesure restrictive: un mois (depuis le 15/07/2024)"),
    "oqtf_7_days": (oqtf_7_days, "OQTF + assignation ou détention: sept jours (CESEDA L. 921-1)"),
    "oqtf_48_hours": (oqtf_48_hours, "OQTF + rétention: 48 heures (CESEDA L. 921-2); --time"),
    "election": (election, "protestation électorale: 18:00 le cinquième jour (C. élect. "
                 "R. 119); --from = jour du tour"),
    "urbanisme_display": (urbanisme_display, "tiers, urbanisme: deux mois dès le premier jour "
                          "d'affichage (C. urb. R. 600-2)"),
    "environment_third_party": (environment_third_party, "tiers, autorisation "
                                "environnementale: 2 mois (4 avant le 01/09/2024), "
                                "C. env. R. 181-50; --decision-date"),
    "procurement_standstill": (procurement_standstill, "marchés: fin du standstill 11 jours "
                               "(16 avec --paper), CCP R. 2182-1"),
    "procurement_contractual": (procurement_contractual, "référé contractuel: 31 jours "
                                "(CJA R. 551-7)"),
    "local_tax_claim": (local_tax_claim, "impôts locaux: réclamation avant le 31/12 de l'année "
                        "suivante (LPF R. 196-2)"),
    "before_effect": (before_effect, "mesure qui prend effet à une date: référé avant cette date "
                      "(CJA L. 521-1, L. 521-2); --from = date d'effet"),
}


def compute(kind: str, start: date, **options: Any) -> Deadline:
    """Compute a deadline of ``kind`` from ``start``; options must be accepted by that kind.

    ``subdiv`` is silently dropped for kinds that never look at holidays. Raises ValueError for
    an unknown kind, an option that does not apply, or inconsistent dates.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known kinds: {', '.join(KINDS)}")
    func = KINDS[kind][0]
    accepted = set(list(inspect.signature(func).parameters)[1:])
    given = {key: value for key, value in options.items() if value is not None}
    if "subdiv" in given and "subdiv" not in accepted:
        given.pop("subdiv")
    unexpected = sorted(set(given) - accepted)
    if unexpected:
        raise ValueError(f"option(s) {', '.join(unexpected)} do not apply to kind {kind!r}")
    return func(start, **given)


class _JsonArgumentParser(argparse.ArgumentParser):
    """Argument errors as a JSON message on stdout and exit code 2, never a traceback."""

    def error(self, message: str) -> NoReturn:
        print(json.dumps({"error": message}, ensure_ascii=False))
        sys.exit(2)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r} (expected YYYY-MM-DD)") from None


def _hh_mm(text: str) -> time:
    try:
        parsed = datetime.strptime(text, "%H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid time {text!r} (expected HH:MM)") from None
    return parsed.time()


def _build_parser() -> argparse.ArgumentParser:
    kinds_help = "\n".join(f"  {name:<24} {desc}" for name, (_, desc) in KINDS.items())
    parser = _JsonArgumentParser(
        prog="python -m actions.deadlines",
        description="Estimated administrative-law deadline, for the lawyer only (JSON output).",
        epilog=f"kinds:\n{kinds_help}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kind", required=True, choices=list(KINDS), metavar="KIND",
                        help="deadline kind (see the list below)")
    parser.add_argument("--from", dest="start", required=True, type=_iso_date,
                        metavar="YYYY-MM-DD", help="event date: notification, display, round...")
    parser.add_argument("--time", dest="at_time", type=_hh_mm, metavar="HH:MM",
                        help="hour of notification (oqtf_48_hours)")
    parser.add_argument("--recours-gracieux", type=_iso_date, metavar="YYYY-MM-DD",
                        help="date of the first recours gracieux or hiérarchique")
    parser.add_argument("--rejet-explicite", type=_iso_date, metavar="YYYY-MM-DD",
                        help="date the explicit rejection of the recours was notified")
    parser.add_argument("--urbanisme", action="store_true",
                        help="decision on an urbanisme authorisation (general)")
    parser.add_argument("--decision-date", type=_iso_date, metavar="YYYY-MM-DD",
                        help="date of the decision (environment_third_party)")
    parser.add_argument("--paper", action="store_true",
                        help="rejection letter not sent electronically (procurement_standstill)")
    parser.add_argument("--distance", choices=sorted(DISTANCE_MONTHS),
                        help="délai de distance, CJA R. 421-7 (general, implicit_rejection)")
    parser.add_argument("--departement", metavar="CODE",
                        help="département code for local holidays (57, 67, 68, 971...976)")
    parser.add_argument("--alsace-moselle", action="store_true",
                        help="Alsace-Moselle holidays (Good Friday, 26 December)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    options: dict[str, Any] = {
        "at_time": args.at_time,
        "recours_gracieux": args.recours_gracieux,
        "rejet_explicite": args.rejet_explicite,
        "urbanisme": True if args.urbanisme else None,
        "decision_date": args.decision_date,
        "electronic": False if args.paper else None,
        "distance": args.distance,
        "subdiv": resolve_subdivision(args.departement, args.alsace_moselle),
    }
    try:
        result = compute(args.kind, args.start, **options)
    except ValueError as exc:
        print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        return 2
    print(json.dumps(result.to_dict(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
