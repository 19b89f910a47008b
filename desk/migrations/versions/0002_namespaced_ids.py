"""Conversation ids namespaced by channel: legacy ids get their channel's prefix.

Before, a conversation id was the bare platform id (an X user id, a web-chat session id, or
whatever a REST client sent), so any channel could reach any conversation. Ids are now
``<channel>:<local id>`` (``permanence.conversations``); this revision rewrites the legacy
ones, so that each person keeps their conversation and their case:

- Rasa's ``events`` table (the tracker store, same database), if it exists: a sender id of
  digits only is an X user id (``x:``), 32 lowercase hex digits a web-chat session
  (``web:``), anything else came from the REST channel (``rest:``);
- ``desk_case.conversation_id`` (the only desk column holding one): by the case's ``channel``
  column (``x``, ``webchat``, ``rest``, ``mastodon``), by the same shapes when it is empty or
  unknown.

Ids that already have a known namespace are left alone, as are ids whose namespaced form would
exceed 128 characters (the desk's column; legacy ids are never that long in practice). The
rules are frozen here, not imported: this revision must do the same thing forever. The
downgrade removes the prefixes again.

Revision ID: 0002_namespaced_ids
Revises: 0001
Create Date: 2026-12-04 18:50:00
"""

from __future__ import annotations

import logging
import re

import sqlalchemy as sa
from alembic import op

revision = "0002_namespaced_ids"
down_revision = "0001"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

NAMESPACES = ("x", "web", "rest", "mastodon")
CASE_CHANNEL_NAMESPACE = {"x": "x", "webchat": "web", "rest": "rest", "mastodon": "mastodon"}
MAX_ID = 128
_DIGITS = re.compile(r"[0-9]+")
_SESSION = re.compile(r"[0-9a-f]{32}")

events = sa.table("events", sa.column("sender_id", sa.String))
desk_case = sa.table("desk_case", sa.column("id", sa.Integer),
                     sa.column("conversation_id", sa.String), sa.column("channel", sa.String))


def namespace_of(conversation_id: str) -> str | None:
    prefix, separator, _ = conversation_id.partition(":")
    return prefix if separator and prefix in NAMESPACES else None


def namespaced(conversation_id: object, channel: str | None = None) -> str | None:
    """The namespaced form of a legacy id, or None to leave it as it is."""
    if not isinstance(conversation_id, str) or not conversation_id:
        return None
    if namespace_of(conversation_id) is not None:
        return None
    namespace = CASE_CHANNEL_NAMESPACE.get(channel or "")
    if namespace is None:
        if _DIGITS.fullmatch(conversation_id):
            namespace = "x"
        elif _SESSION.fullmatch(conversation_id):
            namespace = "web"
        else:
            namespace = "rest"
    new = f"{namespace}:{conversation_id}"
    return new if len(new) <= MAX_ID else None


def _has_events(bind: sa.engine.Connection) -> bool:
    """Rasa's table exists (the tracker store creates it at its first start)."""
    inspector = sa.inspect(bind)
    return inspector.has_table("events") and "sender_id" in {
        column["name"] for column in inspector.get_columns("events")}


def upgrade() -> None:
    bind = op.get_bind()
    renamed = 0
    if _has_events(bind):
        senders = bind.execute(sa.select(events.c.sender_id).distinct()).scalars().all()
        for sender in senders:
            new = namespaced(sender)
            if new is not None:
                bind.execute(events.update().where(events.c.sender_id == sender)
                             .values(sender_id=new))
                renamed += 1
    cases = 0
    for case_id, conversation_id, channel in bind.execute(
            sa.select(desk_case.c.id, desk_case.c.conversation_id, desk_case.c.channel)).all():
        new = namespaced(conversation_id, channel)
        if new is not None:
            bind.execute(desk_case.update().where(desk_case.c.id == case_id)
                         .values(conversation_id=new))
            cases += 1
    logger.info("desk.migration.namespaced_ids conversations=%d cases=%d", renamed, cases)


def _strip(conversation_id: object) -> str | None:
    if not isinstance(conversation_id, str) or namespace_of(conversation_id) is None:
        return None
    return conversation_id.partition(":")[2] or None


def downgrade() -> None:
    bind = op.get_bind()
    if _has_events(bind):
        senders = bind.execute(sa.select(events.c.sender_id).distinct()).scalars().all()
        for sender in senders:
            old = _strip(sender)
            if old is not None:
                bind.execute(events.update().where(events.c.sender_id == sender)
                             .values(sender_id=old))
    for case_id, conversation_id in bind.execute(
            sa.select(desk_case.c.id, desk_case.c.conversation_id)).all():
        old = _strip(conversation_id)
        if old is not None:
            bind.execute(desk_case.update().where(desk_case.c.id == case_id)
                         .values(conversation_id=old))
