"""indexes for the officer's start page

The officer's start page reads the mean review time from the latest 500 decided trial-voucher
applications (``ORDER BY decided_at DESC LIMIT 500``); without an index that sorts every
application (100,000 at a city's scale) on each request.  Its applications-by-status chart
counts a programme's applications per status: a covering index on (programme_id, status,
submitted_at) lets the database count index entries instead of reading every row.

Revision ID: a7d3c5e1f209
Revises: a7c3e91d4b20
Create Date: 2026-12-04 04:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7d3c5e1f209'
down_revision = 'a7c3e91d4b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_trial_application_decided_at", "trial_application", ["decided_at"], unique=False)
    op.create_index("ix_trial_application_programme_status_submitted", "trial_application",
                    ["programme_id", "status", "submitted_at"], unique=False)


def downgrade():
    op.drop_index("ix_trial_application_programme_status_submitted", table_name="trial_application")
    op.drop_index("ix_trial_application_decided_at", table_name="trial_application")
