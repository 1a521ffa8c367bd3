"""list members remembered by the lister

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 01:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "twitsocket_list_members",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("network", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_twitsocket_list_members")),
        sa.UniqueConstraint(
            "network", "author_id", name=op.f("uq_twitsocket_list_members_network_author_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("twitsocket_list_members")
