"""Maker-checker: the preparer never approves (server 403 and a database CHECK), the approver
re-enters their password, the approval is bound to payee, bank details and amount, and the bank
account is the one on file when the disbursement was prepared."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from voucher.audit.models import AuditEvent
from voucher.errors import Duplicate, SameApprover, ValidationFailed
from voucher.extensions import db
from voucher.payments import services
from voucher.payments.models import Disbursement


@pytest.fixture()
def prepared(world):
    """A robot subsidy of 100,000.00, announced, prepared by finance officer A."""
    robot = world.robot()
    world.announce()
    return world.prepare("robot_application", robot.id, "full")


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_preparing_copies_the_payees_bank_account_as_it_stands_then(world, prepared):
    payee = prepared.payee
    assert prepared.status == "prepared" and prepared.amount == Decimal("100000.00")
    assert (prepared.bank_name, prepared.bank_account) == (payee.bank_name, payee.bank_account)
    original = prepared.bank_account
    payee.bank_account = "6222999988887777"  # the enterprise changes its profile afterwards
    db.session.flush()
    db.session.expire_all()
    assert db.session.get(Disbursement, prepared.id).bank_account == original


def test_preparer_cannot_approve_their_own_disbursement_service_403(world, prepared):
    with pytest.raises(SameApprover) as err:
        services.approve(world.finance_a.actor(), prepared.id, world.finance_a.plain_password)
    assert err.value.status == 403
    assert db.session.get(Disbursement, prepared.id).status == "prepared"


def test_preparer_cannot_approve_over_http_403(world, prepared, login_as):
    client = login_as(world.finance_a)
    before = audit_count()
    response = client.post(f"/payments/disbursements/{prepared.id}/decide",
                           data={"decision": "approve", "password": world.finance_a.plain_password})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Disbursement, prepared.id).status == "prepared"
    assert db.session.get(Disbursement, prepared.id).approved_by is None
    assert audit_count() == before


def test_database_check_refuses_approver_equal_to_preparer_through_the_orm(world, prepared):
    prepared.approved_by = prepared.prepared_by
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.flush()


def test_database_check_refuses_approver_equal_to_preparer_in_plain_sql(world, prepared):
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE disbursement SET approved_by = prepared_by WHERE id = :id"),
                               {"id": prepared.id})
    # A different user is accepted by the same constraint.
    with db.session.begin_nested():
        db.session.execute(text("UPDATE disbursement SET approved_by = :u WHERE id = :id"),
                           {"u": world.finance_b.id, "id": prepared.id})


def test_a_wrong_password_on_approval_is_refused_and_changes_nothing(world, prepared, login_as):
    client = login_as(world.finance_b)
    before = audit_count()
    response = client.post(f"/payments/disbursements/{prepared.id}/decide",
                           data={"decision": "approve", "password": "not-my-password"})
    assert response.status_code == 422
    assert "The password is not correct" in response.get_data(as_text=True)
    db.session.expire_all()
    d = db.session.get(Disbursement, prepared.id)
    assert (d.status, d.approved_by, d.approval_fingerprint) == ("prepared", None, None)
    assert audit_count() == before
    with pytest.raises(ValidationFailed):
        services.approve(world.finance_b.actor(), prepared.id, "")


def test_a_second_finance_officer_approves_with_their_password(world, prepared, login_as):
    client = login_as(world.finance_b)
    response = client.post(f"/payments/disbursements/{prepared.id}/decide",
                           data={"decision": "approve", "password": world.finance_b.plain_password})
    assert response.status_code == 302
    db.session.expire_all()
    d = db.session.get(Disbursement, prepared.id)
    assert d.status == "approved" and d.approved_by == world.finance_b.id and d.approved_at is not None
    assert d.approval_fingerprint == services.fingerprint(d) and services.approval_valid(d)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "disbursement.approve"))
    assert event.actor_id == world.finance_b.id and event.after["fingerprint"] == d.approval_fingerprint


def test_rejection_needs_a_reason_and_returns_the_item_to_the_queue(world, prepared):
    with pytest.raises(ValidationFailed):
        services.reject(world.finance_b.actor(), prepared.id, world.finance_b.plain_password, "  ")
    with pytest.raises(SameApprover):
        services.reject(world.finance_a.actor(), prepared.id, world.finance_a.plain_password, "wrong account")
    services.reject(world.finance_b.actor(), prepared.id, world.finance_b.plain_password, "wrong account")
    assert prepared.status == "rejected" and prepared.rejected_by == world.finance_b.id
    from voucher.payments import queries

    [item] = queries.payables(source=("robot_application", prepared.source_id))
    assert item.hold is None  # back in the queue, and a new disbursement can be prepared
    again = world.prepare("robot_application", prepared.source_id, "full")
    assert again.id != prepared.id


def test_a_bank_account_typed_with_full_width_digits_or_invisible_spaces_is_stored_normalised(world, prepared):
    services.update_bank_details(world.finance_b.actor(), prepared.id, payee_name=prepared.payee_name,
                                 bank_name=prepared.bank_name, bank_account="６２１７\u200b0000\u00a01111－2222")
    assert prepared.bank_account == "621700001111-2222"


@pytest.mark.parametrize("account", ["Infinity", "ABCDEFGHIJ", "6217-0000-", "-62170000", "12345", "1" * 41])
def test_a_bank_account_is_digits_with_hyphens_only_between_them(world, prepared, account):
    """Letters, a hyphen at an end, fewer than 6 or more than 40 characters: refused on the field, nothing saved."""
    before = prepared.bank_account
    with pytest.raises(ValidationFailed) as err:
        services.update_bank_details(world.finance_b.actor(), prepared.id, payee_name=prepared.payee_name,
                                     bank_name=prepared.bank_name, bank_account=account)
    assert set(err.value.fields) == {"bank_account"}
    db.session.expire_all()
    assert db.session.get(type(prepared), prepared.id).bank_account == before


def test_editing_the_bank_account_after_approval_voids_the_approval(world, prepared):
    world.approve(prepared)
    assert prepared.status == "approved"
    services.update_bank_details(world.finance_b.actor(), prepared.id, payee_name=prepared.payee_name,
                                 bank_name=prepared.bank_name, bank_account="6217 0000 1111 2222")
    assert prepared.status == "prepared"
    assert prepared.approved_by is None and prepared.approval_fingerprint is None
    assert prepared.bank_account == "6217000011112222"
    # The editor is now its preparer of record: the editor may not approve, the first officer may.
    with pytest.raises(SameApprover):
        world.approve(prepared, who=world.finance_b)
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "disbursement",
                                                                      AuditEvent.object_id == str(prepared.id))
                                      .order_by(AuditEvent.id)))
    assert actions[-2:] == ["disbursement.void_approval", "disbursement.edited"]
    world.approve(prepared, who=world.finance_a)
    assert prepared.status == "approved" and services.approval_valid(prepared)


def test_an_approval_no_longer_matching_the_details_cannot_be_batched(world, prepared):
    world.approve(prepared)
    # A change that bypassed the service (a direct write) is caught by the fingerprint.
    db.session.execute(text("UPDATE disbursement SET bank_account = '6222000000000001' WHERE id = :id"),
                       {"id": prepared.id})
    db.session.expire_all()
    from voucher.errors import Conflict

    with pytest.raises(Conflict):
        world.batch(db.session.get(Disbursement, prepared.id))


def test_bank_details_edit_refuses_bad_input_with_field_messages(world, prepared):
    with pytest.raises(ValidationFailed) as err:
        services.update_bank_details(world.finance_b.actor(), prepared.id, payee_name="=HYPERLINK(x)",
                                     bank_name="", bank_account="12")
    assert set(err.value.fields) == {"payee_name", "bank_name", "bank_account"}


def test_a_second_prepare_of_the_same_item_is_a_duplicate(world, prepared):
    with pytest.raises(Duplicate):
        world.prepare("robot_application", prepared.source_id, "full", who=world.finance_b)
    assert db.session.scalar(select(func.count()).select_from(Disbursement)) == 1


def test_the_database_allows_one_live_disbursement_per_item(world, prepared):
    clone = Disbursement(programme_id=prepared.programme_id, funding_kind=prepared.funding_kind,
                         source_type=prepared.source_type, source_id=prepared.source_id, milestone="full",
                         enterprise_id=prepared.enterprise_id, payee_id=prepared.payee_id, payee_name="x",
                         bank_name="b", bank_account="123456", amount=Decimal("1.00"), basis={}, status="prepared",
                         prepared_by=world.finance_b.id)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(clone)
    # Once the first is rejected, the index frees the item.
    services.reject(world.finance_b.actor(), prepared.id, world.finance_b.plain_password, "redo")
    clone2 = Disbursement(programme_id=prepared.programme_id, funding_kind=prepared.funding_kind,
                          source_type=prepared.source_type, source_id=prepared.source_id, milestone="full",
                          enterprise_id=prepared.enterprise_id, payee_id=prepared.payee_id, payee_name="x",
                          bank_name="b", bank_account="123456", amount=Decimal("1.00"), basis={}, status="prepared",
                          prepared_by=world.finance_b.id)
    with db.session.begin_nested():
        db.session.add(clone2)


def test_the_approval_password_is_throttled_like_a_login(world, prepared, login_as, app):
    """Re-entering the password to approve is a password check: per account (whatever the address)."""
    client = login_as(world.finance_b)
    app.config["REAUTH_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [client.post(f"/payments/disbursements/{prepared.id}/decide",
                             data={"decision": "approve", "password": "a-guess-that-is-wrong"},
                             environ_base={"REMOTE_ADDR": f"10.9.0.{i}"}).status_code for i in range(4)]
        # Even the right password waits out the minute.
        right = client.post(f"/payments/disbursements/{prepared.id}/decide",
                            data={"decision": "approve", "password": world.finance_b.plain_password}).status_code
    finally:
        app.config["REAUTH_RATE_LIMIT"] = "1000 per minute"
    assert codes == [422, 422, 422, 429] and right == 429
    db.session.expire_all()
    assert db.session.get(Disbursement, prepared.id).status == "prepared"


def test_the_api_approval_password_is_throttled_per_account(world, prepared, app, client):
    from voucher.auth import tokens

    token = tokens.issue_token(world.finance_b, name="t", days=1, default_days=1, max_days=30).secret
    app.config["REAUTH_RATE_LIMIT"] = "2 per minute"
    try:
        codes = [client.post(f"/api/v1/disbursements/{prepared.id}/approve",
                             json={"password": "a-guess-that-is-wrong"},
                             headers={"Authorization": f"Bearer {token}"}).status_code for _ in range(3)]
    finally:
        app.config["REAUTH_RATE_LIMIT"] = "1000 per minute"
    assert codes == [422, 422, 429]
