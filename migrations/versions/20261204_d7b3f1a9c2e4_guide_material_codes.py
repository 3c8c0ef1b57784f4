"""guide materials use the application form's codes

The application forms now read the programme guide's 材料清单 (one source).  The trial voucher's
guide called two materials ``need_statement`` and ``trial_contract`` where the form (and every file
already uploaded, ``stored_file.material``) says ``trial_plan`` and ``quotation``: saved guide
versions are renamed to the form's codes, so an uploaded file keeps counting for its material.
A version that already has the target code keeps its row as it is.

Revision ID: d7b3f1a9c2e4
Revises: c5a2e7b90d13
Create Date: 2026-12-04 11:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd7b3f1a9c2e4'
down_revision = 'c5a2e7b90d13'
branch_labels = None
depends_on = None

RENAMES = (("need_statement", "trial_plan"), ("trial_contract", "quotation"))


def _rename(old: str, new: str) -> None:
    op.get_bind().execute(sa.text(
        "UPDATE guide_material SET code = :new WHERE code = :old"
        " AND version_id IN (SELECT v.id FROM guide_version v JOIN programme_guide g ON g.id = v.guide_id"
        "                    WHERE g.kind = 'trial_voucher')"
        " AND NOT EXISTS (SELECT 1 FROM guide_material gm2"
        "                 WHERE gm2.version_id = guide_material.version_id AND gm2.code = :new)"),
        {"old": old, "new": new})


def upgrade():
    for old, new in RENAMES:
        _rename(old, new)


def downgrade():
    for old, new in RENAMES:
        _rename(new, old)
