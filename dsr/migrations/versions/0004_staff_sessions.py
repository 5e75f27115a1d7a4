"""staff sessions: a session version per user; expiry and revocation of API tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 13:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

import dsr.models.types

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="1", nullable=False)
        )
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", dsr.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", dsr.models.types.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
