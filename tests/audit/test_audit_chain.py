"""The audit trail is hash-chained: editing or deleting an event is detected and named."""
from __future__ import annotations

from sqlalchemy import select, text

from voucher.audit.models import AuditEvent
from voucher.audit.services import GENESIS, Actor, record_event, seal_pending, verify_chain
from voucher.extensions import db

ACTOR = Actor(user_id=None, role="system", organisation_id=None, label="test")


def _three_events():
    events = [record_event(ACTOR, "thing.changed", "thing", i, before={"v": i}, after={"v": i + 1, "amount": "1.10"})
              for i in range(3)]
    seal_pending()  # what the commit does
    return events


def test_each_event_links_to_the_previous_hash(ctx):
    events = _three_events()
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    report = verify_chain()
    assert report.ok and report.checked >= 3 and report.head == events[-1].hash


def test_editing_an_event_is_detected_and_named(ctx):
    events = _three_events()
    db.session.execute(text("UPDATE audit_event SET after = :a WHERE id = :id"),
                       {"a": '{"v": 999, "amount": "1.10"}', "id": events[1].id})
    db.session.expire_all()
    report = verify_chain()
    assert not report.ok
    assert report.broken_event_id == events[1].id
    assert "edited" in report.problem


def test_deleting_an_event_is_detected_at_the_next_one(ctx):
    events = _three_events()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[1].id})
    report = verify_chain()
    assert not report.ok
    assert report.broken_event_id == events[2].id
    assert "deleted" in report.problem


def test_first_event_starts_from_genesis(ctx):
    first = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id).limit(1))
    if first is None:
        first = _three_events()[0]
    assert first.prev_hash == GENESIS


def test_cli_reports_ok_then_the_exact_broken_event(app, ctx):
    events = _three_events()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["voucher", "audit-verify"])
    assert result.exit_code == 0 and result.output.startswith("OK:")
    db.session.execute(text("UPDATE audit_event SET actor_label = 'someone else' WHERE id = :id"), {"id": events[0].id})
    result = runner.invoke(args=["voucher", "audit-verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {events[0].id}" in result.output


def test_audit_pages_are_for_auditors_and_admins(client, make_user):
    from tests.factories import do_login

    do_login(client, make_user("officer"))
    assert client.get("/audit/").status_code == 403
    auditor_client = client.application.test_client()
    do_login(auditor_client, make_user("auditor"))
    assert auditor_client.get("/audit/").status_code == 200
    assert "哈希链完整" in auditor_client.get("/audit/verify").get_data(as_text=True)
