"""queue: a request's assignee; indexes for the queue's filters and the dashboard

Revision ID: 0012_queue
Revises: 0012_ask
Create Date: 2026-11-27 18:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_queue"
down_revision = "0012_ask"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_requests_assignee_id_staff_users"),
            "staff_users",
            ["assignee_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            "ix_requests_assignee_id_status", ["assignee_id", "status"], unique=False
        )
        batch_op.drop_index("ix_requests_type")
        batch_op.create_index("ix_requests_type_status", ["type", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_requests_received_at"), ["received_at"], unique=False)
        batch_op.create_index(
            "ix_requests_answers",
            ["status", "closed_at", "type", "received_at", "due_at", "extended_due_at"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_answers")
        batch_op.drop_index(batch_op.f("ix_requests_received_at"))
        batch_op.drop_index("ix_requests_type_status")
        batch_op.create_index("ix_requests_type", ["type"], unique=False)
        batch_op.drop_index("ix_requests_assignee_id_status")
        batch_op.drop_constraint(
            batch_op.f("fk_requests_assignee_id_staff_users"), type_="foreignkey"
        )
        batch_op.drop_column("assignee_id")
