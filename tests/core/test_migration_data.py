"""A migration that rebuilds a table keeps every row: the trial status migration run on a SQLite
database full of demo data (trials with milestones, assignments and evaluations referencing them),
forward and back."""
from __future__ import annotations

from sqlalchemy import text

from voucher.extensions import db

BEFORE = "49a5642153a0"  # the revision before trials could be cancelled
TABLES = ("trial", "trial_milestone", "evaluator_assignment", "trial_evaluation", "trial_application")


def _counts() -> dict[str, int]:
    return {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}


def test_the_trial_status_migration_keeps_every_row_and_cancels_stranded_trials(migration_db):
    migration_db.downgrade(BEFORE)
    # As the older code left it: an approval cancelled, its trial still open.
    stranded = db.session.execute(text(
        "SELECT trial.id, trial.application_id FROM trial WHERE status = 'open' ORDER BY id")).first()
    assert stranded is not None, "the demo data has an open trial"
    db.session.execute(text("UPDATE trial_application SET status = 'cancelled' WHERE id = :a"),
                       {"a": stranded.application_id})
    db.session.commit()
    before = _counts()
    assert before["trial_milestone"] > 0 and before["trial_evaluation"] > 0
    statuses = dict(db.session.execute(text("SELECT id, status FROM trial")).tuples().all())

    migration_db.upgrade()
    assert _counts() == before
    after = dict(db.session.execute(text("SELECT id, status FROM trial")).tuples().all())
    assert after == {**statuses, stranded.id: "cancelled"}
    assert db.session.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1  # enforced again after the run

    migration_db.downgrade(BEFORE)
    assert _counts() == before
    assert dict(db.session.execute(text("SELECT id, status FROM trial")).tuples().all()) == statuses
