"""Erasure and retention of the desk's cases, and retention of whole conversations (LEGAL.md D4,
GDPR art. 5(1)(e) and 17).

- ``erase_conversation``: every case of one conversation, with its messages, notes and
  labels. The desk's eraser in :mod:`permanence.erasure` (:func:`register`, when the desk
  starts), run with every other store's by ``erase_everywhere``: when the assistant erases a
  conversation ("stop", "supprimez mes données", consent refused:
  ``permanence/tracker_store.py``), and by the lawyer's "erase" action on a case
  (``desk/api.py``).
- ``purge_closed``: the cases closed (answered, closed, handed back) before a date.
- ``purge``: the retention the privacy notice promises. Every conversation whose last activity
  (its last event in the tracker store) is older than the cutoff and that has no open case
  (with or without closed cases) is erased from every store; then the cases closed before the
  cutoff, and the X channel's handled records (ids only). Run by ``python -m desk.cli purge
  --days N`` and, once a day, by the Rasa server itself (``desk/retention.py``).

The audit trail keeps its rows (ids and action codes, never text), with an ``case.erased``
entry: who erased what and when stays known, the content does not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desk import db
from desk.models import (
    OPEN_STATES,
    desk_audit,
    desk_case,
    desk_label,
    desk_message,
    desk_note,
    utcnow,
)
from permanence import erasure, events
from permanence.logids import ref

DESK_ERASER = erasure.DESK_CASES
everywhere_failed = erasure.ErasureFailed

logger = logging.getLogger(__name__)


def _erase_cases(session: Session, case_ids: list[int], lawyer_id: int | None,
                 reason: str, now: datetime) -> int:
    if not case_ids:
        return 0
    # Explicit deletes: SQLite does not enforce ON DELETE CASCADE without a pragma.
    session.execute(delete(desk_message).where(desk_message.c.case_id.in_(case_ids)))
    session.execute(delete(desk_note).where(desk_note.c.case_id.in_(case_ids)))
    session.execute(delete(desk_label).where(desk_label.c.case_id.in_(case_ids)))
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


# ------------------------------------------------------------------ registration


def register(url: str | None = None) -> None:
    """Register the desk's eraser (cases, messages, notes of a conversation) on ``url``."""
    factory_url = url or None

    def erase_cases(conversation_id: str) -> int:
        with db.session_factory(factory_url).begin() as session:
            return erase_conversation(session, conversation_id)

    erasure.register(DESK_ERASER, erase_cases)


def register_outside_rasa(url: str | None = None) -> None:
    """For a process without the Rasa server (``desk.cli``): the desk's eraser and the
    tracker store's events, on the project's database ``url``."""
    register(url)
    engine = db.session_factory(url or None).kw["bind"]
    erasure.register(erasure.TRACKER_EVENTS, lambda conversation_id: events.erase(
        engine, conversation_id))


# --------------------------------------------------------------------- retention


@dataclass
class RetentionResult:
    conversations: int = 0
    cases: int = 0
    pruned: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # log references, never raw ids


def retention_candidates(url: str | None, before: datetime) -> list[str]:
    """The conversations idle since before ``before`` and without an open case."""
    factory = db.session_factory(url or None)
    idle = events.idle_since(factory.kw["bind"], before)
    if not idle:
        return []
    with factory.begin() as session:
        open_ids = set(session.execute(
            select(desk_case.c.conversation_id).where(desk_case.c.state.in_(OPEN_STATES))
        ).scalars())
    return [conversation_id for conversation_id in idle if conversation_id not in open_ids]


def purge(url: str | None, before: datetime,
          erase: Callable[[str], Any] = erasure.erase_everywhere,
          now: datetime | None = None) -> RetentionResult:
    """Retention: erase every conversation idle since before ``before`` without an open case
    from every registered store (``erase``: :func:`permanence.erasure.erase_everywhere`, or
    the server's, which takes the conversation's lock), then purge the cases closed before
    ``before`` and prune the stores' handled records as old.

    Every conversation is tried; raises :class:`permanence.erasure.ErasureFailed` at the end
    if any erasure or pruning failed (nothing is silently kept)."""
    result = RetentionResult()
    failures: dict[str, str] = {}
    for conversation_id in retention_candidates(url, before):
        try:
            erase(conversation_id)
            result.conversations += 1
        except everywhere_failed as error:  # which stores, for each conversation
            result.failed.append(ref(conversation_id))
            failures.update({f"{ref(conversation_id)}/{store}": name
                             for store, name in error.failures.items()})
        except Exception as error:  # noqa: BLE001 - the others are still erased; reported below
            result.failed.append(ref(conversation_id))
            failures[ref(conversation_id)] = type(error).__name__
    with db.session_factory(url or None).begin() as session:
        result.cases = purge_closed(session, before, now)
    try:
        result.pruned = erasure.prune_everywhere(before)
    except erasure.ErasureFailed as error:
        failures.update(error.failures)
        result.pruned = error.done
    logger.info("desk.retention conversations=%d cases=%d failed=%d", result.conversations,
                result.cases, len(result.failed))
    if failures:
        raise erasure.ErasureFailed(failures, {"conversations": result.conversations,
                                               "cases": result.cases})
    return result
