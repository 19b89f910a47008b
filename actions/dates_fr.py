"""Find and resolve French date expressions in free text, with their span (pure, no I/O).

Every expression is resolved against ``now`` in Europe/Paris time. A past reading is never after
``now``; an expression that can mean two days (« dimanche » written on a Sunday, « en octobre »,
« la semaine dernière ») keeps every candidate and is marked uncertain, its ``day`` being the
earliest candidate (the earlier deadline is the safe one for a lawyer).

Spans index the original text: ``fold_keep`` folds accents and case character by character so
that positions in the folded text are positions in the message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    ("janv", 1), ("fev", 2), ("mars", 3), ("avr", 4), ("mai", 5), ("juin", 6), ("juil", 7),
    ("aou", 8), ("sep", 9), ("oct", 10), ("nov", 11), ("dec", 12),
)
_MONTH_RE = r"(janv[a-z]*|fe?v[a-z]*|mars|avr[a-z]*|mai|juin|juil[a-z]*|aou[a-z]*|sept?[a-z]*|oct[a-z]*|nov[a-z]*|dec[a-z]*)\.?"  # noqa: E501
_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "quinze": 15, "quelques": 3,
}


def fold_keep(text: str) -> str:
    """Lower-case and strip accents without changing any position: 'Reçue' -> 'recue'."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFKD", char)[:1] or char
        low = base.lower()
        if char in "’‘`´":
            low = "'"
        out.append(low if len(low) == 1 else char)
    return "".join(out)


@dataclass(frozen=True)
class DateMention:
    """One date expression: where it is, what day(s) it can mean, and the hour if given."""

    span: tuple[int, int]
    day: date | None
    candidates: tuple[date, ...]
    hour: time | None = None
    uncertain: bool = False
    future: bool = False  # read as a coming day (« prend effet jeudi »)

    def at(self) -> datetime | None:
        """The Paris-time datetime when both the day and the hour are known."""
        if self.day is None or self.hour is None:
            return None
        return datetime.combine(self.day, self.hour, tzinfo=PARIS)


def _month_number(word: str) -> int | None:
    word = word.rstrip(".")
    if word in ("mai", "mars", "juin"):
        return {"mai": 5, "mars": 3, "juin": 6}[word]
    if word.startswith("fv"):
        return 2
    for prefix, number in _MONTHS:
        if word.startswith(prefix) and prefix not in ("mai", "mars", "juin"):
            return number
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day_month(day: int, month: int, year: int | None, today: date, future: bool) -> list[date]:
    """A day and month without a year: the most recent one (or the next one when future)."""
    if year is not None:
        found = _safe_date(year, month, day)
        return [found] if found else []
    this_year = _safe_date(today.year, month, day)
    if future:
        if this_year and this_year >= today:
            return [this_year]
        nxt = _safe_date(today.year + 1, month, day)
        return [nxt] if nxt else []
    if this_year and this_year <= today:
        return [this_year]
    last = _safe_date(today.year - 1, month, day)
    return [last] if last else []


def _named_weekday_date(weekday: str | None, day: int, month: int, year: int | None,
                        today: date) -> date | None:
    """« jeudi 10 décembre » without a year: the year whose 10 December is a Thursday, the
    nearest to today (last year, this year or next); None without a weekday or a match."""
    if weekday is None or year is not None:
        return None
    target = WEEKDAYS.index(weekday)
    found = [d for y in (today.year - 1, today.year, today.year + 1)
             if (d := _safe_date(y, month, day)) is not None and d.weekday() == target]
    return min(found, key=lambda d: abs((d - today).days)) if found else None


