"""public notice: when finance was told its grants became payable

``public_notice.payable_announced_at`` marks the notice whose ended period was announced to the
finance officers (``payments.services.announce_payable_notices``), so it is announced once.

Plain ADD/DROP COLUMN (SQLite 3.35+ has both): batch mode would rebuild ``public_notice`` on
SQLite, and with foreign keys enforced that endangers its items and objections.

Revision ID: 078db09306d4
Revises: f3c99e999af9
Create Date: 2026-11-22 02:12:37.071717

"""
from alembic import op
import sqlalchemy as sa
import voucher.db


# revision identifiers, used by Alembic.
revision = '078db09306d4'
down_revision = 'f3c99e999af9'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('public_notice', sa.Column('payable_announced_at', voucher.db.UTCDateTime(timezone=True),
                                             nullable=True))


def downgrade():
    op.drop_column('public_notice', 'payable_announced_at')
