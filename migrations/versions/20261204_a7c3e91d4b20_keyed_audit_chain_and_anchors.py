"""keyed audit chain and published anchors

``audit_event`` gets ``chain_seq`` (the event's position in the chain, set when its transaction
commits; unique) and ``key_id`` (the HMAC key that signed it).  Existing events keep their plain
SHA-256 hashes and an empty ``key_id`` (legacy: verified as before, and only allowed before the
first keyed event); their positions are numbered in id order.  ``audit_anchor`` holds the daily
published chain heads.

Revision ID: a7c3e91d4b20
Revises: 5430274d57bc
Create Date: 2026-12-04 04:30:00

"""
import sqlalchemy as sa
from alembic import op

from voucher.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'a7c3e91d4b20'
down_revision = '5430274d57bc'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=40), nullable=True))
    # Existing events in id order are positions 1..n (the order verify_chain followed).
    op.execute("UPDATE audit_event SET chain_seq = s.rn FROM "
               "(SELECT id, row_number() OVER (ORDER BY id) AS rn FROM audit_event) AS s "
               "WHERE audit_event.id = s.id")
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_chain_seq"), ["chain_seq"])
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("anchored_on", sa.Date(), nullable=False),
        sa.Column("anchored_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("chain_length", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("length(head_hash) = 64", name=op.f("ck_audit_anchor_head_hash_len")),
        sa.CheckConstraint("chain_length >= 0", name=op.f("ck_audit_anchor_chain_length_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchor")),
        sa.UniqueConstraint("anchored_on", name=op.f("uq_audit_anchor_anchored_on")),
    )


def downgrade():
    op.drop_table("audit_anchor")
    # Keyed events cannot be verified by the old code; the downgrade keeps them (their hashes stay).
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_chain_seq"), type_="unique")
        batch_op.drop_column("key_id")
        batch_op.drop_column("chain_seq")
