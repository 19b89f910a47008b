"""Rasa's ``events`` table (the SQL tracker store's), reached with SQLAlchemy Core, without Rasa.

For erasure and retention outside the Rasa server (``python -m desk.cli purge``) and for the
tracker store itself (``permanence/tracker_store.py`` delegates its ``erase`` here). Only the
columns read or filtered on are declared; the table is Rasa's (``SQLTrackerStore.SQLEvent``),
created by the tracker store.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Engine

from permanence.logids import ref

logger = logging.getLogger(__name__)

events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("timestamp", Float),
)


def erase(engine: Engine, conversation_id: str) -> int:
    """Delete every stored event of one conversation; how many were deleted."""
    with engine.begin() as connection:
        deleted = connection.execute(
            delete(events).where(events.c.sender_id == conversation_id)).rowcount
    logger.info("tracker_store.erased conversation=%s events=%d", ref(conversation_id), deleted)
    return deleted


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
