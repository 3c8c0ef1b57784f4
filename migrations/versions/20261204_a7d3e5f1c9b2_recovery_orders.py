"""recovery of grants (追回): recovery orders, their repayments, and the fund ledger's ``recover`` kind

``recovery_order`` (one per recorded breach: the obligation as it stood, the breach, the evidence file,
whole or pro rata with its working, the deadline; status CHECK open / partly_settled / settled /
cancelled; CHECK 0 <= settled_amount <= amount) and ``recovery_settlement`` (one repayment from the
bank statement, its unique bank reference and its unique ledger entry).  The fund ledger gets a fifth
kind, ``recover``: money brought back by a recovery order, taken off "paid".

Written by hand (autogenerate does not compare CHECK constraints).  PostgreSQL drops and re-adds the
named constraint in place; SQLite rebuilds the ledger table in batch mode (``migrations/env.py`` turns
foreign keys off for the run) and the rebuild is checked before this migration commits.

Revision ID: a7d3e5f1c9b2
Revises: a7c3e5b9d2f4
Create Date: 2026-12-04 21:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a7d3e5f1c9b2'
down_revision = 'a7c3e5b9d2f4'
branch_labels = None
depends_on = None

KINDS_BEFORE = ("reserve", "release", "pay", "return")
KINDS_AFTER = KINDS_BEFORE + ("recover",)


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


def _check_rebuild(bind, before: int) -> None:
    if bind.dialect.name != "sqlite":
        return
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"rebuilding left rows without their parent: {broken[:5]}")
    after = bind.execute(sa.text("SELECT count(*) FROM fund_ledger_entry")).scalar()
    if after != before:
        raise RuntimeError(f"fund_ledger_entry: {before} rows before the rebuild, {after} after")


def _set_kinds(values) -> None:
    with op.batch_alter_table("fund_ledger_entry") as batch_op:
        batch_op.drop_constraint(op.f("ck_fund_ledger_entry_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_fund_ledger_entry_kind"), f"kind IN ({_in(values)})")


def upgrade():
    bind = op.get_bind()
    before = bind.execute(sa.text("SELECT count(*) FROM fund_ledger_entry")).scalar()
    _set_kinds(KINDS_AFTER)
    _check_rebuild(bind, before)
    op.create_table(
        "recovery_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("application_number", sa.String(length=20), nullable=True),
        sa.Column("obligation", sa.String(length=40), nullable=False),
        sa.Column("obligation_starts_on", sa.Date(), nullable=True),
        sa.Column("obligation_ends_on", sa.Date(), nullable=True),
        sa.Column("breach_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence_file_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("recoverable", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("settled_amount", sa.BigInteger(), nullable=False),
        sa.Column("working", sa.JSON(), nullable=False),
        sa.Column("deadline_working_days", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=2000), nullable=True),
        sa.CheckConstraint("status IN ('open','partly_settled','settled','cancelled')",
                           name=op.f("ck_recovery_order_status")),
        sa.CheckConstraint("method IN ('whole','pro_rata')", name=op.f("ck_recovery_order_method")),
        sa.CheckConstraint("source_type IN ('trial_application','loan_application','robot_application')",
                           name=op.f("ck_recovery_order_source_type")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_recovery_order_amount_positive")),
        sa.CheckConstraint("settled_amount >= 0 AND settled_amount <= amount",
                           name=op.f("ck_recovery_order_settled_within_amount")),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"], name=op.f("fk_recovery_order_programme_id_programme")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["organisation.id"],
                                name=op.f("fk_recovery_order_enterprise_id_organisation")),
        sa.ForeignKeyConstraint(["debtor_id"], ["organisation.id"], name=op.f("fk_recovery_order_debtor_id_organisation")),
        sa.ForeignKeyConstraint(["evidence_file_id"], ["stored_file.id"],
                                name=op.f("fk_recovery_order_evidence_file_id_stored_file")),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"], name=op.f("fk_recovery_order_created_by_user_account")),
        sa.ForeignKeyConstraint(["cancelled_by"], ["user_account.id"],
                                name=op.f("fk_recovery_order_cancelled_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_order")),
    )
    op.create_index(op.f("ix_recovery_order_enterprise_id"), "recovery_order", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_recovery_order_debtor_id"), "recovery_order", ["debtor_id"], unique=False)
    op.create_index(op.f("ix_recovery_order_application_number"), "recovery_order", ["application_number"],
                    unique=False)
    op.create_index("ix_recovery_order_status_id", "recovery_order", ["status", "id"], unique=False)
    op.create_index("ix_recovery_order_source", "recovery_order", ["source_type", "source_id", "id"], unique=False)
    op.create_table(
        "recovery_settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("bank_reference", sa.String(length=60), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('repayment')", name=op.f("ck_recovery_settlement_kind")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_recovery_settlement_amount_positive")),
        sa.ForeignKeyConstraint(["order_id"], ["recovery_order.id"],
                                name=op.f("fk_recovery_settlement_order_id_recovery_order")),
        sa.ForeignKeyConstraint(["ledger_entry_id"], ["fund_ledger_entry.id"],
                                name=op.f("fk_recovery_settlement_ledger_entry_id_fund_ledger_entry")),
        sa.ForeignKeyConstraint(["recorded_by"], ["user_account.id"],
                                name=op.f("fk_recovery_settlement_recorded_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_settlement")),
        sa.UniqueConstraint("bank_reference", name=op.f("uq_recovery_settlement_bank_reference")),
        sa.UniqueConstraint("ledger_entry_id", name=op.f("uq_recovery_settlement_ledger_entry_id")),
    )
    op.create_index(op.f("ix_recovery_settlement_order_id"), "recovery_settlement", ["order_id"], unique=False)


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM fund_ledger_entry WHERE kind = 'recover'")).scalar():
        raise RuntimeError("the fund ledger records recovered money; it cannot be undone by a downgrade")
    op.drop_index(op.f("ix_recovery_settlement_order_id"), table_name="recovery_settlement")
    op.drop_table("recovery_settlement")
    for name in ("ix_recovery_order_source", "ix_recovery_order_status_id"):
        op.drop_index(name, table_name="recovery_order")
    for col in ("application_number", "debtor_id", "enterprise_id"):
        op.drop_index(op.f(f"ix_recovery_order_{col}"), table_name="recovery_order")
    op.drop_table("recovery_order")
    before = bind.execute(sa.text("SELECT count(*) FROM fund_ledger_entry")).scalar()
    _set_kinds(KINDS_BEFORE)
    _check_rebuild(bind, before)
