"""loan interest period: the day segments of the per-enterprise daily principal cap

``loan_interest_period.segments`` (JSON, nullable): when earlier approved claims of the enterprise
used part of its daily principal cap on a period's days, the day segments the discount was
computed on.  Existing rows stay NULL (the whole period at its eligible principal).

Revision ID: b8d41f0c2e6a
Revises: b81d5f3c2e07
Create Date: 2026-12-04 05:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8d41f0c2e6a'
down_revision = 'b81d5f3c2e07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("loan_interest_period") as batch_op:
        batch_op.add_column(sa.Column("segments", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("loan_interest_period") as batch_op:
        batch_op.drop_column("segments")
