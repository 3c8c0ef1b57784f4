"""recovery by offset (抵扣): a disbursement's offset against the payee's recovery orders

``disbursement.offset_amount`` (integer fen, default 0; CHECK 0 <= offset_amount <= amount: the bank
transfers the rest), ``recovery_offset`` (one row per disbursement and recovery order it nets: the
amount and its state pending / settled / released / carried, UNIQUE per pair) and the offset
settlement: ``recovery_settlement.kind`` may be ``offset`` (naming the disbursement, with no bank
reference), so its ``bank_reference`` becomes nullable (a CHECK keeps it required for a repayment).

Written by hand (autogenerate does not compare CHECK constraints).  SQLite rebuilds the two altered
tables in batch mode (``migrations/env.py`` turns foreign keys off for the run); the row counts are
checked before this migration commits.

Revision ID: b3e8d1f4a6c2
Revises: b3e1f7a9c5d2
Create Date: 2026-12-04 21:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b3e8d1f4a6c2'
down_revision = 'b3e1f7a9c5d2'
branch_labels = None
depends_on = None


def _count(bind, table: str) -> int:
    return bind.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def _check(bind, counts: dict) -> None:
    if bind.dialect.name != "sqlite":
        return
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"rebuilding left rows without their parent: {broken[:5]}")
    for table, before in counts.items():
        after = _count(bind, table)
        if after != before:
            raise RuntimeError(f"{table}: {before} rows before the rebuild, {after} after")


def upgrade():
    bind = op.get_bind()
    counts = {t: _count(bind, t) for t in ("disbursement", "recovery_settlement")}
    with op.batch_alter_table("disbursement") as batch_op:
        batch_op.add_column(sa.Column("offset_amount", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.create_check_constraint(op.f("ck_disbursement_offset_within_amount"),
                                         "offset_amount >= 0 AND offset_amount <= amount")
    with op.batch_alter_table("recovery_settlement") as batch_op:
        batch_op.alter_column("bank_reference", existing_type=sa.String(length=60), nullable=True)
        batch_op.add_column(sa.Column("disbursement_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("disbursement_reference", sa.String(length=30), nullable=True))
        batch_op.create_foreign_key(op.f("fk_recovery_settlement_disbursement_id_disbursement"), "disbursement",
                                    ["disbursement_id"], ["id"])
        batch_op.create_index(op.f("ix_recovery_settlement_disbursement_id"), ["disbursement_id"], unique=False)
        batch_op.drop_constraint(op.f("ck_recovery_settlement_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_recovery_settlement_kind"), "kind IN ('repayment','offset')")
        batch_op.create_check_constraint(op.f("ck_recovery_settlement_repayment_has_reference"),
                                         "kind <> 'repayment' OR bank_reference IS NOT NULL")
        batch_op.create_check_constraint(op.f("ck_recovery_settlement_offset_has_disbursement"),
                                         "kind <> 'offset' OR disbursement_id IS NOT NULL")
    _check(bind, counts)
    op.create_table(
        "recovery_offset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("disbursement_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending','settled','released','carried')",
                           name=op.f("ck_recovery_offset_status")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_recovery_offset_amount_positive")),
        sa.ForeignKeyConstraint(["order_id"], ["recovery_order.id"],
                                name=op.f("fk_recovery_offset_order_id_recovery_order")),
        sa.ForeignKeyConstraint(["disbursement_id"], ["disbursement.id"],
                                name=op.f("fk_recovery_offset_disbursement_id_disbursement")),
        sa.ForeignKeyConstraint(["settlement_id"], ["recovery_settlement.id"],
                                name=op.f("fk_recovery_offset_settlement_id_recovery_settlement")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_offset")),
        sa.UniqueConstraint("disbursement_id", "order_id", name="uq_recovery_offset_disbursement_order"),
    )
    op.create_index(op.f("ix_recovery_offset_disbursement_id"), "recovery_offset", ["disbursement_id"], unique=False)
    op.create_index("ix_recovery_offset_order_status", "recovery_offset", ["order_id", "status"], unique=False)


def downgrade():
    bind = op.get_bind()
    if _count(bind, "recovery_offset") or bind.execute(sa.text(
            "SELECT count(*) FROM recovery_settlement WHERE kind = 'offset'")).scalar():
        raise RuntimeError("recovery orders were offset against payments; it cannot be undone by a downgrade")
    op.drop_index("ix_recovery_offset_order_status", table_name="recovery_offset")
    op.drop_index(op.f("ix_recovery_offset_disbursement_id"), table_name="recovery_offset")
    op.drop_table("recovery_offset")
    counts = {t: _count(bind, t) for t in ("disbursement", "recovery_settlement")}
    with op.batch_alter_table("recovery_settlement") as batch_op:
        batch_op.drop_constraint(op.f("ck_recovery_settlement_offset_has_disbursement"), type_="check")
        batch_op.drop_constraint(op.f("ck_recovery_settlement_repayment_has_reference"), type_="check")
        batch_op.drop_constraint(op.f("ck_recovery_settlement_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_recovery_settlement_kind"), "kind IN ('repayment')")
        batch_op.drop_index(op.f("ix_recovery_settlement_disbursement_id"))
        batch_op.drop_constraint(op.f("fk_recovery_settlement_disbursement_id_disbursement"), type_="foreignkey")
        batch_op.drop_column("disbursement_reference")
        batch_op.drop_column("disbursement_id")
        batch_op.alter_column("bank_reference", existing_type=sa.String(length=60), nullable=False)
    with op.batch_alter_table("disbursement") as batch_op:
        batch_op.drop_constraint(op.f("ck_disbursement_offset_within_amount"), type_="check")
        batch_op.drop_column("offset_amount")
    _check(bind, counts)
