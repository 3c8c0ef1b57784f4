"""The audit chain is keyed (HMAC-SHA256 under a key kept outside the database) and anchored
(published daily heads): someone with write access to the database cannot edit an event and
re-hash the rest, nor cut the newest events off, without ``audit-verify`` saying so."""
from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from voucher.audit.keys import AuditKeyError, parse_keys
from voucher.audit.models import AuditAnchor, AuditEvent
from voucher.audit.services import (
    GENESIS,
    Actor,
    Anchor,
    _payload,
    anchors_from_file,
    publish_anchor,
    record_event,
    seal_pending,
    verify_chain,
)
from voucher.extensions import db

ACTOR = Actor(user_id=None, role="system", organisation_id=None, label="test")
K1 = "k1:first-secret-of-the-bureau-0123456789"
K2 = "k2:second-secret-of-the-bureau-987654321"


def _events(n: int, start: int = 0) -> list[AuditEvent]:
    events = [record_event(ACTOR, "thing.changed", "thing", i, after={"v": i, "amount": "1.10"})
              for i in range(start, start + n)]
    seal_pending()  # what the commit does
    return events


def _rehash_plain(events, *, keep_key_id: bool) -> None:
    """What an attacker without the key can do: recompute every hash from the edited one on with
    plain SHA-256 (as the chain did before it was keyed), keeping or dropping the key ids."""
    prev = None
    for e in events:
        if prev is not None:
            e.prev_hash = prev
        if not keep_key_id:
            e.key_id = None
        canonical = json.dumps(_payload(e), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        e.hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        prev = e.hash
    db.session.flush()


def _chain(from_seq: int = 1) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.chain_seq >= from_seq)
                                   .order_by(AuditEvent.chain_seq)))


def test_events_are_signed_with_the_newest_key_and_numbered_in_order(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_KEYS", f"{K2},{K1}")
    events = _events(3)
    assert [e.key_id for e in events] == ["k2"] * 3
    assert events[1].chain_seq == events[0].chain_seq + 1 and events[2].prev_hash == events[1].hash
    report = verify_chain()
    assert report.ok and report.head == events[-1].hash and "k2" in report.keys_used


def test_an_edited_event_re_hashed_without_the_key_is_detected(ctx):
    events = _events(4)
    victim = events[1]
    victim.after = {"v": 999, "amount": "1.10"}
    _rehash_plain(_chain(victim.chain_seq), keep_key_id=True)
    report = verify_chain()
    assert not report.ok and report.broken_event_id == victim.id and "edited" in report.problem


def test_an_edited_event_re_hashed_as_unkeyed_legacy_is_detected(ctx):
    events = _events(4)
    victim = events[2]
    victim.reason = "covered up"
    _rehash_plain(_chain(victim.chain_seq), keep_key_id=False)
    report = verify_chain()
    assert not report.ok and report.broken_event_id == victim.id and "unkeyed" in report.problem


def test_a_key_guessed_wrong_does_not_verify(ctx, app, monkeypatch):
    _events(2)
    monkeypatch.setitem(app.config, "AUDIT_KEYS", "dev:guessed-but-wrong-secret")
    report = verify_chain()
    assert not report.ok and report.broken_event_id == _chain()[0].id


def test_a_whole_chain_rewritten_unkeyed_is_caught_by_a_published_head(ctx):
    events = _events(3)
    published = Anchor(events[-1].chain_seq, events[-1].hash, "2026-12-03")
    db.session.execute(delete(AuditAnchor))
    everything = _chain()
    everything[0].reason = "rewritten"
    _rehash_plain(everything, keep_key_id=False)
    assert verify_chain().ok  # on its own, an all-legacy chain looks fine...
    report = verify_chain(anchors=[published])  # ...but not against the head the auditor kept
    assert not report.ok and report.broken_event_id == events[-1].id and "rewritten" in report.problem


def test_deleting_the_newest_events_is_caught_by_the_published_head(ctx):
    events = _events(5)
    published = Anchor(events[-1].chain_seq, events[-1].hash, "2026-12-03")
    assert verify_chain(anchors=[published]).ok
    db.session.execute(delete(AuditEvent).where(AuditEvent.id.in_([events[-1].id, events[-2].id])))
    db.session.execute(delete(AuditAnchor))
    assert verify_chain().ok  # without a published head a shorter chain is still a valid chain
    report = verify_chain(anchors=[published])
    assert not report.ok
    assert f"fewer than the {events[-1].chain_seq}" in report.problem and "deleted" in report.problem


def test_the_stored_daily_anchor_catches_truncation_when_the_table_is_left_alone(ctx):
    events = _events(3)
    anchor = publish_anchor(date(2026, 12, 4))
    assert (anchor.chain_length, anchor.head_hash) == (events[-1].chain_seq, events[-1].hash)
    assert publish_anchor(date(2026, 12, 4)).id == anchor.id  # once a day
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == events[-1].id))
    report = verify_chain()
    assert not report.ok and "deleted" in report.problem


