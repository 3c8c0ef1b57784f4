"""Risk signals through the services and pages: computed on submission (never refusing), the
nightly scan idempotent, dismissal with a reason (audited), the pages for the bureau only."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import fresh_user
from voucher.audit.models import AuditEvent
from voucher.errors import Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.risk import jobs, services
from voucher.risk.models import RiskSignal


def _scanned(app):
    """What the worker does once the submission commits (``on_submit`` enqueues it)."""
    jobs.scan_submitted("trial_application", app.id)
    return app


def _signals(kind=None):
    db.session.expire_all()   # a request may have changed them
    stmt = select(RiskSignal).order_by(RiskSignal.id)
    if kind:
        stmt = stmt.where(RiskSignal.kind == kind)
    return db.session.scalars(stmt).all()


def _shared_account(world):
    a, ua = world.enterprise("Alpha", account="6222 0200 0000 4242")
    b, ub = world.enterprise("Beta", account="6222020000004242")
    _scanned(world.submit(ua))
    app = _scanned(world.submit(ub, amount="90000.00"))
    world.sme_b = ub
    return a, b, app


def test_submission_computes_the_signal_with_the_rows_behind_it(ctx, world):
    a, b, app = _shared_account(world)
    assert app.status == "submitted"   # never refused
    [s] = _signals("shared_bank_account")
    assert {s.org_a_id, s.org_b_id} == {a.id, b.id} and s.status == "open"
    assert s.evidence["value"].endswith("4242") and "62220200" not in str(s.evidence)
    assert {r["organisation"] for r in s.evidence["rows"] if "organisation" in r} == {"Alpha", "Beta"}
    assert app.number in s.numbers


def test_the_submission_only_enqueues_the_scan_after_its_commit(ctx, world, monkeypatch):
    import voucher.tasks

    queued = []
    monkeypatch.setattr(voucher.tasks, "enqueue_after_commit", lambda func, *args, **kw: queued.append((func, args)))
    _a, ub = world.enterprise("Alpha", account="6222 0200 0000 4242")
    app = world.submit(ub)
    assert queued == [(jobs.scan_submitted, ("trial_application", app.id))]
    assert app.status == "submitted" and _signals() == []   # nothing scanned inside the request


def test_a_failing_scan_never_touches_the_submission(ctx, world, monkeypatch):
    def broken(enterprise_id, now=None):
        raise RuntimeError("detector bug")

    a, ua = world.enterprise("Alpha", account="6222 0200 0000 4242")
    b, ub = world.enterprise("Beta", account="6222020000004242")
    world.submit(ua)
    app = world.submit(ub, amount="90000.00")
    monkeypatch.setattr(services, "findings_for_enterprise", broken)
    with pytest.raises(RuntimeError):   # the job fails (RQ keeps it failed; the nightly scan catches up)
        jobs.scan_submitted("trial_application", app.id)
    assert app.status == "submitted" and _signals() == []


def test_nightly_scan_is_idempotent_and_keeps_a_dismissal(ctx, world):
    _shared_account(world)
    officer = fresh_user("officer")
    first = services.scan()
    keys = sorted(s.key for s in _signals())
    assert first == [] and keys   # the submissions found them already
    services.dismiss(officer.actor(), _signals()[0].id, "Two branches of one group, checked the licences.")
    assert services.scan() == [] and services.scan() == []
    assert sorted(s.key for s in _signals()) == keys
    assert _signals()[0].status == "dismissed"


def test_dismissal_needs_a_reason_is_audited_and_happens_once(ctx, world):
    _shared_account(world)
    s = _signals()[0]
    officer, finance, auditor = fresh_user("officer"), fresh_user("finance"), fresh_user("auditor")
    for bad in ("", "   ", None, "x" * 5000):
        try:
            services.dismiss(officer.actor(), s.id, bad)
        except ValidationFailed as err:
            assert err.field == "reason"
        else:
            raise AssertionError(f"accepted {bad!r}")
    try:
        services.dismiss(auditor.actor(), s.id, "read only")
        raise AssertionError("auditor dismissed")
    except Forbidden:
        pass
    services.dismiss(finance.actor(), s.id, "  =1+1 checked with the bank  ")
    assert s.status == "dismissed" and s.dismiss_reason == "=1+1 checked with the bank" and s.dismissed_by == finance.id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "risk_signal.dismiss")).one()
    assert event.object_id == str(s.id) and event.reason == "=1+1 checked with the bank"
    assert event.before == {"status": "open"} and event.after["status"] == "dismissed"
    try:
        services.dismiss(officer.actor(), s.id, "again")
        raise AssertionError("dismissed twice")
    except TransitionNotAllowed:
        pass


def test_pages_for_the_bureau_only(ctx, world, client, login):
    _a, _b, app = _shared_account(world)
    s = _signals()[0]
    for role in ("sme", "provider"):
        login(fresh_user(role))
        assert client.get("/risk/").status_code == 403
        assert client.get(f"/risk/{s.id}").status_code == 403
        assert client.post(f"/risk/{s.id}", data={"reason": "x", "confirm": "y"}).status_code == 403
    login(fresh_user("auditor"))
    page = client.get("/risk/").get_data(as_text=True)
    assert app.number in page
    assert client.post(f"/risk/{s.id}", data={"reason": "x", "confirm": "y"}).status_code == 403
    assert _signals()[0].status == "open"


def test_dashboard_filters_search_export_and_dismiss(ctx, world, client, login):
    _a, _b, app = _shared_account(world)
    s = _signals("shared_bank_account")[0]
    login(fresh_user("officer"))
    assert app.number in client.get("/risk/?kind=shared_bank_account").get_data(as_text=True)
    assert f'data-signal="{s.id}"' not in client.get("/risk/?kind=price_above_list").get_data(as_text=True)
    assert f'data-signal="{s.id}"' in client.get(f"/risk/?q={app.number.lower()}").get_data(as_text=True)
    assert f'data-signal="{s.id}"' not in client.get("/risk/?q=SY-2099-999999").get_data(as_text=True)
    assert client.get("/risk/?page=99999999999999999999").status_code == 200
    csv = client.get("/risk/?format=csv")
    assert csv.status_code == 200 and app.number in csv.get_data(as_text=True)
    assert "6222020000004242" not in csv.get_data(as_text=True)
    # refused: no confirmation, no reason, too long — the signal stays open
    assert client.post(f"/risk/{s.id}", data={"reason": "checked"}).status_code == 422
    assert client.post(f"/risk/{s.id}", data={"reason": "", "confirm": "y"}).status_code == 422
    assert client.post(f"/risk/{s.id}", data={"reason": "x" * 5000, "confirm": "y"}).status_code == 422
    assert _signals("shared_bank_account")[0].status == "open"
    r = client.post(f"/risk/{s.id}", data={"reason": "Same group, checked", "confirm": "y"})
    assert r.status_code == 302
    assert _signals("shared_bank_account")[0].status == "dismissed"
    assert f'data-signal="{s.id}"' not in client.get("/risk/").get_data(as_text=True)   # open ones by default
    assert f'data-signal="{s.id}"' in client.get("/risk/?status=dismissed").get_data(as_text=True)
    assert client.post(f"/risk/{s.id}", data={"reason": "again", "confirm": "y"}).status_code == 409


def test_review_page_shows_the_open_signals_to_the_officer_not_to_the_sme(ctx, world, client, login):
    a, b, app = _shared_account(world)
    login(fresh_user("officer"))
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "data-risk-panel" in page and "Alpha" in page
    login(world.sme_b)
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "data-risk-panel" not in page and "Alpha" not in page


def test_cli_runs_the_nightly_scan(app, ctx, world):
    _shared_account(world)
    out = app.test_cli_runner().invoke(args=["voucher", "risk-scan"]).output
    assert "0 new risk signal(s)" in out


def test_same_ip_from_a_submission_and_the_provider_login(ctx, world):
    from voucher.audit.services import current_ip
    from voucher.auth.models import LoginSession
    from voucher.db import utcnow

    _org, sme = world.enterprise("Gamma")
    provider_user = fresh_user("provider", world.provider)
    db.session.add(LoginSession(token_hash="f" * 64, user_id=provider_user.id, ip="61.164.9.9",
                                created_at=utcnow(), last_seen_at=utcnow()))
    db.session.flush()
    token = current_ip.set("61.164.9.9")
    try:
        app = _scanned(world.submit(sme))
    finally:
        current_ip.reset(token)
    [s] = _signals("same_ip")
    assert (s.source_type, s.source_id) == ("trial_application", app.id)
    assert {r.get("what") for r in s.evidence["rows"]} >= {"login", "submit"}
    assert "61.164.9.9" in s.evidence["value"]


def test_every_kind_of_application_is_followed_on_submission(app):
    from voucher.applications.services import MACHINE
    from voucher.subsidies.services import LOAN_MACHINE, ROBOT_MACHINE

    for machine in (MACHINE, LOAN_MACHINE, ROBOT_MACHINE):
        assert machine.listeners("submit") == (services.on_submit,)
    services.register()   # a second create_app: no copy
    assert MACHINE.listeners("submit") == (services.on_submit,)
