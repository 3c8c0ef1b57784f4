"""The application-number migration numbers every existing application (all three kinds) with the
same format the application uses for new ones, gives stored subsidy notifications the number, and
goes back cleanly."""
from __future__ import annotations

from sqlalchemy import text

from voucher.appnumbers import format_number
from voucher.extensions import db

BEFORE = "c4e8a2f61d93"
TABLES = ("trial_application", "loan_application", "robot_application")


def test_existing_applications_are_numbered_forward_and_back(migration_db):
    migration_db.downgrade(BEFORE)
    # A stored loan notification as the older code wrote it (the id as the parameter).
    loan_id = db.session.execute(text("SELECT id FROM loan_application ORDER BY id")).scalar()
    user_id = db.session.execute(text("SELECT id FROM user_account ORDER BY id")).scalar()
    db.session.execute(text(
        "INSERT INTO notification (user_id, message, params, link, created_at) VALUES (:u, :m, :p, :l, "
        "'2026-11-30 02:00:00')"),
        {"u": user_id, "m": "Your loan interest discount application no. %(id)s was rejected: %(reason)s",
         "p": '{"id": %d, "reason": "x"}' % loan_id, "l": f"/subsidies/loans/{loan_id}"})
    db.session.commit()

    migration_db.upgrade()
    for table in TABLES:
        rows = db.session.execute(text(f"SELECT a.id, a.number, p.year FROM {table} a "
                                       "JOIN programme p ON p.id = a.programme_id")).all()
        assert rows, table
        assert all(number == format_number(table, year, row_id) for row_id, number, year in rows), table
    loan_number = db.session.execute(text("SELECT number FROM loan_application WHERE id = :i"),
                                     {"i": loan_id}).scalar()
    params = db.session.execute(text("SELECT params FROM notification WHERE link = :l"),
                                {"l": f"/subsidies/loans/{loan_id}"}).scalar()
    assert loan_number.startswith("TX-") and f'"{loan_number}"' in params

    migration_db.downgrade(BEFORE)
    columns = [r[1] for r in db.session.execute(text("PRAGMA table_info(trial_application)"))]
    assert "number" not in columns
