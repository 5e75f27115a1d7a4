"""directives: the register of post-mortem directives (Loi 78-17 Art. 85)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 16:30:00

"""

import sqlalchemy as sa
from alembic import op

import dsr.models.types

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "directives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("directive", sa.String(length=16), nullable=False),
        sa.Column("trusted_person_name", sa.String(length=200), nullable=True),
        sa.Column("trusted_person_email", sa.String(length=254), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("registered_at", dsr.models.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", dsr.models.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_because", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("directives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directives_email"), ["email"], unique=False)


def downgrade():
    with op.batch_alter_table("directives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directives_email"))
    op.drop_table("directives")
