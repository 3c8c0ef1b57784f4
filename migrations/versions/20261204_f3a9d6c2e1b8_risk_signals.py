"""risk signals (风险提示): patterns found on submission and nightly, open or dismissed with a reason

``risk_signal``: the kind (CHECK), a UNIQUE key naming the pattern (found again, the same row),
the status (CHECK open / dismissed), the application it is about and its organisations, the rows
behind it (JSON, bank accounts masked) and the dismissal.  A new table only: nothing existing changes.

Revision ID: f3a9d6c2e1b8
Revises: f3a9c2d1b7e4
Create Date: 2026-12-04 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3a9d6c2e1b8'
down_revision = 'f3a9c2d1b7e4'
branch_labels = None
depends_on = None

KINDS = ("'shared_bank_account','shared_phone','shared_email_domain','same_representative','same_ip',"
         "'split_applications','price_above_list','duplicate_invoice','duplicate_contract'")


def upgrade():
    op.create_table(
        "risk_signal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("application_number", sa.String(length=20), nullable=True),
        sa.Column("numbers", sa.String(length=400), nullable=True),
        sa.Column("org_a_id", sa.Integer(), nullable=True),
        sa.Column("org_b_id", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("related", sa.JSON(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissed_by", sa.Integer(), nullable=True),
        sa.Column("dismiss_reason", sa.String(length=2000), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_risk_signal_kind")),
        sa.CheckConstraint("status IN ('open','dismissed')", name=op.f("ck_risk_signal_status")),
        sa.ForeignKeyConstraint(["org_a_id"], ["organisation.id"], name=op.f("fk_risk_signal_org_a_id_organisation")),
        sa.ForeignKeyConstraint(["org_b_id"], ["organisation.id"], name=op.f("fk_risk_signal_org_b_id_organisation")),
        sa.ForeignKeyConstraint(["dismissed_by"], ["user_account.id"],
                                name=op.f("fk_risk_signal_dismissed_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_signal")),
        sa.UniqueConstraint("key", name=op.f("uq_risk_signal_key")),
    )
    op.create_index("ix_risk_signal_status_kind", "risk_signal", ["status", "kind", "id"], unique=False)
    op.create_index("ix_risk_signal_source", "risk_signal", ["source_type", "source_id"], unique=False)
    op.create_index(op.f("ix_risk_signal_application_number"), "risk_signal", ["application_number"], unique=False)
    op.create_index(op.f("ix_risk_signal_org_a_id"), "risk_signal", ["org_a_id"], unique=False)
    op.create_index(op.f("ix_risk_signal_org_b_id"), "risk_signal", ["org_b_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_risk_signal_org_b_id"), table_name="risk_signal")
    op.drop_index(op.f("ix_risk_signal_org_a_id"), table_name="risk_signal")
    op.drop_index(op.f("ix_risk_signal_application_number"), table_name="risk_signal")
    op.drop_index("ix_risk_signal_source", table_name="risk_signal")
    op.drop_index("ix_risk_signal_status_kind", table_name="risk_signal")
    op.drop_table("risk_signal")
