"""come-back codes

Revision ID: 0003_content
Revises: 0002
Create Date: 2026-12-07 03:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0003_content"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comeback_codes",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_comeback_codes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_comeback_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_comeback_codes_code_hash")),
    )


def downgrade() -> None:
    op.drop_table("comeback_codes")
