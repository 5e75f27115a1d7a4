"""transmission: a portability pack sent to another controller by a pull link

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 16:00:00

"""

import sqlalchemy as sa
from alembic import op

import dsr.models.types

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transmitted_at", dsr.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("transmission_nonce", sa.String(64), nullable=True))


def downgrade():
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("transmission_nonce")
        batch_op.drop_column("transmitted_at")
