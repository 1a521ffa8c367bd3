"""automatic moderation: the rule that held a queued post, and why

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("twitsocket_pending") as batch:
        batch.add_column(sa.Column("rule", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("twitsocket_pending") as batch:
        batch.drop_column("reason")
        batch.drop_column("rule")
