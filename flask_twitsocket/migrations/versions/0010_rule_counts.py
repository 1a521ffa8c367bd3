"""automatic moderation: per day and rule, how many posts a rule dropped (consent's are
counted, not stored)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 05:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "twitsocket_rule_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "rule", name=op.f("pk_twitsocket_rule_counts")),
    )


def downgrade() -> None:
    op.drop_table("twitsocket_rule_counts")
