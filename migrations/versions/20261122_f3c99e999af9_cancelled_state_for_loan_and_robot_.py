"""cancelled state for loan and robot grants

An approved loan interest discount or robot purchase subsidy can be cancelled (an upheld objection
to its public notice, before any of it is paid): the status CHECK of ``loan_application`` and
``robot_application`` now allows ``cancelled``.

Written by hand (autogenerate does not compare CHECK constraints).  PostgreSQL drops and re-adds
the named constraint in place.  SQLite cannot alter a CHECK, so batch mode copies the table into a
new one and drops the old one; with foreign keys enforced (``voucher.db`` turns them on for every
connection) that DROP first deletes the old rows, and ``ON DELETE CASCADE`` would take every
``loan_interest_period`` / ``robot_line`` row with them.  So on SQLite the child rows are kept
aside in a temporary table and put back once the new parent table is in place (ids unchanged),
all inside the migration's transaction, and the counts are checked.

Revision ID: f3c99e999af9
Revises: 6b52a01229f8
Create Date: 2026-11-22 01:45:30.371704

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3c99e999af9'
down_revision = '6b52a01229f8'
branch_labels = None
depends_on = None

STATES_BEFORE = ("draft", "submitted", "approved", "rejected", "returned", "withdrawn")
STATES_AFTER = STATES_BEFORE + ("cancelled",)
# Each table whose status CHECK changes, with the table whose rows cascade from it.
TABLES = {"loan_application": "loan_interest_period", "robot_application": "robot_line"}


def _status_check(states) -> str:
    return "status IN ({})".format(",".join(f"'{s}'" for s in states))


def _count(bind, table: str) -> int:
    return bind.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def _set_status_check(states) -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table, child in TABLES.items():
        name = f"ck_{table}_status"
        keep = f"_keep_{child}"
        if sqlite:
            before = _count(bind, child)
            bind.exec_driver_sql(f"CREATE TEMP TABLE {keep} AS SELECT * FROM {child}")
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(name), type_="check")
            batch_op.create_check_constraint(op.f(name), _status_check(states))
        if sqlite:
            columns = ", ".join(c["name"] for c in sa.inspect(bind).get_columns(child))
            if _count(bind, child):  # foreign keys were not enforced: nothing cascaded
                bind.exec_driver_sql(f"DELETE FROM {child}")
            bind.exec_driver_sql(f"INSERT INTO {child} ({columns}) SELECT {columns} FROM {keep}")
            bind.exec_driver_sql(f"DROP TABLE {keep}")
            after = _count(bind, child)
            if after != before:
                raise RuntimeError(f"{child}: {before} rows before rebuilding {table}, {after} after")


def upgrade():
    _set_status_check(STATES_AFTER)


def downgrade():
    bind = op.get_bind()
    for table in TABLES:
        cancelled = bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE status = 'cancelled'")).scalar()
        if cancelled:
            raise RuntimeError(f"{table} has {cancelled} cancelled application(s), a state the older schema does "
                               "not know: nothing was changed.  Decide what they should become first.")
    _set_status_check(STATES_BEFORE)
