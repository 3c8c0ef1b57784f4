"""one application number (受理编号) per application; notification preferences

``number`` on ``trial_application``, ``loan_application`` and ``robot_application``: the kind
prefix (SY trial, TX loan, JQ robot), the programme's year and the row id padded to six digits
(``voucher.appnumbers.format_number``), under a UNIQUE index.  Existing rows are numbered here
with the same function the application uses for new rows, so a number once shown never changes.

``notification_preference``: per user, in-app / e-mail / SMS and the SMS number (a user without a
row has the defaults: in-app and e-mail on, SMS off).

A unique index rather than a table constraint: adding a constraint rebuilds the table on SQLite
(batch mode), and other tables reference these three.

Revision ID: c4e2a9d17b35
Revises: c4e8a2f61d93
Create Date: 2026-12-04 07:10:00

"""
import sqlalchemy as sa
from alembic import op

from voucher.appnumbers import format_number
from voucher.db import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'c4e2a9d17b35'
down_revision = 'c4e8a2f61d93'
branch_labels = None
depends_on = None

TABLES = ("trial_application", "loan_application", "robot_application")


def upgrade():
    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("sms", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("NOT sms OR phone IS NOT NULL", name=op.f("ck_notification_preference_sms_needs_phone")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_notification_preference_user_id_user_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preference")),
    )
    bind = op.get_bind()
    for table in TABLES:
        op.add_column(table, sa.Column("number", sa.String(length=20), nullable=True))
        rows = bind.execute(sa.text(f"SELECT a.id, p.year FROM {table} a JOIN programme p ON p.id = a.programme_id")).all()
        for row_id, year in rows:
            bind.execute(sa.text(f"UPDATE {table} SET number = :n WHERE id = :i"),
                         {"n": format_number(table, year, row_id), "i": row_id})
        op.create_index(op.f(f"ix_{table}_number"), table, ["number"], unique=True)
    _renumber_subsidy_notifications(bind)


def _renumber_subsidy_notifications(bind):
    """Stored loan/robot notifications ("... application no. %(id)s ...") name the application by the
    number from now on: their ``id`` parameter becomes the number (found from the link)."""
    notification = sa.table("notification", sa.column("id", sa.Integer), sa.column("message", sa.String),
                            sa.column("params", sa.JSON), sa.column("link", sa.String))
    numbers = {}
    for kind, table in (("loans", "loan_application"), ("robots", "robot_application")):
        for row_id, number in bind.execute(sa.text(f"SELECT id, number FROM {table}")):
            numbers[f"/subsidies/{kind}/{row_id}"] = number
    rows = bind.execute(sa.select(notification.c.id, notification.c.params, notification.c.link)
                        .where(notification.c.message.like("%application no. %(id)s%"),
                               notification.c.link.like("/subsidies/%"))).all()
    for row_id, params, link in rows:
        if link in numbers and isinstance(params, dict) and "id" in params:
            bind.execute(notification.update().where(notification.c.id == row_id)
                         .values(params={**params, "id": numbers[link]}))


def downgrade():
    for table in reversed(TABLES):
        op.drop_index(op.f(f"ix_{table}_number"), table_name=table)
        op.drop_column(table, "number")
    op.drop_table("notification_preference")
