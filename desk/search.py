"""Searching the firm's cases, on the server, in the desk's own database (issue #14, item 2).

Criteria (all optional, combined with AND): ``q``, words of the fact card (every word must
appear in a value of the card; accents and case ignored), ``handle`` (part of the person's
handle, without ``@``), ``domain`` (a domain code), ``tier`` (``P0``…``P3``, ``OUT``, ``none``),
``state`` (a state, or ``open`` / ``closed``), ``from`` and ``to`` (days the case was opened,
``YYYY-MM-DD`` in Paris, inclusive) and ``label`` (a label's exact name, case ignored).

:func:`parse` validates them (pure), :func:`search` reads: the state, tier, dates and label in
SQL, the handle, domain and words in Python over those rows (the fact card is JSON). Newest
first, at most ``limit`` results. The audit log records which criteria were used, never their
values' text (``q`` and ``handle`` may be a person's words or name).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from desk import cases
from desk.models import CASE_STATES, OPEN_STATES, desk_case, desk_label

PARIS = ZoneInfo("Europe/Paris")
TIERS = ("P0", "P1", "P2", "P3", "OUT", "none")
STATE_GROUPS = {"open": OPEN_STATES,
                "closed": tuple(s for s in CASE_STATES if s not in OPEN_STATES)}
MAX_QUERY_CHARS = 200
LIMIT = 200


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...] = ()
    handle: str = ""
    domain: str = ""
    tier: str = ""
    state: str = ""
    opened_from: date | None = None
    opened_to: date | None = None
    label: str = ""

    def criteria(self) -> str:
        """Which criteria are used, for the audit log: names and codes, never free text."""
        used = [name for name, value in (("q", self.words), ("handle", self.handle),
                                         ("from", self.opened_from), ("to", self.opened_to),
                                         ("label", self.label)) if value]
        codes = [f"{name}={value}" for name, value in (("domain", self.domain),
                                                       ("tier", self.tier),
                                                       ("state", self.state)) if value]
        return " ".join(codes + used)[:200]


def fold(text: Any) -> str:
    """Lower case, without accents: « Préfecture » and « prefecture » match."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _day(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise cases.InvalidInput(f"{what} must be a date YYYY-MM-DD") from None


def _text(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name) or ""
    if not isinstance(value, str):
        raise cases.InvalidInput(f"{name} must be a string")
    value = " ".join(value.split())
    if len(value) > MAX_QUERY_CHARS:
        raise cases.InvalidInput(f"{name} has at most {MAX_QUERY_CHARS} characters")
    return value


def parse(args: Mapping[str, Any]) -> Query:
    """The criteria of a request (a query string's first values); 400 for a bad one."""
    tier = _text(args, "tier")
    if tier and tier not in TIERS:
        raise cases.InvalidInput(f"tier must be one of {', '.join(TIERS)}")
    state = _text(args, "state")
    if state and state not in CASE_STATES and state not in STATE_GROUPS:
        raise cases.InvalidInput("state must be a state, open or closed")
    domain = _text(args, "domain")
    if domain and not domain.replace("_", "").isalpha():
        raise cases.InvalidInput("domain must be a domain code")
    opened_from, opened_to = _day(_text(args, "from"), "from"), _day(_text(args, "to"), "to")
    if opened_from and opened_to and opened_to < opened_from:
        raise cases.InvalidInput("to is before from")
    return Query(words=tuple(fold(_text(args, "q")).split()),
                 handle=fold(_text(args, "handle").lstrip("@")), domain=domain, tier=tier,
                 state=state, opened_from=opened_from, opened_to=opened_to,
                 label=_text(args, "label"))


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time(0), PARIS).astimezone(timezone.utc)


def card_text(card: Mapping[str, Any]) -> str:
    """Every value of a fact card, folded, as one text to search."""
    parts = []
    for value in card.values():
        if isinstance(value, list):
            parts.extend(str(v) for v in value)
        elif value is not None:
            parts.append(str(value))
    return fold(" \n ".join(parts))


def matches(query: Query, card: Mapping[str, Any], handle: str | None) -> bool:
    """The criteria read in Python: the handle, the domain and the words of the card."""
    if query.handle and query.handle not in fold(handle or ""):
        return False
    if query.domain and card.get("domaine") != query.domain:
        return False
    if query.words:
        text = card_text(card)
        return all(word in text for word in query.words)
    return True


def search(session: Session, query: Query, limit: int = LIMIT) -> tuple[list[dict], bool]:
    """The matching cases (summaries, newest first) and whether there were more."""
    statement = select(desk_case).order_by(desk_case.c.opened_at.desc(), desk_case.c.id.desc())
    if query.state:
        statement = statement.where(desk_case.c.state.in_(
            STATE_GROUPS.get(query.state, (query.state,))))
    if query.tier == "none":
        statement = statement.where(desk_case.c.urgency.is_(None))
    elif query.tier:
        statement = statement.where(desk_case.c.urgency == query.tier)
    if query.opened_from:
        statement = statement.where(desk_case.c.opened_at >= _utc_start(query.opened_from))
    if query.opened_to:
        statement = statement.where(
            desk_case.c.opened_at < _utc_start(query.opened_to + timedelta(days=1)))
    if query.label:
        statement = statement.where(desk_case.c.id.in_(
            select(desk_label.c.case_id).where(or_(
                desk_label.c.name == query.label,
                func.lower(desk_label.c.name) == query.label.lower()))))
    found: list[dict] = []
    for row in session.execute(statement):
        if matches(query, json.loads(row.facts), row.handle):
            if len(found) == limit:
                return found, True
            found.append(cases.summary(row))
    return found, False
