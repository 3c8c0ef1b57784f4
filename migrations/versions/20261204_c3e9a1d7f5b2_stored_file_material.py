"""stored file: which material of the checklist an uploaded file is

``stored_file.material`` (nullable): the checklist item (``voucher.materials``) an upload belongs
to, so a submission can be refused while a required material has no file.  Existing rows stay
NULL (generated documents, and uploads made before the checklist; the trial-application uploads
among them count as "other supporting documents").

Revision ID: c3e9a1d7f5b2
Revises: c4e2a9d17b35
Create Date: 2026-12-04 07:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3e9a1d7f5b2'
down_revision = 'c4e2a9d17b35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stored_file") as batch_op:
        batch_op.add_column(sa.Column("material", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("stored_file") as batch_op:
        batch_op.drop_column("material")
