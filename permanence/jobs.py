"""Daily jobs run by one server process at a time, through a row in the project's database.

``permanence_job`` holds one row per job: when its last run finished and, while one runs, who
started it and when. :func:`claim` is one conditional UPDATE (or the first INSERT): the process
whose statement changes the row runs the job; every other process sharing the database finds
the row taken, on SQLite (one writer at a time) and on PostgreSQL (row lock, then the condition
is checked again). A run that dies is taken over once its claim is ``stale_after`` old. The
table is created on first use (no migration: it belongs to no single part of the project).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import Column, DateTime, MetaData, String, Table, and_, insert, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

logger = logging.getLogger(__name__)

metadata = MetaData()
permanence_job = Table(
    "permanence_job",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=True),
    Column("started_at", DateTime, nullable=True),  # naive UTC (SQLite keeps no zone)
    Column("finished_at", DateTime, nullable=True),
)


def _naive_utc(value: datetime | None) -> datetime:
    value = value or datetime.now(timezone.utc)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def claim(engine: Engine, name: str, holder: str, period: timedelta,
          stale_after: timedelta = timedelta(hours=1), now: datetime | None = None) -> bool:
    """True if ``holder`` should run job ``name`` now: its last run finished ``period`` ago or
    more (or never), and nobody started it within ``stale_after``. The claim is recorded."""
    now = _naive_utc(now)
    metadata.create_all(engine, checkfirst=True)
    with engine.begin() as connection:
        taken = connection.execute(
            update(permanence_job)
            .where(
                permanence_job.c.name == name,
                or_(permanence_job.c.finished_at.is_(None),
                    permanence_job.c.finished_at <= now - period),
                or_(permanence_job.c.started_at.is_(None),
                    permanence_job.c.started_at <= now - stale_after,
                    and_(permanence_job.c.finished_at.is_not(None),
                         permanence_job.c.finished_at >= permanence_job.c.started_at)),
            )
            .values(holder=holder, started_at=now)
        ).rowcount
        if taken:
            return True
    try:
        with engine.begin() as connection:
            if connection.execute(
                permanence_job.select().where(permanence_job.c.name == name)
            ).first() is not None:
                return False
            connection.execute(insert(permanence_job).values(name=name, holder=holder,
                                                             started_at=now))
    except IntegrityError:  # inserted by another process at the same moment
        return False
    return True


def finished(engine: Engine, name: str, holder: str, now: datetime | None = None) -> None:
    """Record that ``holder``'s run of ``name`` ended well (the next is due ``period`` later)."""
    with engine.begin() as connection:
        connection.execute(
            update(permanence_job)
            .where(permanence_job.c.name == name, permanence_job.c.holder == holder)
            .values(finished_at=_naive_utc(now))
        )
    logger.info("jobs.finished name=%s", name)