def _weekday_day(name: str, qualifier: str | None, day: int, today: date,
                 future: bool) -> tuple[list[date], bool]:
    """« lundi dernier (le 30) »: the day ``day`` of a month near today that is that weekday,
    the latest not after today (the next one when future or « prochain »); when none is, the
    weekday's own date and the day number's, both (uncertain)."""
    ahead = future or qualifier in ("prochain", "qui vient")
    target = WEEKDAYS.index(name)
    months = [(today.year * 12 + today.month - 1 + shift) for shift in (-2, -1, 0, 1, 2)]
    found = [d for index in months
             if (d := _safe_date(index // 12, index % 12 + 1, day)) is not None
             and d.weekday() == target and ((d > today) if ahead else (d <= today))]
    if found:
        return [min(found) if ahead else max(found)], False
    by_weekday, _ = _weekday_candidates(name, qualifier, today, future)
    by_number = _recent_day(day, today, ahead)
    return [d for d in (*by_weekday, by_number) if d is not None], True


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value + 2000 if value < 100 else value


_FUTURE_CUE = re.compile(
    r"(prend(ra)? effet|prochaine?|a compter d|a partir d|doi[st]|devra|va |vont |sera|seront|"
    r"prevue?s?|programme|audience|convoque|expire|expulse|fermer|demolir|d'ici|jusqu'a|"
    r"avant le|des le|effectiv|execut|entre en vigueur|qui vient|a venir|"
    # « la fermeture commence jeudi » (not « a commencé lundi », folded alike)
    r"(?<!\ba )(?<!\bont )(?<!avait )(?:commence|debute|demarre)(?:ra)?\b|"
    # « les gendarmes passent jeudi », « ils viennent vendredi les récupérer »
    r"\b(?:passent|viennent|vient|reviennent|arrivent|debarquent|interviennent) "
    r"(?:me |nous |les |le |la )?(?:\w+ )?$)"
)
# Before a month alone, these make it the coming one (« avant fin février »).
_COMING_MONTH = re.compile(r"\b(?:avant|pour|d'ici|jusqu'a|d'ici a|au plus tard)\s*$")

_ABSOLUTE = re.compile(
    r"\b(?:(" + "|".join(WEEKDAYS) + r") )?(1er|premier|[0-3]?\d) " + _MONTH_RE
    + r"(?: (\d{4}))?(?![a-z])"
)
_NUMERIC = re.compile(r"(?<![\d/.])([0-3]?\d)[/.-]([01]?\d)(?:[/.-](\d{4}|\d{2}))?(?![\d/])")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_ONLY = re.compile(
    r"\b(?:le|du|au|ce) (1er|[0-3]?\d)\b(?! ?(?:h\b|heures?|[/.:,]\d|ans?\b|jours?|semaines?|mois|"
    r"euros?|€|%|min|personnes|fois|ou|-))"
)
_WEEKDAY = re.compile(
    r"\b(" + "|".join(WEEKDAYS) + r")(?: (dernier|passe|prochain|qui vient))?\b"
)
# A weekday with the day's number (« lundi dernier (le 30) », « mardi le 3 », « jeudi 10 »): the
# number says which week; when it is not that weekday in a near month, both days are kept
# (uncertain: the earlier counts).
_WEEKDAY_WITH_DAY = re.compile(
    r"\b(" + "|".join(WEEKDAYS) + r")(?: (dernier|passe|prochain|qui vient))?,? ?\(? ?(?:le )?"
    r"(1er|[0-3]?\d)\b(?! ?(?:h\b|heures?|[/.:]\d|ans?\b|jours?|semaines?|mois|euros?|€|%|min))"
)
# A weekday of last week, said either way (« la semaine dernière mercredi », « mercredi de la
# semaine dernière »): one day, not the whole week.
_WEEKDAY_LAST_WEEK = re.compile(
    r"\bla semaine (?:derniere|passee),? (?:le )?(" + "|".join(WEEKDAYS) + r")\b|"
    r"\b(" + "|".join(WEEKDAYS) + r") de la semaine (?:derniere|passee)\b"
)
# A day of a month named by its place (« le 20 du mois dernier », « le 3 de ce mois »).
_DAY_OF_MONTH = re.compile(
    r"\b(?:le|du|au) (1er|[0-3]?\d) (?:du mois|de ce mois)"
    r"(?: (dernier|passe|precedent|prochain))?\b"
)
# A weekday named right after these words is the coming one (« avant jeudi », « pour jeudi »).
_COMING_WEEKDAY = re.compile(r"\b(?:avant|pour|d'ici|jusqu'a|d'ici a|au plus tard|des)\s*$")
_RELATIVE = re.compile(
    r"\b(avant[- ]hier|apres[- ]demain|aujourd'?hui|auj|ce matin|ce soir|cet apres[- ]midi|"
    r"ce midi|cette nuit|tout a l'heure|hier|demain|la semaine derniere|la semaine passee|"
    r"le mois dernier|le mois passe)\b"
)
_AGO = re.compile(
    r"\b(?:il y a|ya|y a|ca fait|cela fait|depuis) (\d+|" + "|".join(_NUMBER_WORDS) + r") "
    r"(jours?|semaines?|mois|ans?|annees?)\b"
)
# Fixed public holidays people date things by (« la veille de la Toussaint », « le lendemain
# de l'armistice »): (month, day).
_HOLIDAYS = {"toussaint": (11, 1), "armistice": (11, 11), "noel": (12, 25),
             "jour de l'an": (1, 1), "nouvel an": (1, 1), "14 juillet": (7, 14),
             "fete nationale": (7, 14), "1er mai": (5, 1), "fete du travail": (5, 1),
             "8 mai": (5, 8), "assomption": (8, 15), "saint-sylvestre": (12, 31),
             "saint sylvestre": (12, 31)}
_HOLIDAY = re.compile(r"\b(?:(la veille|le lendemain|l'avant-veille)(?: de| du)? )?(?:la |l'|le )?("
                      + "|".join(re.escape(h) for h in _HOLIDAYS) + r")\b")
# « début du mois »: the current month, from its first day (a day number after it is of this
# month: « début du mois, le 1er ou le 2 »).
_THIS_MONTH = re.compile(r"\b(?:au |en )?debut (?:du|de ce|de mois)(?: mois)?\b")
_MONTH_ONLY = re.compile(r"\b(?:en|debut|fin|mi|courant|au mois d'?|depuis) ?-?" + _MONTH_RE
                         + r"(?: (\d{4}))?(?![a-z])")
_HOUR = re.compile(
    r"(?<![\d/.])([01]?\d|2[0-3]) ?(?:h|heures?|:)(?: ?([0-5]\d))?(?![\d])(?! ?(?:de |d')?(?:delai|pour))|"  # noqa: E501
    r"\b(midi|minuit)\b"
)


LONG_SINCE_YEARS = 5


def _weekday_candidates(name: str, qualifier: str | None, today: date,
                        future: bool) -> tuple[list[date], bool]:
    target = WEEKDAYS.index(name)
    if future or qualifier in ("prochain", "qui vient"):
        delta = (target - today.weekday()) % 7 or 7
        return [today + timedelta(days=delta)], False
    delta = (today.weekday() - target) % 7
    if qualifier in ("dernier", "passe"):
        return [today - timedelta(days=delta or 7)], False
    if delta == 0:  # « dimanche » written on a Sunday: today or a week ago
        return [today - timedelta(days=7), today], True
    return [today - timedelta(days=delta)], False


def _ago(amount: str, unit: str, today: date) -> tuple[list[date], bool]:
    number = int(amount) if amount.isdigit() else _NUMBER_WORDS[amount]
    if unit.startswith("jour"):
        return [today - timedelta(days=number)], False
    if unit.startswith("semaine"):
        return [today - timedelta(weeks=number)], number > 1
    if unit == "mois":
        month_index = today.year * 12 + today.month - 1 - number
        year, month = divmod(month_index, 12)
        day = min(today.day, 28)
        return [date(year, month + 1, day)], True
    return [_safe_date(today.year - number, today.month, min(today.day, 28))], True


def _relative(word: str, today: date) -> tuple[list[date], bool, bool]:
    """(candidates, uncertain, future) of « hier », « ce matin », « la semaine dernière »…"""
    word = word.replace("-", " ")
    if word == "avant hier":
        return [today - timedelta(days=2)], False, False
    if word == "hier":
        return [today - timedelta(days=1)], False, False
    if word == "demain":
        return [today + timedelta(days=1)], False, True
    if word == "apres demain":
        return [today + timedelta(days=2)], False, True
    if word.startswith("la semaine"):
        monday = today - timedelta(days=today.weekday() + 7)
        return [monday + timedelta(days=i) for i in range(7)], True, False
    if word.startswith("le mois"):
        first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        return [first], True, False
    return [today], False, False


def _hour_value(match: re.Match[str]) -> time:
    if match.group(3):
        return time(12, 0) if match.group(3) == "midi" else time(0, 0)
    return time(int(match.group(1)), int(match.group(2) or 0))


def find_dates(text: str, now: datetime) -> list[DateMention]:
    """Every date expression of ``text``, in order, resolved against ``now`` (Paris time)."""
    folded = fold_keep(text)
    local_now = now.astimezone(PARIS)
    today = local_now.date()
    raw: list[tuple[int, int, list[date], bool, bool]] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def is_future(start: int) -> bool:
        before = folded[max(0, start - 30):start]
        return bool(_FUTURE_CUE.search(before))

    def add(start: int, end: int, cands: list[date], uncertain: bool, future: bool) -> None:
        cands = [c for c in cands if c is not None]
        if free(start, end) and cands:
            taken.append((start, end))
            raw.append((start, end, cands, uncertain, future))

    for m in _ISO.finditer(folded):
        found = _safe_date(int(m[1]), int(m[2]), int(m[3]))
        add(m.start(), m.end(), [found] if found else [], False, False)
    for m in _ABSOLUTE.finditer(folded):
        month = _month_number(m[3])
        if month is None:
            continue
        day = 1 if m[2] in ("1er", "premier") else int(m[2])
        fut = is_future(m.start())
        named = _named_weekday_date(m[1], day, month, _year(m[4]), today)
        if named is not None:
            add(m.start(), m.end(), [named], False, named > today)
            continue
        add(m.start(), m.end(), _day_month(day, month, _year(m[4]), today, fut), False, fut)
    for m in _NUMERIC.finditer(folded):
        day, month = int(m[1]), int(m[2])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        fut = is_future(m.start())
        add(m.start(), m.end(), _day_month(day, month, _year(m[3]), today, fut), False, fut)
    for m in _DAY_OF_MONTH.finditer(folded):
        shift = {"dernier": -1, "passe": -1, "precedent": -1, "prochain": 1}.get(m[2] or "", 0)
        year, month = divmod(today.year * 12 + today.month - 1 + shift, 12)
        day = 1 if m[1] == "1er" else int(m[1])
        found = _safe_date(year, month + 1, day)
        if found and shift == 0 and found > today and not is_future(m.start()):
            found = _recent_day(day, today, False)  # « le 2 de ce mois » on the 1st: a past 2nd
        add(m.start(), m.end(), [found] if found else [], False, shift > 0)
    for m in _WEEKDAY_WITH_DAY.finditer(folded):
        fut = is_future(m.start()) or bool(_COMING_WEEKDAY.search(folded[:m.start()]))
        day = 1 if m[3] == "1er" else int(m[3])
        if 1 <= day <= 31:
            cands, unc = _weekday_day(m[1], m[2], day, today, fut)
            add(m.start(), m.end(), cands, unc, fut or m[2] in ("prochain", "qui vient"))
    for m in _WEEKDAY_LAST_WEEK.finditer(folded):
        monday = today - timedelta(days=today.weekday() + 7)
        found = monday + timedelta(days=WEEKDAYS.index(m[1] or m[2]))
        add(m.start(), m.end(), [found], False, False)
    for m in _HOLIDAY.finditer(folded):
        month, day = _HOLIDAYS[m[2]]
        shift = {"la veille": -1, "le lendemain": 1, "l'avant-veille": -2}.get(m[1] or "", 0)
        fut = is_future(m.start()) or bool(_COMING_WEEKDAY.search(folded[:m.start()]))
        cands = [d + timedelta(days=shift) for d in _day_month(day, month, None, today, fut)]
        add(m.start(), m.end(), cands, False, fut)
    for m in _THIS_MONTH.finditer(folded):
        add(m.start(), m.end(), [today.replace(day=1)], True, False)
    for m in _AGO.finditer(folded):
        if (m[0].startswith("depuis") and m[2].startswith(("an", "annee"))
                and m[1].isdigit() and int(m[1]) >= LONG_SINCE_YEARS):
            continue  # « chasseur depuis 30 ans »: a life, not a day a deadline runs from
        cands, unc = _ago(m[1], m[2], today)
        add(m.start(), m.end(), cands, unc, False)
    for m in _RELATIVE.finditer(folded):
        cands, unc, fut = _relative(m[1], today)
        add(m.start(), m.end(), cands, unc, fut)
    for m in _WEEKDAY.finditer(folded):
        fut = (is_future(m.start()) or bool(_COMING_WEEKDAY.search(folded[:m.start()]))) and (
            m[2] not in ("dernier", "passe"))
        cands, unc = _weekday_candidates(m[1], m[2], today, fut)
        add(m.start(), m.end(), cands, unc, fut or m[2] in ("prochain", "qui vient"))
    for m in _MONTH_ONLY.finditer(folded):
        month = _month_number(m[1])
        if month is None:
            continue
        coming = bool(_COMING_MONTH.search(folded[:m.start()]))
        if coming and month == today.month and _year(m[2]) is None:
            first = [today.replace(day=1)]  # « avant fin mars » said in March: this March
        else:
            first = _day_month(1, month, _year(m[2]), today, coming)
        add(m.start(), m.end(), first, True, coming)
    raw.sort()
    # Day-only (« reçue le 10 »): after a full date of the same message, the same month if that
    # is not earlier; otherwise the most recent such day (or the next one when future).
    for m in _DAY_ONLY.finditer(folded):
        if not free(m.start(), m.end()):
            continue
        day = 1 if m[1] == "1er" else int(m[1])
        if not 1 <= day <= 31:
            continue
        fut = is_future(m.start())
        previous = [r for r in raw if r[1] <= m.start() and len(r[2]) == 1]
        chosen: date | None = None
        if previous:
            ref = previous[-1][2][0]
            same = _safe_date(ref.year, ref.month, day)
            if same and same >= ref and (fut or same <= today):
                chosen = same
        if chosen is None:
            chosen = _recent_day(day, today, fut)
        add(m.start(), m.end(), [chosen] if chosen else [], False, fut)
    raw.sort()

    hours = [(m.start(), m.end(), _hour_value(m)) for m in _HOUR.finditer(folded)]
    mentions: list[DateMention] = []
    for start, end, cands, uncertain, future in raw:
        hour = None
        for h_start, h_end, value in hours:
            gap_after = h_start - end
            gap_before = start - h_end
            if (0 <= gap_after <= 18 or 0 <= gap_before <= 8) and free(h_start, h_end):
                between = folded[end:h_start] if gap_after >= 0 else folded[h_end:start]
                if not re.search(r"[.;!?]", between):
                    hour = value
                    break
        if not future:
            cands = [c for c in cands if c <= today] or cands
            if hour is not None:
                # « hier vers 19 h » is fine; « ce soir à 21 h » at 10:30 is later today: keep it.
                pass
        cands = sorted(set(cands))
        mentions.append(DateMention(
            span=(start, end), day=cands[0], candidates=tuple(cands), hour=hour,
            uncertain=uncertain or len(cands) > 1, future=future and cands[0] >= today,
        ))
    return mentions


def _recent_day(day: int, today: date, future: bool) -> date | None:
    """The most recent ``day`` of a month not after today (or the next one when future)."""
    year, month = today.year, today.month
    for _ in range(13):
        found = _safe_date(year, month, day)
        if found and ((found >= today) if future else (found <= today)):
            return found
        if future:
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
        else:
            month, year = (12, year - 1) if month == 1 else (month - 1, year)
    return None
