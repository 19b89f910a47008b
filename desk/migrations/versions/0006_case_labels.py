"""Free labels on cases (several lawyers sharing the work, issue #14 item 2).

- ``desk_label``: one row per label on a case (``name``, at most 60 characters, unique per
  case), who added it and when. Deleted with the case (erasure, retention): a label may
  identify the person; the audit log keeps only the label's row id.

Revision ID: 0006_case_labels
Revises: 0005_mail_notifications
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0006_case_labels"
down_revision = "0005_mail_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "desk_label",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", ROW_ID, nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("lawyer_id", ROW_ID, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["desk_case.id"],
                                name=op.f("fk_desk_label_case_id_desk_case"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lawyer_id"], ["desk_lawyer.id"],
                                name=op.f("fk_desk_label_lawyer_id_desk_lawyer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_label")),
        sa.UniqueConstraint("case_id", "name", name="uq_desk_label_case_name"),
    )
    op.create_index("ix_desk_label_name", "desk_label", ["name"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_desk_label_name", table_name="desk_label")
    op.drop_table("desk_label")
