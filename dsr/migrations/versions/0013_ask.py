"""ask the person: a handler's questions (Art. 12(6)), their answers, the files sent with them

Revision ID: 0012_ask
Revises: 0012_decide
Create Date: 2026-11-28 17:00:00

"""

import sqlalchemy as sa
from alembic import op

import dsr.models.types

# revision identifiers, used by Alembic.
revision = "0012_ask"
down_revision = "0012_decide"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("asked_by", sa.String(length=254), nullable=False),
        sa.Column("asked_at", dsr.models.types.UTCDateTime(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=False),
        sa.Column("reminded_at", dsr.models.types.UTCDateTime(), nullable=True),
        sa.Column("answered_at", dsr.models.types.UTCDateTime(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("expired_at", dsr.models.types.UTCDateTime(), nullable=True),
        sa.Column("paused_days", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questions_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_questions_asked_at"), ["asked_at"], unique=False)
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("question_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_documents_question_id"), ["question_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_documents_question_id_questions",
            "questions",
            ["question_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_constraint("fk_documents_question_id_questions", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_documents_question_id"))
        batch_op.drop_column("question_id")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questions_asked_at"))
        batch_op.drop_index(batch_op.f("ix_questions_request_id"))
    op.drop_table("questions")
