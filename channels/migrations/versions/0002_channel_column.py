"""A ``channel`` column on every table that holds one channel's rows; the X store's rows get
``channel = 'x'`` in place.

The inbox, the outbox, the cursors, the leases, the sending budgets and the public invitations
become shared by every channel: each row says whose it is, and the keys that deduplicate or
order include it (an event id, a recipient's reply sequence, a cursor, lease, budget or invited
author is unique per channel). The X platform's own tables (``x_cost``, ``x_public_post``,
``x_chat_received``) keep no channel column.

SQLite cannot change a primary key or a constraint in place: each table is rebuilt (renamed,
created anew, rows copied with ``channel = 'x'``, the old one dropped) in the transaction of the
upgrade. PostgreSQL changes the tables in place (the column is added with the default ``'x'``,
which is dropped afterwards: a row of no channel is refused). The downgrade keeps only the X
rows (the other channels' are deleted) and restores the keys of the baseline.

Revision ID: 0002_channel_column
Revises: 0001_x_store_baseline
Create Date: 2026-12-07 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_channel_column"
down_revision = "0001_x_store_baseline"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# table -> (new unique or primary key columns, kind, constraint name, {index: columns})
KEYS = {
    "x_inbox": (("channel", "event_id"), "unique", "uq_x_inbox_channel_event",
                {"ix_x_inbox_sender_state": ("channel", "sender_id", "state", "id"),
                 "ix_x_inbox_state_id": ("channel", "state", "id")}),
    "x_outbox": (("channel", "recipient_id", "seq"), "unique",
                 "uq_x_outbox_channel_recipient_seq",
                 {"ix_x_outbox_state_due": ("channel", "state", "next_attempt_at"),
                  "ix_x_outbox_recipient_state": ("channel", "recipient_id", "state")}),
    "x_cursor": (("channel", "name"), "primary", "pk_x_cursor", {}),
    "x_lease": (("channel", "name"), "primary", "pk_x_lease", {}),
    "x_invitation": (("channel", "author_id"), "primary", "pk_x_invitation", {}),
    "x_budget": (("channel", "name"), "primary", "pk_x_budget", {}),
}
OLD_INDEXES = {
    "x_inbox": {"ix_x_inbox_sender_state": ("sender_id", "state", "id"),
                "ix_x_inbox_state_id": ("state", "id")},
    "x_outbox": {"ix_x_outbox_state_due": ("state", "next_attempt_at"),
                 "ix_x_outbox_recipient_state": ("recipient_id", "state")},
}


def _tables(with_channel: bool) -> sa.MetaData:
    """The six tables, with (head) or without (baseline) the channel column: frozen here."""
    m = sa.MetaData(naming_convention={
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s", "pk": "pk_%(table_name)s"})
    C = sa.Column  # noqa: N806
    S, D, I, X = sa.String, sa.DateTime, sa.Integer, sa.Text  # noqa: N806, E741

    def channel(primary: bool = False) -> list[sa.Column]:
        return [C("channel", S(32), nullable=False, primary_key=primary)] if with_channel else []

    def key(table: str, *old: str) -> list:
        if not with_channel:
            return [sa.UniqueConstraint(*old, **({"name": "uq_x_outbox_recipient_seq"}
                                                 if table == "x_outbox" else {}))]
        columns, _, name, _ = KEYS[table]
        return [sa.UniqueConstraint(*columns, name=name)]

    def indexes(table: str) -> list:
        source = {name: KEYS[table][3][name] for name in KEYS[table][3]} if with_channel \
            else OLD_INDEXES[table]
        return [sa.Index(name, *columns) for name, columns in source.items()]

    sa.Table("x_inbox", m, C("id", RowId, primary_key=True, autoincrement=True),
             *channel(), C("event_id", S(128), nullable=False), C("kind", S(16), nullable=False),
             C("sender_id", S(64), nullable=False), C("payload", X),
             C("received_at", D, nullable=False), C("state", S(16), nullable=False),
             C("attempts", I, nullable=False), C("claimed_by", S(128)), C("claimed_at", D),
             C("processed_at", D), C("last_error", S(200)),
             *key("x_inbox", "event_id"),
             sa.CheckConstraint("kind IN ('dm', 'tweet')", name="kind"),
             sa.CheckConstraint("state IN ('pending', 'processing', 'done', 'failed')",
                                name="state"),
             *indexes("x_inbox"))
    sa.Table("x_outbox", m, C("id", RowId, primary_key=True, autoincrement=True),
             *channel(), C("recipient_id", S(64), nullable=False),
             C("conversation_key", S(128), nullable=False), C("seq", I, nullable=False),
             C("text", X), C("state", S(24), nullable=False), C("attempts", I, nullable=False),
             C("next_attempt_at", D, nullable=False), C("last_error_code", S(32)),
             C("created_at", D, nullable=False), C("sent_at", D), C("external_id", S(128)),
             C("priority", I, nullable=False, server_default="2"),
             *key("x_outbox", "recipient_id", "seq"),
             sa.CheckConstraint("state IN ('pending', 'sent', 'failed_permanent')",
                                name="state"),
             *indexes("x_outbox"))
    sa.Table("x_cursor", m, *channel(True), C("name", S(128), primary_key=True), C("value", X),
             C("updated_at", D, nullable=False))
    sa.Table("x_lease", m, *channel(True), C("name", S(128), primary_key=True),
             C("holder", S(128), nullable=False), C("expires_at", D, nullable=False))
    sa.Table("x_invitation", m, *channel(True), C("author_id", S(64), primary_key=True),
             C("last_invited_at", D, nullable=False))
    sa.Table("x_budget", m, *channel(True), C("name", S(64), primary_key=True),
             C("state", X, nullable=False), C("updated_at", D, nullable=False))
    return m


def _rebuild_sqlite(target: sa.MetaData, add_channel: bool) -> None:
    """Rebuild each table as ``target`` defines it, copying its rows (channel 'x' added, or
    only the X rows kept without it)."""
    bind = op.get_bind()
    for table in target.sorted_tables:
        name = table.name
        for index in sa.inspect(bind).get_indexes(name):
            op.drop_index(index["name"], table_name=name)
        op.rename_table(name, f"{name}__old")
        table.create(bind)
        columns = [c.name for c in table.columns if c.name != "channel"]
        source = sa.table(f"{name}__old", *(sa.column(c) for c in [*columns, "channel"]))
        if add_channel:
            rows = sa.select(sa.literal("x"), *(source.c[c] for c in columns))
            bind.execute(table.insert().from_select(["channel", *columns], rows))
        else:
            rows = sa.select(*(source.c[c] for c in columns)).where(source.c.channel == "x")
            bind.execute(table.insert().from_select(columns, rows))
        op.drop_table(f"{name}__old")


def _key_name(bind: sa.engine.Connection, table: str, kind: str, columns: tuple[str, ...]
              ) -> str | None:
    inspector = sa.inspect(bind)
    if kind == "primary":
        return inspector.get_pk_constraint(table).get("name")
    for constraint in inspector.get_unique_constraints(table):
        if tuple(constraint["column_names"]) == columns:
            return constraint["name"]
    return None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite(_tables(with_channel=True), add_channel=True)
        return
    for table, (columns, kind, name, indexes) in KEYS.items():
        op.add_column(table, sa.Column("channel", sa.String(32), nullable=False,
                                       server_default="x"))
        op.alter_column(table, "channel", server_default=None)
        old_columns = tuple(c for c in columns if c != "channel")
        old = _key_name(bind, table, kind, old_columns)
        if old is not None:
            op.drop_constraint(old, table, type_=kind)
        if kind == "primary":
            op.create_primary_key(name, table, list(columns))
        else:
            op.create_unique_constraint(name, table, list(columns))
        for index, index_columns in indexes.items():
            op.drop_index(index, table_name=table)
            op.create_index(index, table, list(index_columns))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite(_tables(with_channel=False), add_channel=False)
        return
    for table, (columns, kind, name, indexes) in KEYS.items():
        rows = sa.table(table, sa.column("channel"))
        bind.execute(rows.delete().where(rows.c.channel != "x"))
        old_columns = [c for c in columns if c != "channel"]
        op.drop_constraint(name, table, type_=kind)
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_column(table, "channel")
        if kind == "primary":
            op.create_primary_key(f"pk_{table}", table, old_columns)
        else:
            op.create_unique_constraint("uq_x_outbox_recipient_seq" if table == "x_outbox"
                                        else "uq_x_inbox_event_id", table, old_columns)
        for index, index_columns in OLD_INDEXES.get(table, {}).items():
            op.create_index(index, table, list(index_columns))
