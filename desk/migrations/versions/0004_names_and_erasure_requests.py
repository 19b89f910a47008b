"""Lawyers shown by name, and erasure requests flagged on the case.

- ``desk_lawyer.display_name``: how the pages name the lawyer (« Maître Exemple »), set with
  ``python -m desk.cli name EMAIL "NAME"``; without one, the e-mail address.
- ``desk_case.erasure_requested_at``: the person asked for erasure (« supprimez mes données »)
  while the conversation was with the lawyer (desk/hooks.py); the case page flags it.

Revision ID: 0004_names_and_erasure_requests
Revises: 0003_desk_hardening
Create Date: 2026-12-07 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_names_and_erasure_requests"
down_revision = "0003_desk_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("desk_lawyer") as batch:
        batch.add_column(sa.Column("display_name", sa.String(120), nullable=True))
    with op.batch_alter_table("desk_case") as batch:
        batch.add_column(sa.Column("erasure_requested_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("desk_case") as batch:
        batch.drop_column("erasure_requested_at")
    with op.batch_alter_table("desk_lawyer") as batch:
        batch.drop_column("display_name")
