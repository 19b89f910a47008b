"""The cases of a period as :class:`desk.figures.CaseRow` (the database read behind the
firm's figures), from the anonymous counts (``desk_figure``, ``desk/figures_record.py``): they
keep the cases erased or purged since. Whether a case is still open is read from the case it
belongs to, while the desk holds it. No id, handle, channel or text leaves this module."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.figures import CaseRow
from desk.models import OPEN_STATES, desk_case, desk_figure


def _ordres(text: str) -> tuple[str, ...]:
    try:
        found = json.loads(text)
    except ValueError:
        return ()
    return tuple(o for o in found if isinstance(o, str)) if isinstance(found, list) else ()


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def rows(session: Session, start: datetime, end: datetime) -> list[CaseRow]:
    """The cases opened on the days of ``[start, end)`` (bounds in the schedule's time zone)."""
    found = session.execute(
        select(desk_figure.c.conversation, desk_figure.c.day, desk_figure.c.session_start,
               desk_figure.c.kind, desk_figure.c.tier, desk_figure.c.domain,
               desk_figure.c.ordres, desk_figure.c.first_reply_seconds,
               desk_case.c.state)
        .outerjoin(desk_case, desk_case.c.figure_ref == desk_figure.c.ref)
        .where(desk_figure.c.day >= start.date(), desk_figure.c.day < end.date())
        .order_by(desk_figure.c.day, desk_figure.c.session_start, desk_figure.c.ref)
    )
    numbers: dict[str, int] = {}
    return [CaseRow(
        conversation=numbers.setdefault(row.conversation, len(numbers)),
        day=row.day,
        session_start=_aware(row.session_start),
        kind=row.kind,
        tier=row.tier,
        domain=row.domain,
        ordres=_ordres(row.ordres),
        open=row.state in OPEN_STATES,
        first_reply_seconds=None if row.first_reply_seconds is None
        else float(row.first_reply_seconds),
    ) for row in found]
