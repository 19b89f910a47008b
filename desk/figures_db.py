"""The cases of a period as :class:`desk.figures.CaseRow` (the database read behind the
firm's figures): no id, handle, channel or text leaves this module."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from desk.figures import CaseRow
from desk.models import OPEN_STATES, desk_case, desk_message


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _facts(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def rows(session: Session, start: datetime, end: datetime) -> list[CaseRow]:
    """The cases opened in ``[start, end)``, each with its lawyer's first reply."""
    first_reply = (
        select(func.min(desk_message.c.created_at))
        .where(and_(desk_message.c.case_id == desk_case.c.id,
                    desk_message.c.author == "lawyer"))
        .scalar_subquery()
    )
    found = session.execute(
        select(desk_case.c.conversation_id, desk_case.c.opened_at, desk_case.c.kind,
               desk_case.c.urgency, desk_case.c.state, desk_case.c.facts,
               first_reply.label("first_reply_at"))
        .where(desk_case.c.opened_at >= start.astimezone(timezone.utc),
               desk_case.c.opened_at < end.astimezone(timezone.utc))
        .order_by(desk_case.c.opened_at, desk_case.c.id)
    )
    numbers: dict[str, int] = {}
    out = []
    for row in found:
        facts = _facts(row.facts)
        ordres = facts.get("ordres")
        out.append(CaseRow(
            conversation=numbers.setdefault(row.conversation_id, len(numbers)),
            opened_at=_aware(row.opened_at),
            kind=row.kind,
            tier=row.urgency,
            domain=facts.get("domaine") if isinstance(facts.get("domaine"), str) else None,
            ordres=tuple(o for o in ordres if isinstance(o, str)) if isinstance(ordres, list)
            else (),
            open=row.state in OPEN_STATES,
            first_reply_at=_aware(_parse(row.first_reply_at)),
        ))
    return out


def _parse(value: Any) -> datetime | None:
    """A MIN() over a UTCDateTime column comes back raw on SQLite (a string)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
