"""release: what a handler left out of the answer, and the release's state

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 14:35:00

"""

import sqlalchemy as sa
from alembic import op

import dsr.models.types

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_out", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("release_requested_at", dsr.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("release_requested_by", sa.String(254), nullable=True))
        batch_op.add_column(sa.Column("released_at", dsr.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("release_error", sa.String(2000), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_requests_release_requested_at"), ["release_requested_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requests_release_requested_at"))
        batch_op.drop_column("release_error")
        batch_op.drop_column("released_at")
        batch_op.drop_column("release_requested_by")
        batch_op.drop_column("release_requested_at")
        batch_op.drop_column("left_out")
