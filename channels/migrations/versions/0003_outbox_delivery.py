"""What the desk needs to say what became of the lawyer's reply: on ``x_outbox``,
``failure_reason`` (the French reason of a given-up message, ``channels.outcomes.GiveUp``) and
``delivery_ref`` (the desk's reference of the reply a queued part belongs to,
``permanence/deliveries.py``), with an index to look a reference up.

Both columns are nullable: the rows already there keep NULL (no reason was kept, no desk
reference was given). The downgrade drops them (SQLite 3.35+ drops a column in place).

Revision ID: 0003_outbox_delivery
Revises: 0002_channel_column
Create Date: 2026-12-07 20:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_outbox_delivery"
down_revision = "0002_channel_column"
branch_labels = None
depends_on = None

REASON_MAX_LENGTH = 200
REF_MAX_LENGTH = 64
INDEX = "ix_x_outbox_delivery_ref"


def upgrade() -> None:
    op.add_column("x_outbox", sa.Column("failure_reason", sa.String(REASON_MAX_LENGTH),
                                        nullable=True))
    op.add_column("x_outbox", sa.Column("delivery_ref", sa.String(REF_MAX_LENGTH),
                                        nullable=True))
    op.create_index(INDEX, "x_outbox", ["channel", "delivery_ref"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="x_outbox")
    op.drop_column("x_outbox", "delivery_ref")
    op.drop_column("x_outbox", "failure_reason")
