"""Erasure and retention of the desk's cases (LEGAL.md D4, GDPR art. 5(1)(e) and 17).

- ``erase_conversation``: every case of one conversation, with its messages and notes. Called
  when the assistant erases a conversation ("stop", "supprimez mes données", consent refused:
  ``permanence/tracker_store.py``), and by the lawyer's "erase" action on a case, which also
  erases the conversation in the tracker store (``desk/api.py``).
- ``purge_closed``: the cases closed (answered, closed, handed back) before a date, for a
  retention period (``python -m desk.cli purge --days N``).

The audit trail keeps its rows (ids and action codes, never text), with an ``case.erased``
entry: who erased what and when stays known, the content does not.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desk.models import OPEN_STATES, desk_audit, desk_case, desk_message, desk_note, utcnow

logger = logging.getLogger(__name__)


def _erase_cases(session: Session, case_ids: list[int], lawyer_id: int | None,
                 reason: str, now: datetime) -> int:
    if not case_ids:
        return 0
    # Explicit deletes: SQLite does not enforce ON DELETE CASCADE without a pragma.
    session.execute(delete(desk_message).where(desk_message.c.case_id.in_(case_ids)))
    session.execute(delete(desk_note).where(desk_note.c.case_id.in_(case_ids)))
    session.execute(delete(desk_case).where(desk_case.c.id.in_(case_ids)))
    session.execute(desk_audit.insert(), [
        {"at": now, "lawyer_id": lawyer_id, "case_id": case_id, "action": "case.erased",
         "detail": reason} for case_id in case_ids
    ])
    logger.info("desk.erased cases=%d reason=%s", len(case_ids), reason)
    return len(case_ids)


def erase_conversation(session: Session, conversation_id: str, lawyer_id: int | None = None,
                       reason: str = "person_request", now: datetime | None = None) -> int:
    """Delete every case of ``conversation_id``; returns how many."""
    case_ids = list(session.execute(
        select(desk_case.c.id).where(desk_case.c.conversation_id == conversation_id)
    ).scalars())
    return _erase_cases(session, case_ids, lawyer_id, reason, now or utcnow())


def purge_closed(session: Session, before: datetime, now: datetime | None = None) -> int:
    """Delete the cases that were closed before ``before``; open cases are never purged."""
    case_ids = list(session.execute(
        select(desk_case.c.id).where(
            desk_case.c.state.not_in(OPEN_STATES),
            desk_case.c.closed_at.is_not(None),
            desk_case.c.closed_at < before,
        )
    ).scalars())
    return _erase_cases(session, case_ids, None, "retention", now or utcnow())


def conversation_of(session: Session, case_id: int) -> Any:
    """``(conversation_id, channel)`` of a case, or None."""
    row = session.execute(
        select(desk_case.c.conversation_id, desk_case.c.channel).where(desk_case.c.id == case_id)
    ).first()
    return None if row is None else (row.conversation_id, row.channel)
