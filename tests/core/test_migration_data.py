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


RULE_BEFORE = "c4a9e2f7b1d3"  # rule versions, before decisions named theirs
DECISION_TABLES = {"trial_application": "decided_at IS NOT NULL AND status NOT IN ('rejected', 'returned', "
                                        "'withdrawn')",
                   "robot_application": "submitted_at IS NOT NULL", "loan_application": "submitted_at IS NOT NULL",
                   "trial": "outcome IS NOT NULL", "benefit_candidate": "1 = 1"}


def _columns(table: str) -> set[str]:
    return {row[1] for row in db.session.execute(text(f"PRAGMA table_info({table})"))}


def test_the_decision_rule_version_migration_gives_decided_rows_version_1(migration_db):
    migration_db.downgrade(RULE_BEFORE)
    assert all("rule_version_id" not in _columns(t) for t in DECISION_TABLES)
    counts = {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in DECISION_TABLES}
    decided = {t: db.session.execute(text(f"SELECT count(*) FROM {t} WHERE {w}")).scalar()
               for t, w in DECISION_TABLES.items()}
    assert decided["trial_application"] > 0 and decided["robot_application"] > 0 and decided["trial"] > 0

    migration_db.upgrade()
    for table, where in DECISION_TABLES.items():
        assert db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar() == counts[table]
        named = db.session.execute(text(
            f"SELECT count(*) FROM {table} t JOIN rule_version rv ON rv.id = t.rule_version_id "
            f"WHERE rv.number = 1 AND rv.programme_id = t.programme_id AND t.rule_inputs IS NULL")).scalar()
        assert named == decided[table], table
        assert db.session.execute(text(
            f"SELECT count(*) FROM {table} WHERE NOT ({where}) AND rule_version_id IS NOT NULL")).scalar() == 0
    assert db.session.execute(text("PRAGMA foreign_key_check")).fetchall() == []

    migration_db.downgrade(RULE_BEFORE)
    assert all("rule_version_id" not in _columns(t) and "rule_inputs" not in _columns(t) for t in DECISION_TABLES)
    assert {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in DECISION_TABLES} == counts
