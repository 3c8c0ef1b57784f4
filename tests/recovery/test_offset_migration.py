"""The offset migration on a SQLite database full of demo data: disbursements get ``offset_amount`` 0
(every approval still valid), repayments keep their bank references, and the table of offsets comes
and goes; a database that recorded an offset refuses the downgrade."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from voucher.extensions import db

BEFORE = "b3e1f7a9c5d2"


def _rows(table: str) -> list:
    return db.session.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()


def test_the_offset_migration_keeps_the_rows_and_adds_the_offset(migration_db):
    migration_db.downgrade(BEFORE)
    disbursements = _rows("disbursement")
    assert disbursements, "the demo data has disbursements"
    assert "recovery_offset" not in inspect(db.session.connection()).get_table_names()

    migration_db.upgrade()
    assert db.session.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    after = _rows("disbursement")
    width = len(disbursements[0])
    assert [tuple(r)[:width] for r in after] == [tuple(r) for r in disbursements]  # the new column comes last
    assert {r for (r,) in db.session.execute(text("SELECT offset_amount FROM disbursement"))} == {0}
    from voucher.payments.models import Disbursement
    from voucher.payments.services import approval_valid

    for d in db.session.query(Disbursement).filter(Disbursement.approved_by.isnot(None)):
        assert approval_valid(d), d.reference  # the fingerprint appends the offset only when there is one
    with pytest.raises(IntegrityError):  # CHECK 0 <= offset_amount <= amount
        db.session.execute(text("UPDATE disbursement SET offset_amount = amount + 1 WHERE id = :i"),
                           {"i": after[0].id})
    db.session.rollback()
    migration_db.downgrade(BEFORE)
    assert len(_rows("disbursement")) == len(disbursements)
    assert "offset_amount" not in {c["name"] for c in inspect(db.session.connection()).get_columns("disbursement")}
