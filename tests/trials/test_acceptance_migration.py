"""The acceptance migration on a SQLite database full of demo data: trials already past their
evaluation count as accepted (due from their evaluation, as before), every other trial starts
pending; no row is lost, forward and back."""
from __future__ import annotations

from sqlalchemy import text

from voucher.extensions import db

BEFORE = "ee82231f9143"  # the revision before acceptance
TABLES = ("trial", "trial_milestone", "evaluator_assignment", "trial_evaluation", "trial_application")


def _counts() -> dict[str, int]:
    return {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}


def test_trials_past_their_evaluation_count_as_accepted_and_the_rest_start_pending(migration_db):
    assert db.session.execute(text("SELECT count(*) FROM trial_acceptance")).scalar() > 0
    migration_db.downgrade(BEFORE)
    columns = {row[1] for row in db.session.execute(text("PRAGMA table_info(trial)"))}
    assert "acceptance_status" not in columns and "early_finish_reason" not in columns
    before = _counts()
    trials = db.session.execute(text("SELECT id, status, outcome, evaluated_at FROM trial ORDER BY id")).all()
    statuses = {t.status for t in trials}
    assert {"evaluated", "closed", "completed", "running", "open"} <= statuses

    migration_db.upgrade()
    assert _counts() == before
    after = {r.id: r for r in db.session.execute(text(
        "SELECT id, status, acceptance_status, accepted_at, evaluated_at FROM trial ORDER BY id")).all()}
    for t in trials:
        row = after[t.id]
        if t.outcome is not None or t.status in ("evaluated", "closed"):
            assert row.acceptance_status == "accepted", t
            assert row.accepted_at == row.evaluated_at  # the balance stays due from its evaluation
        else:
            assert (row.acceptance_status, row.accepted_at) == ("pending", None), t
    assert db.session.execute(text("SELECT count(*) FROM trial_acceptance")).scalar() == 0
    assert db.session.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1

    # The rule, read back through the models: a passed trial evaluated before the migration keeps its
    # balance payable (or paid), a completed one now waits for both acceptances.
    from voucher.trials.models import Trial
    from voucher.trials.queries import balance_due

    db.session.remove()
    for trial in db.session.scalars(db.select(Trial)):
        if trial.outcome == "passed":
            assert balance_due(trial)
        if trial.status == "completed":
            assert not balance_due(trial)

    migration_db.downgrade(BEFORE)
    assert _counts() == before
