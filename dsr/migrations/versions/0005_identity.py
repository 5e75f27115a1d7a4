"""identity: claimed identifiers and their proofs; answers withheld for another email

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 13:00:00

"""

import sqlalchemy as sa
from alembic import op

import dsr.models.types

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "identity_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("normalised", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=254), nullable=True),
        sa.Column("decided_at", dsr.models.types.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", dsr.models.types.UTCDateTime(), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", dsr.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "kind", "normalised"),
    )
    with op.batch_alter_table("identity_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_claims_request_id"), ["request_id"], unique=False
        )
    op.create_table(
        "withheld_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("record_counts", sa.JSON(), nullable=False),
        sa.Column("mismatched", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=254), nullable=True),
        sa.Column("decided_at", dsr.models.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", dsr.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("withheld_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_withheld_answers_task_id"), ["task_id"], unique=True)


def downgrade():
    with op.batch_alter_table("withheld_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_withheld_answers_task_id"))
    op.drop_table("withheld_answers")
    with op.batch_alter_table("identity_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_claims_request_id"))
    op.drop_table("identity_claims")
