"""the subsidy review queue's never-submitted half on a partial index (issue 15)

The queue reads each kind as two halves, submitted and never submitted.  The second half (an
application withdrawn or cancelled before submission) is rare, but every draft also has no submission
time, so PostgreSQL filtered all the drafts to find none: 1.6 ms at 100,000 applications, growing with
the drafts.  A partial index on the rows that half can return makes it a seek.

Revision ID: e8f2a5c1d9b4
Revises: d7e1b4c9a2f5
Create Date: 2026-12-05 06:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e8f2a5c1d9b4'
down_revision = 'd7e1b4c9a2f5'
branch_labels = None
depends_on = None

TABLES = ("loan_application", "robot_application")
UNSUBMITTED = "submitted_at IS NULL AND status <> 'draft'"


def upgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_unsubmitted", table, ["created_at", "id"],
                        postgresql_where=sa.text(UNSUBMITTED), sqlite_where=sa.text(UNSUBMITTED))


def downgrade():
    for table in TABLES:
        op.drop_index(f"ix_{table}_unsubmitted", table_name=table)
