"""Canned replies: texts the lawyer prepared once and inserts into a reply (``desk_canned_reply``).

Functions take an open session (the caller owns the unit of work); every change is audited
(ids only). Invalid input raises :class:`desk.cases.InvalidInput`, an unknown id
:class:`desk.cases.NotFound`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from desk.cases import MAX_TEXT_CHARS, InvalidInput, NotFound, audit
from desk.models import desk_canned_reply, utcnow

MAX_TITLE_CHARS = 120


def _field(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be a non-empty string")
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return value


def _reply_id(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 18:
        return int(value)
    raise NotFound("no such canned reply")


def list_replies(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(desk_canned_reply).order_by(desk_canned_reply.c.title, desk_canned_reply.c.id)
    )
    return [{"id": row.id, "title": row.title, "text": row.text} for row in rows]


def add_reply(session: Session, lawyer_id: int, title: Any, text: Any,
              now: datetime | None = None) -> int:
    values = {"title": _field(title, "title", MAX_TITLE_CHARS),
              "text": _field(text, "text", MAX_TEXT_CHARS)}
    reply_id = session.execute(
        insert(desk_canned_reply).values(**values, created_at=now or utcnow())
    ).inserted_primary_key[0]
    audit(session, lawyer_id, None, "canned.create", f"canned={reply_id}", now)
    return reply_id


def update_reply(session: Session, lawyer_id: int, reply_id: Any, title: Any, text: Any,
                 now: datetime | None = None) -> None:
    reply_id = _reply_id(reply_id)
    values = {"title": _field(title, "title", MAX_TITLE_CHARS),
              "text": _field(text, "text", MAX_TEXT_CHARS)}
    changed = session.execute(
        update(desk_canned_reply).where(desk_canned_reply.c.id == reply_id).values(**values)
    ).rowcount
    if changed != 1:
        raise NotFound(f"no canned reply {reply_id}")
    audit(session, lawyer_id, None, "canned.update", f"canned={reply_id}", now)


def delete_reply(session: Session, lawyer_id: int, reply_id: Any,
                 now: datetime | None = None) -> None:
    reply_id = _reply_id(reply_id)
    deleted = session.execute(
        delete(desk_canned_reply).where(desk_canned_reply.c.id == reply_id)
    ).rowcount
    if deleted != 1:
        raise NotFound(f"no canned reply {reply_id}")
    audit(session, lawyer_id, None, "canned.delete", f"canned={reply_id}", now)
