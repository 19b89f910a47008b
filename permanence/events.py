"""Rasa's ``events`` table (the SQL tracker store's), reached with SQLAlchemy Core, without Rasa.

For erasure and retention outside the Rasa server (``python -m desk.cli purge``), for the
person's right of access (``conversation_events``, read by ``desk/access.py``) and for the
tracker store itself (``permanence/tracker_store.py`` delegates its ``erase`` here). Only the
columns read or filtered on are declared; the table is Rasa's (``SQLTrackerStore.SQLEvent``),
created by the tracker store.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine

from permanence.logids import ref

logger = logging.getLogger(__name__)

events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("data", Text),
)


def erase(engine: Engine, conversation_id: str) -> int:
    """Delete every stored event of one conversation; how many were deleted."""
    with engine.begin() as connection:
        deleted = connection.execute(
            delete(events).where(events.c.sender_id == conversation_id)).rowcount
    logger.info("tracker_store.erased conversation=%s events=%d", ref(conversation_id), deleted)
    return deleted


def conversation_events(bind: Engine | Connection, conversation_id: str) -> list[dict]:
    """Every stored event of one conversation, in order, as Rasa serialised them (the dicts of
    the ``data`` column); none without the table. For the person's right of access. ``bind``:
    an engine, or a connection (read in its transaction)."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return conversation_events(connection, conversation_id)
    if not inspect(bind).has_table("events"):
        return []
    rows = bind.execute(
        select(events.c.data).where(events.c.sender_id == conversation_id)
        .order_by(events.c.id)).scalars()
    return [found for found in (_loaded(data) for data in rows) if found is not None]


def _loaded(data: str | None) -> dict | None:
    try:
        found = json.loads(data) if data else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def idle_since(engine: Engine, before: datetime) -> list[str]:
    """The conversations whose last event is older than ``before`` (timezone-aware)."""
    if not inspect(engine).has_table("events"):
        return []
    with engine.connect() as connection:
        return list(connection.execute(
            select(events.c.sender_id)
            .group_by(events.c.sender_id)
            .having(func.max(events.c.timestamp) < before.timestamp())
            .order_by(events.c.sender_id)
        ).scalars())
