"""rule versions (issue 19 §3): a programme's rule parameters as dated versions

``rule_version``: per programme a number (given when published), status draft / published /
discarded, the start day, every parameter as JSON (Decimal as string), the officer's note, the
version a draft is based on, who drafted and published it.  Each existing programme gets version 1:
its current parameters, in force from the day its window opens (so every decision already made is
read as made under version 1).

Revision ID: c4a9e2f7b1d3
Revises: b3e8d1f4a6c2
Create Date: 2026-12-05 00:10:00

"""
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = 'c4a9e2f7b1d3'
down_revision = 'b3e8d1f4a6c2'
branch_labels = None
depends_on = None

# The programme's parameter columns as stored: money in fen, percentages and scores in hundredths,
# the rest whole numbers (as voucher.db.Money / Percent store them).
HUNDREDTHS = ("trial_cap_per_enterprise", "provider_cap", "advance_pct", "pass_score", "remarkable_score",
              "loan_rate_margin_pct", "loan_subsidy_points", "loan_principal_cap", "robot_base_rate",
              "robot_domestic_rate", "robot_pilot_domestic_rate", "robot_enterprise_cap")
WHOLE = ("recommend_min_evaluations", "weight_effect", "weight_quality", "weight_service",
         "weight_cost_effectiveness", "weight_replicability", "loan_day_basis", "publicity_working_days")


def upgrade():
    op.create_table(
        'rule_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=True),
        sa.Column('parameters', sa.JSON(), nullable=False),
        sa.Column('note', sa.String(length=1000), nullable=True),
        sa.Column('based_on_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by', sa.Integer(), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft','published','discarded')", name=op.f('ck_rule_version_status')),
        sa.CheckConstraint("status <> 'published' OR (number IS NOT NULL AND effective_from IS NOT NULL)",
                           name=op.f('ck_rule_version_published_numbered_and_dated')),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_rule_version_programme_id_programme')),
        sa.ForeignKeyConstraint(['based_on_id'], ['rule_version.id'], name=op.f('fk_rule_version_based_on_id_rule_version')),
        sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_rule_version_created_by_user_account')),
        sa.ForeignKeyConstraint(['published_by'], ['user_account.id'],
                                name=op.f('fk_rule_version_published_by_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_version')),
        sa.UniqueConstraint('programme_id', 'number', name='uq_rule_version_number'),
    )
    op.create_index('uq_rule_version_start', 'rule_version', ['programme_id', 'effective_from'], unique=True,
                    postgresql_where=sa.text("status = 'published'"), sqlite_where=sa.text("status = 'published'"))
    op.create_index('ix_rule_version_programme_status', 'rule_version', ['programme_id', 'status', 'effective_from'])

    bind = op.get_bind()
    columns = ", ".join(("id", "opens_on", "created_at") + HUNDREDTHS + WHOLE)
    table = sa.table('rule_version', sa.column('programme_id', sa.Integer), sa.column('number', sa.Integer),
                     sa.column('status', sa.String), sa.column('effective_from', sa.Date),
                     sa.column('parameters', sa.JSON), sa.column('note', sa.String),
                     sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('published_at', sa.DateTime(timezone=True)))
    rows = []

    def as_date(value):
        return date.fromisoformat(value[:10]) if isinstance(value, str) else value

    def as_datetime(value):
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    for row in bind.execute(sa.text(f"SELECT {columns} FROM programme")).mappings():
        parameters = {key: str((Decimal(int(row[key])) / 100).quantize(Decimal("0.01"))) for key in HUNDREDTHS}
        parameters.update({key: int(row[key]) for key in WHOLE})
        rows.append({"programme_id": row["id"], "number": 1, "status": "published",
                     "effective_from": as_date(row["opens_on"]), "parameters": parameters,
                     "note": "The programme's parameters when rule versions were introduced.",
                     "created_at": as_datetime(row["created_at"]), "published_at": as_datetime(row["created_at"])})
    if rows:
        op.bulk_insert(table, rows)


def downgrade():
    op.drop_index('ix_rule_version_programme_status', table_name='rule_version')
    op.drop_index('uq_rule_version_start', table_name='rule_version')
    op.drop_table('rule_version')
