"""posts' media, link cards, quotes, content warnings and repost attribution

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # A server default, so that adding the column to a table of millions of posts is a
    # catalogue change on PostgreSQL (11+), not a rewrite of every row.
    with op.batch_alter_table("twitsocket_posts") as batch:
        batch.add_column(sa.Column("media", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("twitsocket_posts") as batch:
        batch.drop_column("media")
