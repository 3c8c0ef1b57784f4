"""working-day calendar entered by the bureau

A programme officer enters a year's holiday arrangement from the State Council's notice
(``calendar_year`` and its ``calendar_day`` rows); working days are counted with it in preference
to the chinese-calendar package, which learns each new year only some weeks after the notice.
New tables only: nothing existing changes.

Revision ID: 49a5642153a0
Revises: 078db09306d4
Create Date: 2026-11-22 07:53:51.311948

"""
from alembic import op
import sqlalchemy as sa
import voucher.db


# revision identifiers, used by Alembic.
revision = '49a5642153a0'
down_revision = '078db09306d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calendar_year',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('entered_by', sa.Integer(), nullable=False),
    sa.Column('entered_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_calendar_year_revision_positive')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_calendar_year_year_range')),
    sa.ForeignKeyConstraint(['entered_by'], ['user_account.id'], name=op.f('fk_calendar_year_entered_by_user_account')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_year'))
    )
    op.create_table('calendar_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['year'], ['calendar_year.year'], name=op.f('fk_calendar_day_year_calendar_year'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_day'))
    )
    with op.batch_alter_table('calendar_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_day_year'), ['year'], unique=False)



def downgrade():
    with op.batch_alter_table('calendar_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_day_year'))

    op.drop_table('calendar_day')
    op.drop_table('calendar_year')
