"""grant amendments (变更申请): an SME's request to change an approved grant and the officer's decision

``grant_amendment`` (status CHECK requested / approved / refused / withdrawn; source_type CHECK the three
grant kinds; a partial UNIQUE index on (source_type, source_id) WHERE status = 'requested': one open
request per grant).  New table only.

Revision ID: f3a9c2d1b7e4
Revises: f2b7c9d4e1a3
Create Date: 2026-12-04 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f3a9c2d1b7e4'
down_revision = 'f2b7c9d4e1a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "grant_amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("application_number", sa.String(length=20), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=2000), nullable=True),
        sa.Column("ledger_difference", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("status IN ('requested','approved','refused','withdrawn')",
                           name=op.f("ck_grant_amendment_status")),
        sa.CheckConstraint("source_type IN ('trial_application','loan_application','robot_application')",
                           name=op.f("ck_grant_amendment_source_type")),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"], name=op.f("fk_grant_amendment_programme_id_programme")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["organisation.id"],
                                name=op.f("fk_grant_amendment_enterprise_id_organisation")),
        sa.ForeignKeyConstraint(["requested_by"], ["user_account.id"],
                                name=op.f("fk_grant_amendment_requested_by_user_account")),
        sa.ForeignKeyConstraint(["decided_by"], ["user_account.id"],
                                name=op.f("fk_grant_amendment_decided_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grant_amendment")),
    )
    op.create_index(op.f("ix_grant_amendment_enterprise_id"), "grant_amendment", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_grant_amendment_application_number"), "grant_amendment", ["application_number"],
                    unique=False)
    op.create_index("ix_grant_amendment_status_requested", "grant_amendment", ["status", "requested_at", "id"],
                    unique=False)
    op.create_index("ix_grant_amendment_source", "grant_amendment", ["source_type", "source_id", "id"], unique=False)
    op.create_index("uq_grant_amendment_open", "grant_amendment", ["source_type", "source_id"], unique=True,
                    postgresql_where=sa.text("status = 'requested'"), sqlite_where=sa.text("status = 'requested'"))


def downgrade():
    op.drop_index("uq_grant_amendment_open", table_name="grant_amendment")
    op.drop_index("ix_grant_amendment_source", table_name="grant_amendment")
    op.drop_index("ix_grant_amendment_status_requested", table_name="grant_amendment")
    op.drop_index(op.f("ix_grant_amendment_application_number"), table_name="grant_amendment")
    op.drop_index(op.f("ix_grant_amendment_enterprise_id"), table_name="grant_amendment")
    op.drop_table("grant_amendment")
