"""The identifier-normalisation migration over rows that are one identifier under two spellings:
it does not fail, keeps the earlier row's invoice key, leaves the later one NULL, and lists each
collision for an officer (table + ``flask voucher identifier-collisions``); forward and back."""
from __future__ import annotations

from voucher.extensions import db

BEFORE = "a7d3c5e1f209"  # the revision before identifier keys were normalised


def test_the_migration_lists_colliding_spellings_instead_of_failing(migration_db):
    _q = migration_db.q

    def _copy(table, row_id, **changes) -> int:
        cols = [r[1] for r in _q(f"PRAGMA table_info({table})") if r[1] != "id"]
        row = _q(f"SELECT {', '.join(cols)} FROM {table} WHERE id = :i", i=row_id).mappings().one()
        values = {**row, **changes}
        _q(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})", **values)
        return _q("SELECT max(id) FROM " + table).scalar()

    migration_db.downgrade(BEFORE)
    # As the old code let them in: the same invoice twice (full-width, zero-width space, lower-case
    # code letters do not matter here: digits), and one loan's days under two spellings.
    first, second = [r[0] for r in _q("SELECT id FROM robot_line ORDER BY id LIMIT 2")]
    _q("UPDATE robot_line SET invoice_no = '3300261109-00000009', invoice_key = '3300261109-00000009' "
       "WHERE id = :i", i=first)
    _q("UPDATE robot_line SET invoice_no = :n, invoice_key = :n WHERE id = :i",
       n="３３００２６１１０９\u200b０００００００９", i=second)
    loan_id = _q("SELECT id FROM loan_application WHERE status NOT IN ('withdrawn', 'rejected') "
                 "ORDER BY id LIMIT 1").scalar()
    _q("UPDATE loan_application SET contract_no = 'WZ-2025-0001' WHERE id = :i", i=loan_id)
    twin = _copy("loan_application", loan_id, contract_no="ｗｚ\u20132025\u20130001", client_token=None)
    for (period_id,) in _q("SELECT id FROM loan_interest_period WHERE application_id = :i", i=loan_id).all():
        _copy("loan_interest_period", period_id, application_id=twin)
    db.session.commit()

    migration_db.upgrade()
    keys = dict(_q("SELECT id, invoice_key FROM robot_line WHERE id IN (:a, :b)", a=first, b=second).all())
    assert keys == {first: "330026110900000009", second: None}
    assert dict(_q("SELECT id, contract_key FROM loan_application WHERE id IN (:a, :b)",
                   a=loan_id, b=twin).all()) == {loan_id: "WZ-2025-0001", twin: "WZ-2025-0001"}
    collisions = _q("SELECT kind, key, kept_id, other_id FROM identifier_collision ORDER BY id").all()
    assert [tuple(c) for c in collisions] == [("invoice", "330026110900000009", first, second),
                                              ("loan_contract", "WZ-2025-0001", loan_id, twin)]
    # Every other line got its normalised key.
    assert _q("SELECT count(*) FROM robot_line r JOIN robot_application a ON a.id = r.application_id "
              "WHERE r.invoice_key IS NULL AND a.status != 'withdrawn' AND r.id != :b", b=second).scalar() == 0
    db.session.remove()

    output = migration_db.app.test_cli_runner().invoke(args=["voucher", "identifier-collisions"]).output
    assert f"invoice 330026110900000009: robot_line {first} kept; robot_line {second} to check" in output
    assert f"loan_contract WZ-2025-0001: loan_application {loan_id} kept; loan_application {twin}" in output
    assert "2 collision(s)" in output

    migration_db.downgrade(BEFORE)
    assert _q("SELECT invoice_key FROM robot_line WHERE id = :a", a=first).scalar() == "3300261109-00000009"
