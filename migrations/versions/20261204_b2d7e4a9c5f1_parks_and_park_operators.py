"""parks (小微企业园) and park operators (园区运营方), issue 20 §3

``park``: name (UNIQUE), district, the operator organisation.  ``park_membership``: an enterprise's
membership of a park, pending → confirmed / declined (reason, CHECK) / left; at most one live
(pending or confirmed) per enterprise (partial UNIQUE index).  A new role ``park_operator``
(CHECK on ``user_account.role``) and a new organisation kind ``park`` (CHECK on ``organisation.kind``).

Written by hand (autogenerate does not compare CHECK constraints).  PostgreSQL drops and re-adds the
named constraints in place; SQLite rebuilds the two tables in batch mode (``migrations/env.py`` turns
foreign keys off for the run) and the rebuild is checked before this migration commits.  Downgrading
keeps the park operators' accounts, deactivated (role ``sme`` without an organisation), and removes the
park organisations.

Revision ID: b2d7e4a9c5f1
Revises: a7d3e5f1c9b2
Create Date: 2026-12-04 21:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b2d7e4a9c5f1'
down_revision = 'a7d3e5f1c9b2'
branch_labels = None
depends_on = None

ROLES_BEFORE = ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin")
ROLES_AFTER = ROLES_BEFORE + ("park_operator",)
KINDS_BEFORE = ("enterprise", "provider", "evaluation", "bureau")
KINDS_AFTER = KINDS_BEFORE + ("park",)
LIVE = "status IN ('pending','confirmed')"


def _in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


def _counts(bind) -> dict:
    return {t: bind.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in ("user_account", "organisation")}


def _check_rebuild(bind, counts: dict) -> None:
    if bind.dialect.name != "sqlite":
        return
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"rebuilding left rows without their parent: {broken[:5]}")
    for table, before in counts.items():
        after = bind.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
        if after != before:
            raise RuntimeError(f"{table}: {before} rows before the rebuild, {after} after")


def _set_checks(roles, kinds) -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_account_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_user_account_role"), f"role IN ({_in(roles)})")
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.drop_constraint(op.f("ck_organisation_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_organisation_kind"), f"kind IN ({_in(kinds)})")


def upgrade():
    bind = op.get_bind()
    counts = _counts(bind)
    _set_checks(ROLES_AFTER, KINDS_AFTER)
    _check_rebuild(bind, counts)
    op.create_table(
        "park",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("district", sa.String(length=20), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["organisation.id"], name=op.f("fk_park_operator_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_park")),
        sa.UniqueConstraint("name", name=op.f("uq_park_name")),
    )
    op.create_index(op.f("ix_park_district"), "park", ["district"], unique=False)
    op.create_index(op.f("ix_park_operator_id"), "park", ["operator_id"], unique=False)
    op.create_table(
        "park_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.String(length=1000), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending','confirmed','declined','left')",
                           name=op.f("ck_park_membership_status")),
        sa.CheckConstraint("status <> 'declined' OR decline_reason IS NOT NULL",
                           name=op.f("ck_park_membership_declined_has_reason")),
        sa.ForeignKeyConstraint(["park_id"], ["park.id"], name=op.f("fk_park_membership_park_id_park")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["organisation.id"],
                                name=op.f("fk_park_membership_enterprise_id_organisation")),
        sa.ForeignKeyConstraint(["requested_by"], ["user_account.id"],
                                name=op.f("fk_park_membership_requested_by_user_account")),
        sa.ForeignKeyConstraint(["decided_by"], ["user_account.id"],
                                name=op.f("fk_park_membership_decided_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_park_membership")),
    )
    op.create_index(op.f("ix_park_membership_enterprise_id"), "park_membership", ["enterprise_id"], unique=False)
    op.create_index("ix_park_membership_park_status", "park_membership", ["park_id", "status", "enterprise_id"],
                    unique=False)
    op.create_index("uq_park_membership_live", "park_membership", ["enterprise_id"], unique=True,
                    postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))


def downgrade():
    op.drop_index("uq_park_membership_live", table_name="park_membership")
    op.drop_index("ix_park_membership_park_status", table_name="park_membership")
    op.drop_index(op.f("ix_park_membership_enterprise_id"), table_name="park_membership")
    op.drop_table("park_membership")
    op.drop_index(op.f("ix_park_operator_id"), table_name="park")
    op.drop_index(op.f("ix_park_district"), table_name="park")
    op.drop_table("park")
    bind = op.get_bind()
    # The older schema knows no park operator: their accounts are kept (their audit events name them)
    # but deactivated, as SME accounts of no enterprise that cannot sign in; the park organisations,
    # which nothing else references once the parks are gone, are removed.
    bind.execute(sa.text("UPDATE user_account SET role = 'sme', organisation_id = NULL, active = :off "
                         "WHERE role = 'park_operator'"), {"off": False})
    bind.execute(sa.text("DELETE FROM organisation WHERE kind = 'park'"))
    counts = _counts(bind)
    _set_checks(ROLES_BEFORE, KINDS_BEFORE)
    _check_rebuild(bind, counts)
