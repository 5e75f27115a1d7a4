"""decide: staff notes on a case, and the request a merged duplicate points at

Revision ID: 0012_decide
Revises: 0011
Create Date: 2026-11-27 17:50:00

"""

import sqlalchemy as sa
from alembic import op

import dsr.models.types

# revision identifiers, used by Alembic.
revision = "0012_decide"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", dsr.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notes_request_id"), ["request_id"], unique=False)
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_requests_merged_into_id"), ["merged_into_id"])
        batch_op.create_foreign_key(
            "fk_requests_merged_into_id_requests", "requests", ["merged_into_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_constraint("fk_requests_merged_into_id_requests", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_requests_merged_into_id"))
        batch_op.drop_column("merged_into_id")
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notes_request_id"))
    op.drop_table("case_notes")