def test_rotation_verifies_old_and_new_events_and_an_unknown_key_is_named(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_KEYS", K1)
    old = _events(2)
    monkeypatch.setitem(app.config, "AUDIT_KEYS", f"{K2},{K1}")
    new = _events(2, start=10)
    assert [e.key_id for e in old + new] == ["k1", "k1", "k2", "k2"]
    report = verify_chain()
    assert report.ok and {"k1", "k2"} <= set(report.keys_used)
    monkeypatch.setitem(app.config, "AUDIT_KEYS", K2)  # k1 dropped too early
    report = verify_chain()
    assert not report.ok and report.broken_event_id == old[0].id and "'k1'" in report.problem


def test_legacy_unkeyed_events_before_the_keyed_ones_keep_verifying(ctx):
    db.session.execute(delete(AuditEvent))
    legacy = []
    prev = GENESIS
    for i in range(2):  # as the chain stood before keys: plain SHA-256, positions by id
        e = AuditEvent(occurred_at=__import__("voucher.db", fromlist=["utcnow"]).utcnow(), actor_id=None,
                       actor_label="old", actor_role="system", action="old.event", object_type="thing",
                       object_id=str(i), before=None, after={"i": i}, reason=None, ip=None, prev_hash=prev,
                       chain_seq=i + 1, key_id=None, hash="0" * 64)
        canonical = json.dumps(_payload(e), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        e.hash = prev = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        db.session.add(e)
        db.session.flush()
        legacy.append(e)
    keyed = _events(1)[0]
    assert keyed.prev_hash == legacy[-1].hash and keyed.chain_seq == 3 and keyed.key_id == "dev"
    report = verify_chain()
    assert report.ok and report.legacy == 2 and report.checked == 3
    legacy[0].after = {"i": 42}
    _rehash_plain(legacy, keep_key_id=False)  # the legacy prefix re-hashed: the keyed event's link breaks
    report = verify_chain()
    assert not report.ok and report.broken_event_id == keyed.id


def test_cli_checks_an_exported_anchor_file_and_a_head(app, ctx, client, make_user, tmp_path):
    from tests.factories import do_login

    _events(2)
    do_login(client, make_user("auditor"))
    exported = client.get("/audit/anchors.json")
    assert exported.status_code == 200
    (tmp_path / "anchors.json").write_bytes(exported.data)
    csv_export = client.get("/audit/anchors.csv").get_data(as_text=True)
    assert csv_export.splitlines()[0] == "day,anchored_at,chain_length,head_hash"
    head = anchors_from_file(exported.get_data(as_text=True))[0]
    assert anchors_from_file(csv_export)[0] == head
    runner = app.test_cli_runner()
    result = runner.invoke(args=["voucher", "audit-verify", "--anchor", str(tmp_path / "anchors.json"),
                                 "--head", f"{head.length}:{head.head}"])
    assert result.exit_code == 0, result.output
    assert "3 published head(s) found" in result.output  # the stored one, the file, --head
    newest = db.session.scalar(select(AuditEvent).order_by(AuditEvent.chain_seq.desc()).limit(1))
    db.session.delete(newest)
    db.session.execute(delete(AuditAnchor))
    db.session.flush()
    result = runner.invoke(args=["voucher", "audit-verify", "--anchor", str(tmp_path / "anchors.json")])
    assert result.exit_code == 1 and "BROKEN" in result.output and "newest events deleted" in result.output
    result = runner.invoke(args=["voucher", "audit-verify", "--head", "12:nothex"])
    assert result.exit_code == 2


def test_the_auditors_page_shows_the_days_published_head(client, make_user):
    from tests.factories import do_login

    do_login(client, make_user("auditor"))
    page = client.get("/audit/").get_data(as_text=True)
    with client.application.app_context():
        anchor = db.session.scalar(select(AuditAnchor).order_by(AuditAnchor.id.desc()).limit(1))
        assert anchor is not None
        assert f"{anchor.chain_length}:{anchor.head_hash}" in page
        assert db.session.scalar(select(func.count()).select_from(AuditAnchor)) == 1


def test_production_refuses_to_start_without_an_audit_key(tmp_path):
    from voucher import create_app

    base = {"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "SIGNING_ALLOW_UNSIGNED": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}", "STORAGE_DIR": str(tmp_path)}
    with pytest.raises(RuntimeError, match="AUDIT_KEYS"):
        create_app(base)
    with pytest.raises(RuntimeError, match="development key or shorter"):
        create_app({**base, "AUDIT_KEYS": "k1:short"})
    assert create_app({**base, "AUDIT_KEYS": K1}).config["AUDIT_KEYS"] == K1


def test_malformed_keys_are_refused_with_the_format():
    assert parse_keys(f"{K2}, {K1}")[0][0] == "k2"
    for bad in ("nocolon", "k1:a,k1:b", "bad id:x", "k1:"):
        with pytest.raises(AuditKeyError):
            parse_keys(bad)
