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


def test_the_trial_status_migration_keeps_every_row_and_cancels_stranded_trials(tmp_path, redis_url):
    from flask_migrate import downgrade, upgrade

    from voucher import create_app
    from voucher.config import TestConfig
    from voucher.demo import seed

    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrate.db'}",
                      "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": redis_url})
    with app.app_context():
        try:
            # The demo is seeded by today's models, so at the head, then taken back to the revision.
            upgrade()
            seed()
            db.session.commit()
            db.session.remove()
            downgrade(revision=BEFORE)
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
            db.session.remove()

            upgrade()
            assert _counts() == before
            after = dict(db.session.execute(text("SELECT id, status FROM trial")).tuples().all())
            assert after == {**statuses, stranded.id: "cancelled"}
            assert db.session.execute(text("PRAGMA foreign_key_check")).fetchall() == []
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1  # enforced again after the run
            db.session.remove()

            downgrade(revision=BEFORE)
            assert _counts() == before
            assert dict(db.session.execute(text("SELECT id, status FROM trial")).tuples().all()) == statuses
        finally:
            db.session.remove()
            db.engine.dispose()
