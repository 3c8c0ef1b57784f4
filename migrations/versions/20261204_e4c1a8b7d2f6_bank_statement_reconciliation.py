"""bank statement reconciliation (对账): imported result files and their rows

``reconciliation_import`` (one bank result / statement file per batch: SHA-256, who, when, layout;
UNIQUE batch + SHA-256) and ``reconciliation_row`` (each row's status CHECK matched / amount_differs /
unknown_reference / duplicate / reversal, the finance officer's decision, UNIQUE import + row number).
New tables only: nothing existing changes.

Revision ID: e4c1a8b7d2f6
Revises: e9c4a7d2b6f1
Create Date: 2026-12-04 14:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4c1a8b7d2f6'
down_revision = 'e9c4a7d2b6f1'
branch_labels = None
depends_on = None

STATUSES = "'matched','amount_differs','unknown_reference','duplicate','reversal'"
RESOLUTIONS = "'auto','pending','accepted_paid','marked_failed','ignored'"


def upgrade():
    op.create_table(
        "reconciliation_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("row_count >= 0", name=op.f("ck_reconciliation_import_row_count_non_negative")),
        sa.ForeignKeyConstraint(["batch_id"], ["payment_batch.id"],
                                name=op.f("fk_reconciliation_import_batch_id_payment_batch")),
        sa.ForeignKeyConstraint(["imported_by"], ["user_account.id"],
                                name=op.f("fk_reconciliation_import_imported_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_import")),
        sa.UniqueConstraint("batch_id", "sha256", name="uq_reconciliation_import_batch_sha256"),
    )
    op.create_index(op.f("ix_reconciliation_import_batch_id"), "reconciliation_import", ["batch_id"], unique=False)
    op.create_table(
        "reconciliation_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("payee_name", sa.String(length=200), nullable=True),
        sa.Column("account", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("bank_reference", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("difference", sa.BigInteger(), nullable=True),
        sa.Column("disbursement_id", sa.Integer(), nullable=True),
        sa.Column("reversed_row_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_reconciliation_row_status")),
        sa.CheckConstraint(f"resolution IN ({RESOLUTIONS})", name=op.f("ck_reconciliation_row_resolution")),
        sa.CheckConstraint("(status = 'matched') = (resolution = 'auto')",
                           name=op.f("ck_reconciliation_row_only_matched_is_auto")),
        sa.CheckConstraint("status <> 'matched' OR disbursement_id IS NOT NULL",
                           name=op.f("ck_reconciliation_row_matched_has_line")),
        sa.CheckConstraint("status <> 'amount_differs' OR difference IS NOT NULL",
                           name=op.f("ck_reconciliation_row_differs_has_difference")),
        sa.CheckConstraint("resolution IN ('auto','pending') OR (decided_by IS NOT NULL AND decision_reason IS NOT NULL)",
                           name=op.f("ck_reconciliation_row_decision_has_reason")),
        sa.ForeignKeyConstraint(["import_id"], ["reconciliation_import.id"],
                                name=op.f("fk_reconciliation_row_import_id_reconciliation_import")),
        sa.ForeignKeyConstraint(["disbursement_id"], ["disbursement.id"],
                                name=op.f("fk_reconciliation_row_disbursement_id_disbursement")),
        sa.ForeignKeyConstraint(["reversed_row_id"], ["reconciliation_row.id"],
                                name=op.f("fk_reconciliation_row_reversed_row_id_reconciliation_row")),
        sa.ForeignKeyConstraint(["decided_by"], ["user_account.id"],
                                name=op.f("fk_reconciliation_row_decided_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_row")),
        sa.UniqueConstraint("import_id", "row_number", name="uq_reconciliation_row_import_row"),
    )
    op.create_index("ix_reconciliation_row_disbursement", "reconciliation_row", ["disbursement_id"], unique=False)
    op.create_index("ix_reconciliation_row_resolution", "reconciliation_row", ["resolution"], unique=False)


def downgrade():
    op.drop_index("ix_reconciliation_row_resolution", table_name="reconciliation_row")
    op.drop_index("ix_reconciliation_row_disbursement", table_name="reconciliation_row")
    op.drop_table("reconciliation_row")
    op.drop_index(op.f("ix_reconciliation_import_batch_id"), table_name="reconciliation_import")
    op.drop_table("reconciliation_import")
