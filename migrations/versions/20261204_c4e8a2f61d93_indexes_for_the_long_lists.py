"""indexes for the long lists

The officer's review queue filtered on one solution (the catalogue's "applications for this
solution" link) and newest submissions first: (solution_id, status, submitted_at) reads the page's
rows in order instead of every application of the status.  The disbursement list filtered by
status, newest first: (status, id) reads the first page in order instead of sorting every
disbursement of that status.

Revision ID: c4e8a2f61d93
Revises: c4a9e2b7d1f3
Create Date: 2026-12-04 07:45:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e8a2f61d93'
down_revision = 'c4a9e2b7d1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_trial_application_solution_status_submitted", "trial_application",
                    ["solution_id", "status", "submitted_at"], unique=False)
    op.create_index("ix_disbursement_status_id", "disbursement", ["status", "id"], unique=False)


def downgrade():
    op.drop_index("ix_disbursement_status_id", table_name="disbursement")
    op.drop_index("ix_trial_application_solution_status_submitted", table_name="trial_application")
