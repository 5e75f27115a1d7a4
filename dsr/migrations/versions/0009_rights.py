"""rights: per-task details, a handler's decisions, restriction state, suppression records

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 16:05:00

"""

import sqlalchemy as sa
from alembic import op

import dsr.models.types

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decisions", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("restricted_at", dsr.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("restriction_lift_notified_at", dsr.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("restriction_lifted_at", dsr.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_requests_restricted_at"), ["restricted_at"], unique=False
        )
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("request_ref", sa.String(length=20), nullable=False),
        sa.Column("created_at", dsr.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )


def downgrade():
    op.drop_table("suppressions")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requests_restricted_at"))
        batch_op.drop_column("restriction_lifted_at")
        batch_op.drop_column("restriction_lift_notified_at")
        batch_op.drop_column("restricted_at")
        batch_op.drop_column("decisions")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("details")
