"""keyset pagination indexes: every queue sort ends in the id

The review queues, the SME's application lists and the catalogue page by cursor (the last row's
sort key, the id last as tie-breaker).  The indexes of those sorts gain the id (and the subsidy
queue's created_at) so a page is an index seek however deep; the SME lists get (enterprise, id)
and (enterprise, created_at, id), the unfiltered subsidy queue (submitted_at, created_at, id), the
API's solution lists (provider, updated_at, id) and (updated_at, id).

Revision ID: e9c4a7d2b6f1
Revises: d7b3f1a9c2e4
Create Date: 2026-12-04 14:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e9c4a7d2b6f1'
down_revision = 'd7b3f1a9c2e4'
branch_labels = None
depends_on = None

# (table, index, columns before, columns after); None: the index is new.
CHANGES = (
    ("trial_application", "ix_trial_application_status_submitted", ("status", "submitted_at"),
     ("status", "submitted_at", "id")),
    ("trial_application", "ix_trial_application_status_amount", ("status", "requested_amount"),
     ("status", "requested_amount", "id")),
    ("trial_application", "ix_trial_application_submitted_at", ("submitted_at",), ("submitted_at", "id")),
    ("trial_application", "ix_trial_application_requested_amount", ("requested_amount",), ("requested_amount", "id")),
    ("trial_application", "ix_trial_application_solution_status_submitted", ("solution_id", "status", "submitted_at"),
     ("solution_id", "status", "submitted_at", "id")),
    ("trial_application", "ix_trial_application_enterprise_created", None, ("enterprise_id", "created_at", "id")),
    ("solution", "ix_solution_status_trial_price", ("status", "trial_price"), ("status", "trial_price", "id")),
    ("solution", "ix_solution_provider_updated", None, ("provider_id", "updated_at", "id")),
    ("solution", "ix_solution_updated", None, ("updated_at", "id")),
    *((table, f"ix_{table}_status_submitted", ("status", "submitted_at"),
       ("status", "submitted_at", "created_at", "id")) for table in ("loan_application", "robot_application")),
    *((table, f"ix_{table}_submitted", None, ("submitted_at", "created_at", "id"))
      for table in ("loan_application", "robot_application")),
    *((table, f"ix_{table}_enterprise_id", None, ("enterprise_id", "id"))
      for table in ("loan_application", "robot_application")),
)


def upgrade():
    for table, name, before, after in CHANGES:
        if before is not None:
            op.drop_index(name, table_name=table)
        op.create_index(name, table, list(after))


def downgrade():
    for table, name, before, _after in reversed(CHANGES):
        op.drop_index(name, table_name=table)
        if before is not None:
            op.create_index(name, table, list(before))
