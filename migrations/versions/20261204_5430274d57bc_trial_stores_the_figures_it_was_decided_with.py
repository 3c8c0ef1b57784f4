"""trial stores the figures it was decided with

``trial.advance_pct`` is the programme's advance percentage the kick-off confirmation used to
split the approved amount (advance + balance), and ``trial.pass_score`` / ``trial.remarkable_score``
are the marks the outcome was decided with.  Documents and pages explain a past decision with
these, never with the programme's parameters of the day they are shown.

Backfill, for every trial already started (``advance_amount`` set) or evaluated (``outcome`` set):
the value in force when the decision was taken is recovered from the audit trail, i.e. the
``before`` value of the first ``programme.parameters_changed`` event of its programme that changed
the parameter *after* the decision's event (``trial.start``, ``trial.evaluate``; events are ordered
by id, the chain order).  Without such a change the programme's current value was in force.  For
the advance the recovered percentage is checked against the stored amounts (round_fen(approved ×
pct / 100) = advance); if it does not reproduce them but the current value does, the current value
is used; if neither does (the audit trail does not tell), the recovered value is kept and the trial
is named in the migration's log for an officer to check.

Plain ADD/DROP COLUMN without a CHECK (the value is copied from the programme, whose columns have
one): batch mode would rebuild ``trial``, which many tables reference.

Revision ID: 5430274d57bc
Revises: 5c0e2d7a91b4
Create Date: 2026-12-04 04:00:00

"""
import json
import logging
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import voucher.db

# revision identifiers, used by Alembic.
revision = '5430274d57bc'
down_revision = '5c0e2d7a91b4'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _json(value):
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else value


def _hundredths(value) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


def _changes(bind, programme_id: int) -> list[tuple[int, dict]]:
    rows = bind.execute(sa.text("SELECT id, before FROM audit_event WHERE action = 'programme.parameters_changed' "
                                "AND object_type = 'programme' AND object_id = :pid ORDER BY id"),
                        {"pid": str(programme_id)}).all()
    return [(row[0], _json(row[1])) for row in rows]


def _event_id(bind, action: str, trial_id: int) -> int | None:
    return bind.execute(sa.text("SELECT min(id) FROM audit_event WHERE action = :action AND object_type = 'trial' "
                                "AND object_id = :tid"), {"action": action, "tid": str(trial_id)}).scalar()


def _in_force(changes, name: str, after_event: int | None, current: int) -> int:
    """The parameter's stored value (hundredths) in force at ``after_event``."""
    if after_event is None:
        return current
    for event_id, before in changes:
        if event_id > after_event and name in before:
            return _hundredths(before[name])
    return current


def _advance_fen(approved_fen: int, pct_hundredths: int) -> int:
    return (approved_fen * pct_hundredths + 5000) // 10000  # half up, non-negative figures


def upgrade():
    op.add_column('trial', sa.Column('advance_pct', voucher.db.Percent(), nullable=True))
    op.add_column('trial', sa.Column('pass_score', voucher.db.Percent(), nullable=True))
    op.add_column('trial', sa.Column('remarkable_score', voucher.db.Percent(), nullable=True))
    bind = op.get_bind()
    programmes = {row[0]: row[1:] for row in bind.execute(sa.text(
        "SELECT id, advance_pct, pass_score, remarkable_score FROM programme")).all()}
    changes = {pid: _changes(bind, pid) for pid in programmes}
    trials = bind.execute(sa.text("SELECT id, programme_id, approved_amount, advance_amount, outcome FROM trial "
                                  "WHERE advance_amount IS NOT NULL OR outcome IS NOT NULL ORDER BY id")).all()
    for trial_id, pid, approved, advance, outcome in trials:
        current_advance, current_pass, current_remarkable = programmes[pid]
        values = {}
        if advance is not None:
            recovered = _in_force(changes[pid], "advance_pct", _event_id(bind, "trial.start", trial_id),
                                  current_advance)
            pct = recovered
            if _advance_fen(approved, recovered) != advance:
                if _advance_fen(approved, current_advance) == advance:
                    pct = current_advance
                else:
                    log.warning("trial %s: neither the recovered advance percentage (%s) nor the programme's "
                                "current one (%s) gives its stored advance; kept %s, check it", trial_id,
                                recovered / 100, current_advance / 100, recovered / 100)
            values["advance_pct"] = pct
        if outcome is not None:
            evaluated = _event_id(bind, "trial.evaluate", trial_id)
            values["pass_score"] = _in_force(changes[pid], "pass_score", evaluated, current_pass)
            values["remarkable_score"] = _in_force(changes[pid], "remarkable_score", evaluated, current_remarkable)
        sets = ", ".join(f"{k} = :{k}" for k in values)
        bind.execute(sa.text(f"UPDATE trial SET {sets} WHERE id = :id"), {**values, "id": trial_id})


def downgrade():
    op.drop_column('trial', 'remarkable_score')
    op.drop_column('trial', 'pass_score')
    op.drop_column('trial', 'advance_pct')
