"""programme guides (办事指南): one guide per programme and kind, saved as versions

``programme_guide`` (one row per programme and kind, pointing at its current version),
``guide_version`` (each saved text in Chinese and English; written once) and ``guide_material``
(the materials checklist of a version, as rows other domains read).  New tables only.

Revision ID: ee82231f9143
Revises: b8d41f0c2e6a
Create Date: 2026-12-04 07:11:45.166471

"""
from alembic import op
import sqlalchemy as sa
import voucher.db


# revision identifiers, used by Alembic.
revision = 'ee82231f9143'
down_revision = 'b8d41f0c2e6a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('programme_guide',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('updated_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('trial_voucher','loan_discount','robot_subsidy')", name=op.f('ck_programme_guide_kind')),
    sa.CheckConstraint('current_version >= 1', name=op.f('ck_programme_guide_current_version_positive')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_guide_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_guide')),
    sa.UniqueConstraint('programme_id', 'kind', name='uq_programme_guide_programme_kind')
    )
    op.create_table('guide_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guide_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('saved_by', sa.Integer(), nullable=True),
    sa.Column('saved_by_label', sa.String(length=200), nullable=False),
    sa.Column('saved_at', voucher.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('change_note', sa.String(length=300), nullable=False),
    sa.Column('eligibility_zh', sa.Text(), nullable=False),
    sa.Column('eligibility_en', sa.Text(), nullable=False),
    sa.Column('enterprise_pays_zh', sa.Text(), nullable=False),
    sa.Column('enterprise_pays_en', sa.Text(), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('contact_hours_zh', sa.String(length=200), nullable=False),
    sa.Column('contact_hours_en', sa.String(length=200), nullable=False),
    sa.Column('basis', sa.JSON(), nullable=False),
    sa.Column('faq', sa.JSON(), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_guide_version_version_positive')),
    sa.ForeignKeyConstraint(['guide_id'], ['programme_guide.id'], name=op.f('fk_guide_version_guide_id_programme_guide')),
    sa.ForeignKeyConstraint(['saved_by'], ['user_account.id'], name=op.f('fk_guide_version_saved_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guide_version')),
    sa.UniqueConstraint('guide_id', 'version', name='uq_guide_version_guide_version')
    )
    op.create_table('guide_material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('formats', sa.String(length=40), nullable=False),
    sa.Column('note_zh', sa.String(length=500), nullable=False),
    sa.Column('note_en', sa.String(length=500), nullable=False),
    sa.CheckConstraint('position >= 1', name=op.f('ck_guide_material_position_positive')),
    sa.ForeignKeyConstraint(['version_id'], ['guide_version.id'], name=op.f('fk_guide_material_version_id_guide_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guide_material')),
    sa.UniqueConstraint('version_id', 'code', name='uq_guide_material_version_code'),
    sa.UniqueConstraint('version_id', 'position', name='uq_guide_material_version_position')
    )
    with op.batch_alter_table('guide_material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guide_material_version_id'), ['version_id'], unique=False)



def downgrade():
    with op.batch_alter_table('guide_material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guide_material_version_id'))

    op.drop_table('guide_material')
    op.drop_table('guide_version')
    op.drop_table('programme_guide')
