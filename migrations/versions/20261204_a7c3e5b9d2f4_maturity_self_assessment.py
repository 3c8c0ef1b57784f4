"""digital-maturity self-assessment (数字化水平自评): questionnaire versions and assessments

``maturity_questionnaire``: one row per published version (UNIQUE version, CHECK >= 1), its
questions as JSON; the default version 1 is created on first use by the service (the content lives
in ``voucher/maturity/questionnaire.py``), so an empty table is a valid state.
``maturity_assessment``: an enterprise's answers, levels per dimension (JSON) and overall level
(CHECK 1–5), with the version answered.  New tables only: nothing existing changes.

Revision ID: a7c3e5b9d2f4
Revises: f3a9d6c2e1b8
Create Date: 2026-12-04 21:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e5b9d2f4'
down_revision = 'f3a9d6c2e1b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "maturity_questionnaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("version >= 1", name=op.f("ck_maturity_questionnaire_version_positive")),
        sa.ForeignKeyConstraint(["published_by"], ["user_account.id"],
                                name=op.f("fk_maturity_questionnaire_published_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maturity_questionnaire")),
        sa.UniqueConstraint("version", name=op.f("uq_maturity_questionnaire_version")),
    )
    op.create_table(
        "maturity_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("overall_score", sa.String(length=10), nullable=False),
        sa.Column("overall_level", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("overall_level >= 1 AND overall_level <= 5",
                           name=op.f("ck_maturity_assessment_overall_level_range")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["organisation.id"],
                                name=op.f("fk_maturity_assessment_enterprise_id_organisation")),
        sa.ForeignKeyConstraint(["questionnaire_id"], ["maturity_questionnaire.id"],
                                name=op.f("fk_maturity_assessment_questionnaire_id_maturity_questionnaire")),
        sa.ForeignKeyConstraint(["taken_by"], ["user_account.id"],
                                name=op.f("fk_maturity_assessment_taken_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maturity_assessment")),
    )
    op.create_index("ix_maturity_assessment_enterprise_taken", "maturity_assessment",
                    ["enterprise_id", "taken_at", "id"], unique=False)
    op.create_index(op.f("ix_maturity_assessment_questionnaire_id"), "maturity_assessment", ["questionnaire_id"],
                    unique=False)


def downgrade():
    op.drop_index(op.f("ix_maturity_assessment_questionnaire_id"), table_name="maturity_assessment")
    op.drop_index("ix_maturity_assessment_enterprise_taken", table_name="maturity_assessment")
    op.drop_table("maturity_assessment")
    op.drop_table("maturity_questionnaire")
