"""E-mail notifications: each lawyer's preference, and each case's new-case mail claimed once.

- ``desk_lawyer.notify_cases``: which new cases the lawyer is mailed about besides the P0 ones
  (always): ``P0`` (none else, the default), ``P1`` (P0 and P1) or ``all``; set from the desk's
  queue page or ``python -m desk.cli notify EMAIL LEVEL``.
- ``desk_case.mailed_at``: the new-case mails were claimed (desk/mail.py): never twice.

Revision ID: 0005_mail_notifications
Revises: 0004_names_and_erasure_requests
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_mail_notifications"
down_revision = "0004_names_and_erasure_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("desk_lawyer") as batch:
        batch.add_column(sa.Column("notify_cases", sa.String(8), nullable=False,
                                   server_default="P0"))
    with op.batch_alter_table("desk_case") as batch:
        batch.add_column(sa.Column("mailed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("desk_case") as batch:
        batch.drop_column("mailed_at")
    with op.batch_alter_table("desk_lawyer") as batch:
        batch.drop_column("notify_cases")
