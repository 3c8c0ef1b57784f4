"""trial acceptance before the balance

Acceptance (验收): the enterprise and the provider each confirm the delivered scope against the
application (``trial_acceptance``: one form per party, never edited), tracked on the trial by
``acceptance_status`` (pending → sme_accepted | provider_accepted → accepted) and ``accepted_at``.
The 70% balance is payable only once accepted by both and the evaluation passed.  Also
``early_finish_days`` / ``early_finish_reason``: a final report confirmed more than 30% of the trial
period before the planned end needs the enterprise's reason.

Existing trials: a trial already past its evaluation (``outcome`` recorded, i.e. status evaluated or
closed) counts as accepted — its balance was payable (or paid, or released) under the old rule and
stays so; ``accepted_at`` is its ``evaluated_at``, so the balance's due date (and payment deadline)
does not move.  It has no acceptance forms: the pages say it was accepted before acceptance forms
existed.  Every other trial (open, running, completed, cancelled) starts ``pending``: a completed
trial awaiting its evaluation now also needs both parties' acceptance before the balance is paid.
Downgrade drops the forms and the columns (the old rule pays the balance on a passed evaluation).

Written by hand for the CHECK of ``acceptance_status`` (autogenerate does not compare CHECKs).
SQLite rebuilds ``trial`` in batch mode (``migrations/env.py`` turns foreign keys off for the run;
the rebuild is checked with ``PRAGMA foreign_key_check`` and a row count before this commits).

Revision ID: c4a9e2b7d1f3
Revises: ee82231f9143
Create Date: 2026-12-04 07:10:00

"""
import sqlalchemy as sa
from alembic import op

import voucher.db

# revision identifiers, used by Alembic.
revision = 'c4a9e2b7d1f3'
down_revision = 'ee82231f9143'
branch_labels = None
depends_on = None

ACCEPTANCE_STATES = ("pending", "sme_accepted", "provider_accepted", "accepted")


def _checked(bind, rows_before: int) -> None:
    if bind.dialect.name == "sqlite":
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rebuilding trial left rows without their parent: {broken[:5]}")
    rows_after = bind.execute(sa.text("SELECT count(*) FROM trial")).scalar()
    if rows_after != rows_before:
        raise RuntimeError(f"trial: {rows_before} rows before the rebuild, {rows_after} after")


def upgrade():
    bind = op.get_bind()
    rows_before = bind.execute(sa.text("SELECT count(*) FROM trial")).scalar()
    with op.batch_alter_table("trial") as batch_op:
        batch_op.add_column(sa.Column("early_finish_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("early_finish_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("acceptance_status", sa.String(length=20), nullable=False,
                                      server_default="pending"))
        batch_op.add_column(sa.Column("accepted_at", voucher.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_trial_acceptance_status"),
            "acceptance_status IN ({})".format(",".join(f"'{s}'" for s in ACCEPTANCE_STATES)))
    _checked(bind, rows_before)
    # Past the evaluation under the old rule: counts as accepted, due from the evaluation as before.
    op.execute("UPDATE trial SET acceptance_status = 'accepted', accepted_at = evaluated_at "
               "WHERE outcome IS NOT NULL OR status IN ('evaluated', 'closed')")

    op.create_table(
        "trial_acceptance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=10), nullable=False),
        sa.Column("delivered_scope", sa.Text(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", voucher.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("party IN ('sme','provider')", name=op.f("ck_trial_acceptance_party")),
        sa.ForeignKeyConstraint(["confirmed_by"], ["user_account.id"],
                                name=op.f("fk_trial_acceptance_confirmed_by_user_account")),
        sa.ForeignKeyConstraint(["file_id"], ["stored_file.id"], name=op.f("fk_trial_acceptance_file_id_stored_file")),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"], name=op.f("fk_trial_acceptance_trial_id_trial")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_acceptance")),
        sa.UniqueConstraint("trial_id", "party", name="uq_trial_acceptance_trial_party"),
    )
    with op.batch_alter_table("trial_acceptance") as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_acceptance_trial_id"), ["trial_id"], unique=False)


def downgrade():
    with op.batch_alter_table("trial_acceptance") as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_acceptance_trial_id"))
    op.drop_table("trial_acceptance")
    bind = op.get_bind()
    rows_before = bind.execute(sa.text("SELECT count(*) FROM trial")).scalar()
    with op.batch_alter_table("trial") as batch_op:
        batch_op.drop_constraint(op.f("ck_trial_acceptance_status"), type_="check")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("acceptance_status")
        batch_op.drop_column("early_finish_reason")
        batch_op.drop_column("early_finish_days")
    _checked(bind, rows_before)
