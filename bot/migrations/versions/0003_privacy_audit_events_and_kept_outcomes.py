"""append-only audit events (replacing transcript_views); case outcomes outlive their conversation; review flags

Revision ID: 0003_privacy
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_privacy"
down_revision = "0003_failsafe"
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "audit_events is append-only"


def _refuse_changes_to_audit_events() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        return
    for change in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{change.lower()} BEFORE {change} ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
        )


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_users.id"], name=op.f("fk_audit_events_actor_id_staff_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_conversation_id"), ["conversation_id"], unique=False)

    # Every transcript view recorded so far becomes an audit event, copied in SQL so that
    # each backend keeps its own timestamps as they are.
    build_json = "json_build_object" if op.get_bind().dialect.name == "postgresql" else "json_object"
    op.execute(
        "INSERT INTO audit_events (at, action, actor_id, conversation_id, case_id, detail) "
        f"SELECT at, 'transcript_read', viewer_id, conversation_id, NULL, {build_json}('purpose', purpose) "
        "FROM transcript_views ORDER BY id"
    )
    _refuse_changes_to_audit_events()

    with op.batch_alter_table("transcript_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcript_views_viewer_id"))
        batch_op.drop_index(batch_op.f("ix_transcript_views_conversation_id"))
    op.drop_table("transcript_views")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("conversation_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.drop_constraint("fk_cases_conversation_id_conversations", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_conversation_id_conversations"),
            "conversations",
            ["conversation_id"],
            ["id"],
            ondelete="SET NULL",
        )


    op.create_table(
        "review_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("right_intent", sa.String(length=64), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("flagged_by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_review_flags_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flagged_by_id"],
            ["staff_users.id"],
            name=op.f("fk_review_flags_flagged_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_flags")),
    )
    with op.batch_alter_table("review_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_flags_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_flags_kind"), ["kind"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the audit log is append-only; restore a backup to go back")
