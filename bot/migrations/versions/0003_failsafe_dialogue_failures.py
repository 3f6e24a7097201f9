"""failsafe: count a message's failed dialogue attempts; remember messages Rasa missed; sign-in
lockout moves out of the accounts table (it is per account and client, in the rate limits' storage)

Revision ID: 0003_failsafe
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_failsafe"
down_revision = "0003_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dialogue_failures", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("missed_by_rasa", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_conversation_events_missed_by_rasa", ["missed_by_rasa"], unique=False)
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_events_missed_by_rasa")
        batch_op.drop_column("missed_by_rasa")
        batch_op.drop_column("dialogue_failures")
