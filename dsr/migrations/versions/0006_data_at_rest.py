"""data at rest: each request's wrapped data key, and when retention purged it

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 13:10:00

"""

import sqlalchemy as sa
from alembic import op

import dsr.models.types

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_key", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("results_deleted_at", dsr.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("anonymised_at", dsr.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_requests_closed_at"), ["closed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requests_closed_at"))
        batch_op.drop_column("anonymised_at")
        batch_op.drop_column("results_deleted_at")
        batch_op.drop_column("data_key")
