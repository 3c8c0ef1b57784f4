"""benefits without applying (免申即享): the bureau's imported sources and the candidates matched from them

``benefit_source``: one import (kind CHECK, UNIQUE kind + SHA-256, row counts, the refused rows' report);
its rows ``benefit_loan_line``, ``benefit_invoice``, ``benefit_blacklist``; ``benefit_candidate`` (kind and
status CHECK, UNIQUE key) and ``benefit_claim`` (UNIQUE claim key: an invoice or a loan's period in one
candidate only).  New tables only: nothing existing changes.

Revision ID: b3e1f7a9c5d2
Revises: b2d7e4a9c5f1
Create Date: 2026-12-04 21:14:26.498464

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3e1f7a9c5d2'
down_revision = 'b2d7e4a9c5f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('benefit_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('district', sa.String(length=20), nullable=False),
    sa.Column('industry', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('working', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('exclusion_reason', sa.JSON(), nullable=True),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.String(length=2000), nullable=True),
    sa.Column('payee_account', sa.String(length=64), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('robot','loan')", name=op.f('ck_benefit_candidate_kind')),
    sa.CheckConstraint("status IN ('open','confirmed','declined','excluded')", name=op.f('ck_benefit_candidate_status')),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], name=op.f('fk_benefit_candidate_decided_by_user_account')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['organisation.id'], name=op.f('fk_benefit_candidate_enterprise_id_organisation')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_benefit_candidate_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_candidate')),
    sa.UniqueConstraint('key', name=op.f('uq_benefit_candidate_key'))
    )
    with op.batch_alter_table('benefit_candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_candidate_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_candidate_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index('ix_benefit_candidate_status_kind', ['status', 'kind', 'id'], unique=False)

    op.create_table('benefit_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('refused_count', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('imported_by', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('loan_statement','robot_invoice','blacklist')", name=op.f('ck_benefit_source_kind')),
    sa.ForeignKeyConstraint(['imported_by'], ['user_account.id'], name=op.f('fk_benefit_source_imported_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_source')),
    sa.UniqueConstraint('kind', 'sha256', name=op.f('uq_benefit_source_kind'))
    )
    with op.batch_alter_table('benefit_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_source_imported_at'), ['imported_at'], unique=False)

    op.create_table('benefit_blacklist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('listed_from', sa.Date(), nullable=False),
    sa.Column('listed_to', sa.Date(), nullable=True),
    sa.Column('listed_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['benefit_source.id'], name=op.f('fk_benefit_blacklist_source_id_benefit_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_blacklist'))
    )
    with op.batch_alter_table('benefit_blacklist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_blacklist_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_blacklist_uscc'), ['uscc'], unique=False)

    op.create_table('benefit_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('claim_key', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['benefit_candidate.id'], name=op.f('fk_benefit_claim_candidate_id_benefit_candidate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_claim')),
    sa.UniqueConstraint('claim_key', name=op.f('uq_benefit_claim_claim_key'))
    )
    with op.batch_alter_table('benefit_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_claim_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('benefit_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('invoice_no', sa.String(length=64), nullable=False),
    sa.Column('invoice_key', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.Column('manufacturer', sa.String(length=200), nullable=False),
    sa.Column('domestic', sa.Boolean(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount_excl_vat', sa.BigInteger(), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['benefit_source.id'], name=op.f('fk_benefit_invoice_source_id_benefit_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_invoice'))
    )
    with op.batch_alter_table('benefit_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_invoice_invoice_key'), ['invoice_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_invoice_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_invoice_uscc'), ['uscc'], unique=False)

    op.create_table('benefit_loan_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('lender', sa.String(length=200), nullable=False),
    sa.Column('contract_no', sa.String(length=64), nullable=False),
    sa.Column('contract_key', sa.String(length=64), nullable=False),
    sa.Column('contract_date', sa.Date(), nullable=False),
    sa.Column('loan_rate', sa.BigInteger(), nullable=False),
    sa.Column('outstanding_principal', sa.BigInteger(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('interest_paid', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['benefit_source.id'], name=op.f('fk_benefit_loan_line_source_id_benefit_source')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_loan_line'))
    )
    with op.batch_alter_table('benefit_loan_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_loan_line_source_id'), ['source_id'], unique=False)
        batch_op.create_index('ix_benefit_loan_line_uscc_contract', ['uscc', 'contract_key'], unique=False)



def downgrade():
    with op.batch_alter_table('benefit_loan_line', schema=None) as batch_op:
        batch_op.drop_index('ix_benefit_loan_line_uscc_contract')
        batch_op.drop_index(batch_op.f('ix_benefit_loan_line_source_id'))

    op.drop_table('benefit_loan_line')
    with op.batch_alter_table('benefit_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benefit_invoice_uscc'))
        batch_op.drop_index(batch_op.f('ix_benefit_invoice_source_id'))
        batch_op.drop_index(batch_op.f('ix_benefit_invoice_invoice_key'))

    op.drop_table('benefit_invoice')
    with op.batch_alter_table('benefit_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benefit_claim_candidate_id'))

    op.drop_table('benefit_claim')
    with op.batch_alter_table('benefit_blacklist', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benefit_blacklist_uscc'))
        batch_op.drop_index(batch_op.f('ix_benefit_blacklist_source_id'))

    op.drop_table('benefit_blacklist')
    with op.batch_alter_table('benefit_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benefit_source_imported_at'))

    op.drop_table('benefit_source')
    with op.batch_alter_table('benefit_candidate', schema=None) as batch_op:
        batch_op.drop_index('ix_benefit_candidate_status_kind')
        batch_op.drop_index(batch_op.f('ix_benefit_candidate_programme_id'))
        batch_op.drop_index(batch_op.f('ix_benefit_candidate_enterprise_id'))

    op.drop_table('benefit_candidate')
