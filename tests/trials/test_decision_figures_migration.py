"""The migration that stores the figures a decision used on the trial recovers them from the
audit trail: trials kicked off at 30% keep 30% after the programme's parameter went to 40%, and
evaluated trials keep the pass mark they were decided with (demo data, SQLite, forward and back)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from voucher.extensions import db

BEFORE = "5c0e2d7a91b4"


def test_the_backfill_recovers_the_advance_percentage_and_marks_in_force_at_the_decision(migration_db):
    from voucher.audit.services import Actor, record_event

    started = db.session.execute(text(
        "SELECT id, programme_id, approved_amount, advance_amount, advance_pct FROM trial "
        "WHERE advance_amount IS NOT NULL ORDER BY id")).all()
    evaluated = db.session.execute(text(
        "SELECT id, pass_score FROM trial WHERE outcome IS NOT NULL ORDER BY id")).all()
    assert started and evaluated, "the demo data has started and evaluated trials"
    assert {row.advance_pct for row in started} == {3000}  # 30.00%, stored by the kick-off
    assert {row.pass_score for row in evaluated} == {6000}
    pid = started[0].programme_id
    # Later, the officer changes the parameters (as update_programme records it).
    with migration_db.app.test_request_context():
        db.session.execute(text("UPDATE programme SET advance_pct = 4000, pass_score = 7000 WHERE id = :p"),
                           {"p": pid})
        record_event(Actor(None, "officer", None, "officer"), "programme.parameters_changed", "programme",
                     pid, before={"advance_pct": "30.00", "pass_score": "60.00"},
                     after={"advance_pct": "40", "pass_score": "70"})
        db.session.commit()

    migration_db.downgrade(BEFORE)
    migration_db.upgrade()
    rows = db.session.execute(text("SELECT id, programme_id, advance_pct, pass_score, remarkable_score "
                                   "FROM trial WHERE advance_amount IS NOT NULL OR outcome IS NOT NULL")).all()
    of_programme = [r for r in rows if r.programme_id == pid]
    assert of_programme
    assert {r.advance_pct for r in rows if r.id in {s.id for s in started}} == {3000}
    assert {r.pass_score for r in rows if r.id in {e.id for e in evaluated}} == {6000}
    assert {r.remarkable_score for r in rows if r.id in {e.id for e in evaluated}} == {8500}
    # The stored amounts are what the recovered percentage gives.
    for s in started:
        assert Decimal(s.advance_amount) == (Decimal(s.approved_amount) * 3000 / 10000).quantize(Decimal(1))
