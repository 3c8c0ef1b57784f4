"""returned payments (退汇)

A payment the bank returns (closed account, wrong name) reopens its item: the fund ledger gets a
fourth kind, ``return`` (paid back to reserved for the grant), and a disbursement a new state,
``returned``, with who recorded the return, when, the reason, the bank's reference for the return
and the ledger entry.  A returned disbursement is not live, so the item is payable again.  A
reconciliation row (a reversal naming a paid line) can be decided ``recorded_returned``.

Written by hand (autogenerate does not compare CHECK constraints).  PostgreSQL drops and re-adds the
named constraints in place; SQLite rebuilds the two tables in batch mode (``migrations/env.py``
turns foreign keys off for the run) and the rebuild is checked before this migration commits.

Revision ID: f2b7c9d4e1a3
Revises: e4c1a8b7d2f6
Create Date: 2026-12-04 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2b7c9d4e1a3'
down_revision = 'e4c1a8b7d2f6'
branch_labels = None
depends_on = None

KINDS_BEFORE = ("reserve", "release", "pay")
KINDS_AFTER = KINDS_BEFORE + ("return",)
STATES_BEFORE = ("prepared", "approved", "rejected", "in_batch", "paid", "failed")
STATES_AFTER = STATES_BEFORE + ("returned",)
RESOLUTIONS_BEFORE = ("auto", "pending", "accepted_paid", "marked_failed", "ignored")
RESOLUTIONS_AFTER = ("auto", "pending", "accepted_paid", "marked_failed", "recorded_returned", "ignored")
RETURNED_CHECK = ("status <> 'returned' OR (return_ledger_entry_id IS NOT NULL AND return_reason IS NOT NULL "
                  "AND returned_by IS NOT NULL)")


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


def _check_rebuild(bind, counts: dict) -> None:
    if bind.dialect.name != "sqlite":
        return
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"rebuilding left rows without their parent: {broken[:5]}")
    for table, before in counts.items():
        after = bind.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
        if after != before:
            raise RuntimeError(f"{table}: {before} rows before the rebuild, {after} after")


def _counts(bind) -> dict:
    return {t: bind.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("fund_ledger_entry", "disbursement", "reconciliation_row")}


def _set_resolutions(values) -> None:
    with op.batch_alter_table("reconciliation_row") as batch_op:
        batch_op.drop_constraint(op.f("ck_reconciliation_row_resolution"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reconciliation_row_resolution"), f"resolution IN ({_in(values)})")


def upgrade():
    bind = op.get_bind()
    counts = _counts(bind)
    with op.batch_alter_table("fund_ledger_entry") as batch_op:
        batch_op.drop_constraint(op.f("ck_fund_ledger_entry_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_fund_ledger_entry_kind"), f"kind IN ({_in(KINDS_AFTER)})")
    with op.batch_alter_table("disbursement") as batch_op:
        batch_op.add_column(sa.Column("return_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("return_bank_reference", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("returned_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("return_ledger_entry_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_disbursement_returned_by_user_account"), "user_account",
                                    ["returned_by"], ["id"])
        batch_op.create_foreign_key(op.f("fk_disbursement_return_ledger_entry_id_fund_ledger_entry"),
                                    "fund_ledger_entry", ["return_ledger_entry_id"], ["id"])
        batch_op.drop_constraint(op.f("ck_disbursement_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_disbursement_status"), f"status IN ({_in(STATES_AFTER)})")
        batch_op.create_check_constraint(op.f("ck_disbursement_returned_has_return"), RETURNED_CHECK)
    _set_resolutions(RESOLUTIONS_AFTER)
    _check_rebuild(bind, counts)


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM fund_ledger_entry WHERE kind = 'return'")).scalar():
        raise RuntimeError("the fund ledger records returned payments; they cannot be undone by a downgrade")
    counts = _counts(bind)
    _set_resolutions(RESOLUTIONS_BEFORE)
    with op.batch_alter_table("disbursement") as batch_op:
        batch_op.drop_constraint(op.f("ck_disbursement_returned_has_return"), type_="check")
        batch_op.drop_constraint(op.f("ck_disbursement_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_disbursement_status"), f"status IN ({_in(STATES_BEFORE)})")
        batch_op.drop_constraint(op.f("fk_disbursement_return_ledger_entry_id_fund_ledger_entry"),
                                 type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_disbursement_returned_by_user_account"), type_="foreignkey")
        batch_op.drop_column("return_ledger_entry_id")
        batch_op.drop_column("returned_at")
        batch_op.drop_column("returned_by")
        batch_op.drop_column("return_bank_reference")
        batch_op.drop_column("return_reason")
    with op.batch_alter_table("fund_ledger_entry") as batch_op:
        batch_op.drop_constraint(op.f("ck_fund_ledger_entry_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_fund_ledger_entry_kind"), f"kind IN ({_in(KINDS_BEFORE)})")
    _check_rebuild(bind, counts)
