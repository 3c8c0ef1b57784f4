"""bank code (联行号, CNAPS): on the payee's bank details and copied onto each disbursement

``organisation.bank_code`` and ``disbursement.bank_code`` (12 digits, nullable).  Existing rows stay
NULL: a payee without a bank code can still be prepared and approved, but the bank file refuses a
line without one, naming the disbursement (finance enters the code on the disbursement's bank
details, or the payee on its profile, and prepares again).

Revision ID: c5a2e7b90d13
Revises: c3e9a1d7f5b2
Create Date: 2026-12-04 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c5a2e7b90d13'
down_revision = 'c3e9a1d7f5b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.add_column(sa.Column("bank_code", sa.String(length=12), nullable=True))
    with op.batch_alter_table("disbursement") as batch_op:
        batch_op.add_column(sa.Column("bank_code", sa.String(length=12), nullable=True))


def downgrade():
    with op.batch_alter_table("disbursement") as batch_op:
        batch_op.drop_column("bank_code")
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.drop_column("bank_code")
