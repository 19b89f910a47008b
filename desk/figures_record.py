"""The anonymous counts behind the firm's figures (``desk_figure``), written when they happen.

Why a table of its own: the figures of a past month must not change when a person's case is
erased (« supprimez mes données », the desk's erase button: ``desk/erasure.py``) or purged by
retention (``desk/retention.py``). Counting from ``desk_case`` made them shrink; these rows stay.

Why they identify no one (GDPR recital 26: anonymous information is outside the Regulation, so
keeping it after erasure is no breach of art. 17; LEGAL.md D4):

- no case id, conversation id, handle, channel address or text. ``ref`` is random (uuid4), and
  only ``desk_case.figure_ref`` points to it: erasing or purging the case deletes that link,
  after which nothing ties the row to the case, the tracker or the channels' stores. The
  cases of one conversation share a random ``conversation`` token (to count conversations),
  found through the cases the desk still holds, never derived from the id (a hash of an id is
  pseudonymous, not anonymous: it could be recomputed from the id);
- no exact time: the day (in the schedule's time zone) and the live session the case opened in
  (the firm's published schedule, shared by everyone who wrote then), never the minute, which
  could be matched against the X channel's DM times or the web server's logs; the wait for the
  lawyer's first reply in whole seconds, which without the opening time dates nothing;
- the other columns are codes from closed lists: kind, the assistant's route, channel, tier,
  domain, the Ordre(s) des avocats a referral named (about 160 barreaux, each shared by every
  person of its area).

Written in the case's own unit of work (``desk/cases.py``): :func:`record_opened` when a case
opens, :func:`record_first_reply` at the lawyer's first reply. :func:`backfill` gives a row to
each case held when the table is created (migration 0007), so existing installs keep their
figures. Read by ``desk/figures_db.py``.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from desk.models import desk_case, desk_figure, desk_message

logger = logging.getLogger(__name__)

_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
TIERS = ("P0", "P1", "P2", "P3", "OUT")
MAX_ORDRE_CHARS = 120


def schedule() -> Any:
    """The firm's schedule (``schedule.yml``), or None when it cannot be read (logged): the
    case is then counted on its day, outside any session."""
    from permanence.schedule import load_schedule

    try:
        return load_schedule()
    except Exception:  # noqa: BLE001 - a broken schedule must not stop a case from opening
        logger.warning("desk.figures.schedule_unreadable", exc_info=True)
        return None


def when(opened_at: datetime, plan: Any) -> tuple[date, datetime | None]:
    """The day ``opened_at`` falls on in the schedule's time zone (Paris without one) and the
    start (UTC) of the session live then, if any: all that is kept of the time."""
    from desk.views import DISPLAY_TZ

    tz = getattr(plan, "timezone", None) or DISPLAY_TZ
    day = opened_at.astimezone(tz).date()
    if plan is None:
        return day, None
    live = [s for s in plan.sessions_between(opened_at - timedelta(days=1),
                                             opened_at + timedelta(seconds=1))
            if s.start <= opened_at < s.end]
    return day, live[0].start.astimezone(timezone.utc) if live else None


def _code(value: Any) -> str | None:
    return value if isinstance(value, str) and _CODE.fullmatch(value) else None


def values(kind: str, channel: Any, tier: Any, facts: dict[str, Any],
           route: Any = None) -> dict[str, Any]:
    """The row's codes: anything that is not a short code from a closed list is dropped."""
    ordres = facts.get("ordres")
    names = [o[:MAX_ORDRE_CHARS] for o in ordres if isinstance(o, str) and o] \
        if isinstance(ordres, list) else []
    return {
        "kind": kind,
        "route": _code(route[:32] if isinstance(route, str) else None),
        "channel": _code(channel[:32] if isinstance(channel, str) else None),
        "domain": _code(facts.get("domaine")),
        "tier": tier if tier in TIERS else None,
        "ordres": json.dumps(names, ensure_ascii=False),
    }


def _conversation_token(session: Session | Connection, conversation_id: str,
                        case_id: int) -> str:
    """The token of the conversation's other cases still held, else a new one."""
    found = session.execute(
        select(desk_figure.c.conversation)
        .join(desk_case, desk_case.c.figure_ref == desk_figure.c.ref)
        .where(desk_case.c.conversation_id == conversation_id, desk_case.c.id != case_id)
        .limit(1)
    ).scalar()
    return found or uuid.uuid4().hex


def record_opened(session: Session | Connection, case_id: int, conversation_id: str,
                  kind: str, channel: Any, tier: Any, facts: dict[str, Any],
                  opened_at: datetime, plan: Any = None, first_reply: datetime | None = None,
                  route: Any = None) -> str:
    """Count the case just opened (``plan``: the schedule, read when not given); returns the
    row's ref, stored on the case."""
    plan = schedule() if plan is None else plan
    day, session_start = when(opened_at, plan)
    ref = uuid.uuid4().hex
    wait = None if first_reply is None else max(0, round((first_reply - opened_at)
                                                         .total_seconds()))
    session.execute(insert(desk_figure).values(
        ref=ref, conversation=_conversation_token(session, conversation_id, case_id),
        day=day, session_start=session_start, first_reply_seconds=wait,
        **values(kind, channel, tier, facts, route)))
    session.execute(update(desk_case).where(desk_case.c.id == case_id).values(figure_ref=ref))
    return ref


def record_first_reply(session: Session, case_id: int, opened_at: datetime,
                       now: datetime) -> None:
    """The lawyer's first reply on the case: the wait since the handover, once."""
    ref = session.execute(
        select(desk_case.c.figure_ref).where(desk_case.c.id == case_id)).scalar()
    if ref is None:
        return
    session.execute(
        update(desk_figure)
        .where(desk_figure.c.ref == ref, desk_figure.c.first_reply_seconds.is_(None))
        .values(first_reply_seconds=max(0, round((now - opened_at).total_seconds()))))


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # MIN() over a UTCDateTime column is raw on SQLite
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _facts(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def backfill(connection: Connection, plan: Any = None) -> int:
    """A row for each case held without one (oldest first), its first reply included; returns
    how many. Run by migration 0007 so that an existing install keeps its figures."""
    plan = schedule() if plan is None else plan
    first_reply = (
        select(func.min(desk_message.c.created_at))
        .where(and_(desk_message.c.case_id == desk_case.c.id,
                    desk_message.c.author == "lawyer"))
        .scalar_subquery()
    )
    found: Sequence[Any] = connection.execute(
        select(desk_case.c.id, desk_case.c.conversation_id, desk_case.c.kind,
               desk_case.c.channel, desk_case.c.urgency, desk_case.c.facts,
               desk_case.c.opened_at, first_reply.label("first_reply"))
        .where(desk_case.c.figure_ref.is_(None))
        .order_by(desk_case.c.opened_at, desk_case.c.id)
    ).all()
    for row in found:
        record_opened(connection, row.id, row.conversation_id, row.kind, row.channel,
                      row.urgency, _facts(row.facts), _aware(row.opened_at), plan,
                      _aware(row.first_reply))
    return len(found)
