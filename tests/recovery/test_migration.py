"""The recovery migration on a SQLite database full of demo data: the fund ledger is rebuilt with its
fifth kind and keeps every row, forward and back; a ledger that records recovered money refuses
the downgrade (it cannot be undone)."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from voucher.extensions import db

BEFORE = "a7c3e5b9d2f4"


def _ledger() -> list:
    return db.session.execute(text("SELECT id, kind, amount, seq FROM fund_ledger_entry ORDER BY id")).all()


def _copy_as(kind: str) -> None:
    cols = [c["name"] for c in inspect(db.session.connection()).get_columns("fund_ledger_entry") if c["name"] not in ("id", "kind", "seq")]
    names = ", ".join(cols)
    db.session.execute(text(
        f"INSERT INTO fund_ledger_entry (kind, seq, {names}) SELECT :kind, seq + 100000, {names} "
        f"FROM fund_ledger_entry WHERE kind = 'pay' ORDER BY id LIMIT 1"), {"kind": kind})
    db.session.commit()


def test_the_recovery_migration_keeps_the_ledger_and_adds_the_recover_kind(migration_db):
    migration_db.downgrade(BEFORE)
    before = _ledger()
    assert before, "the demo data has ledger entries"
    assert "recovery_order" not in inspect(db.session.connection()).get_table_names()
    with pytest.raises(IntegrityError):
        _copy_as("recover")
    db.session.rollback()

    migration_db.upgrade()
    assert _ledger() == before
    assert {"recovery_order", "recovery_settlement"} <= set(inspect(db.session.connection()).get_table_names())
    assert db.session.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    _copy_as("recover")  # the fifth kind is allowed now
    with pytest.raises(SystemExit):  # flask_migrate reports the RuntimeError and exits
        migration_db.downgrade(BEFORE)
    db.session.rollback()
    db.session.execute(text("DELETE FROM fund_ledger_entry WHERE kind = 'recover'"))
    db.session.commit()
    migration_db.downgrade(BEFORE)
    assert _ledger() == before
