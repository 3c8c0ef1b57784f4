"""decisions name their rule version (issue 19 §3): ``rule_version_id`` and ``rule_inputs``

Each decision stores the programme's rule version it was made under and a snapshot of its inputs:
trial applications (approval), robot and loan applications (the calculation), trials (the
evaluation outcome) and benefit candidates (the match).  Decided rows made before rule versions get
their programme's version 1 (the version the rule-version migration gave every programme, holding
the parameters they were made with); their ``rule_inputs`` stay empty ("made before rule versions").

Revision ID: d7e1b4c9a2f5
Revises: c4a9e2f7b1d3
Create Date: 2026-12-05 00:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd7e1b4c9a2f5'
down_revision = 'c4a9e2f7b1d3'
branch_labels = None
depends_on = None

# table -> which of its rows are decided (made under a rule version)
DECIDED = {
    "trial_application": "decided_at IS NOT NULL AND status NOT IN ('rejected', 'returned', 'withdrawn')",
    "robot_application": "submitted_at IS NOT NULL",
    "loan_application": "submitted_at IS NOT NULL",
    "trial": "outcome IS NOT NULL",
    "benefit_candidate": "1 = 1",
}


def upgrade():
    for table in DECIDED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("rule_version_id", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("rule_inputs", sa.JSON(), nullable=True))
            batch_op.create_foreign_key(op.f(f"fk_{table}_rule_version_id_rule_version"), "rule_version",
                                        ["rule_version_id"], ["id"])
            batch_op.create_index(f"ix_{table}_rule_version_id", ["rule_version_id"])
    for table, decided in DECIDED.items():
        op.execute(sa.text(
            f"UPDATE {table} SET rule_version_id = (SELECT rv.id FROM rule_version rv "
            f"WHERE rv.programme_id = {table}.programme_id AND rv.number = 1) WHERE {decided}"))


def downgrade():
    for table in DECIDED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"ix_{table}_rule_version_id")
            batch_op.drop_constraint(op.f(f"fk_{table}_rule_version_id_rule_version"), type_="foreignkey")
            batch_op.drop_column("rule_inputs")
            batch_op.drop_column("rule_version_id")
