"""cancelled state for trials

A trial whose approval is cancelled before its kick-off is confirmed now goes to ``cancelled``
with it (before, it stayed ``open`` and every page had to look at the application): the status
CHECK of ``trial`` allows ``cancelled``, and trials already in that situation (open, their
application cancelled) are moved to it; their application's cancellation is in the audit trail.

Written by hand (autogenerate does not compare CHECK constraints).  PostgreSQL drops and re-adds
the named constraint in place.  SQLite rebuilds the table in batch mode; ``migrations/env.py``
turns foreign keys off for the run (milestones, assignments and evaluations reference trials),
and the rebuild is checked with ``PRAGMA foreign_key_check`` before this migration commits.

Revision ID: 5c0e2d7a91b4
Revises: 49a5642153a0
Create Date: 2026-11-22 08:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5c0e2d7a91b4'
down_revision = '49a5642153a0'
branch_labels = None
depends_on = None

STATES_BEFORE = ("open", "running", "completed", "evaluated", "closed")
STATES_AFTER = STATES_BEFORE + ("cancelled",)


def _set_status_check(states) -> None:
    bind = op.get_bind()
    rows_before = bind.execute(sa.text("SELECT count(*) FROM trial")).scalar()
    with op.batch_alter_table("trial") as batch_op:
        batch_op.drop_constraint(op.f("ck_trial_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_trial_status"),
                                         "status IN ({})".format(",".join(f"'{s}'" for s in states)))
    if bind.dialect.name == "sqlite":
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rebuilding trial left rows without their parent: {broken[:5]}")
        rows_after = bind.execute(sa.text("SELECT count(*) FROM trial")).scalar()
        if rows_after != rows_before:
            raise RuntimeError(f"trial: {rows_before} rows before the rebuild, {rows_after} after")


def upgrade():
    _set_status_check(STATES_AFTER)
    op.execute("UPDATE trial SET status = 'cancelled' WHERE status = 'open' AND application_id IN "
               "(SELECT id FROM trial_application WHERE status = 'cancelled')")


def downgrade():
    op.execute("UPDATE trial SET status = 'open' WHERE status = 'cancelled'")
    _set_status_check(STATES_BEFORE)
