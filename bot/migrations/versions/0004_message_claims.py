"""message claims: the app instance answering a conversation's messages, and until when, so that
several instances answer each message once

Revision ID: 0004_message_claims
Revises: 0003_privacy
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_message_claims"
down_revision = "0003_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dialogue_claimed_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("dialogue_claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("dialogue_claimed_until")
        batch_op.drop_column("dialogue_claimed_by")
