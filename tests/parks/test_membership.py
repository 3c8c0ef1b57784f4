"""Membership of a park: pending → confirmed / declined (with a reason) / left; naming another park
leaves the current one; only the park's own operator decides; every change is audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import build_org, fresh_user
from tests.parks.conftest import OFFICER, build_park, member
from voucher.audit.models import AuditEvent
from voucher.errors import Conflict, Duplicate, Forbidden, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.parks import queries, services
from voucher.parks.models import ParkMembership


def events(object_id):
    return [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "park_membership", AuditEvent.object_id == str(object_id)).order_by(AuditEvent.id))]


def test_naming_a_park_is_pending_until_the_operator_confirms(parks):
    m = parks.a3.membership
    assert m.status == "pending"
    assert parks.a3.org.id not in set(db.session.scalars(queries.confirmed_ids(parks.park_a.id)))
    services.decide(parks.op_a.actor(), m.id, True)
    assert m.status == "confirmed" and m.decided_by == parks.op_a.id and m.decided_at is not None
    assert parks.a3.org.id in set(db.session.scalars(queries.confirmed_ids(parks.park_a.id)))
    assert events(m.id) == ["park_membership.request", "park_membership.confirm"]


def test_declining_needs_a_reason_and_keeps_it(parks):
    m = parks.a3.membership
    with pytest.raises(ValidationFailed) as err:
        services.decide(parks.op_a.actor(), m.id, False, "  ")
    assert err.value.field == "reason" and m.status == "pending" and m.decline_reason is None
    services.decide(parks.op_a.actor(), m.id, False, "Not in our park's register.")
    assert m.status == "declined" and m.decline_reason == "Not in our park's register."
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "park_membership.decline")).one()
    assert audit.reason == "Not in our park's register."
    with pytest.raises(TransitionNotAllowed):
        services.decide(parks.op_a.actor(), m.id, True)


def test_only_the_parks_own_operator_decides(parks, make_user):
    m = parks.a3.membership
    with pytest.raises(Forbidden):
        services.decide(parks.op_b.actor(), m.id, True)
    for role in ("sme", "officer", "admin"):
        user = parks.a3.user if role == "sme" else make_user(role)
        with pytest.raises(Forbidden):
            services.decide(user.actor(), m.id, True)
    assert m.status == "pending"


def test_changing_park_leaves_the_current_one(parks):
    old = parks.a1.membership
    new = services.name_park(parks.a1.user.actor(), parks.park_b.id)
    assert old.status == "left" and old.left_at is not None
    assert new.status == "pending" and new.park_id == parks.park_b.id
    assert services.live_membership(parks.a1.org.id) is new
    assert events(old.id)[-1] == "park_membership.leave"
    with pytest.raises(Conflict):
        services.name_park(parks.a1.user.actor(), parks.park_b.id)  # already named


def test_leaving_and_naming_again(parks):
    services.leave_park(parks.a2.user.actor())
    assert parks.a2.membership.status == "left"
    with pytest.raises(Conflict):
        services.leave_park(parks.a2.user.actor())
    again = services.name_park(parks.a2.user.actor(), parks.park_a.id)
    assert again.status == "pending"
    assert [m.status for m in queries.memberships_of(parks.a2.org.id)] == ["pending", "left"]


def test_one_live_membership_per_enterprise_is_held_by_the_database(parks):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(ParkMembership(park_id=parks.park_b.id, enterprise_id=parks.a1.org.id, status="pending"))
            db.session.flush()


def test_who_names_a_park(parks, make_user):
    with pytest.raises(ValidationFailed) as err:
        services.name_park(parks.a1.user.actor(), 999999)
    assert err.value.field == "park_id"
    with pytest.raises(Forbidden):
        services.name_park(parks.op_a.actor(), parks.park_a.id)
    unregistered = fresh_user("sme")
    with pytest.raises(Conflict):
        services.name_park(unregistered.actor(), parks.park_a.id)


def test_registering_a_park_checks_its_fields(db_conn, make_user):
    operator = build_org("park")
    provider = build_org("provider")
    with pytest.raises(ValidationFailed) as err:
        services.create_park(OFFICER, "=HYPERLINK(\"http://x\")", "longwan", operator.id)
    assert err.value.field == "name"
    with pytest.raises(ValidationFailed) as err:
        services.create_park(OFFICER, "园区", "atlantis", operator.id)
    assert err.value.field == "district"
    with pytest.raises(ValidationFailed) as err:
        services.create_park(OFFICER, "园区", "longwan", provider.id)
    assert err.value.field == "operator_id"
    with pytest.raises(ValidationFailed) as err:
        services.create_park(OFFICER, "园" * 201, "longwan", operator.id)
    assert err.value.field == "name"
    services.create_park(OFFICER, "园区", "longwan", operator.id)
    with pytest.raises(Duplicate):
        services.create_park(OFFICER, "园区", "ouhai", operator.id)
    with pytest.raises(Forbidden):
        services.create_park(make_user("finance").actor(), "另一园区", "longwan", operator.id)


def status_of(membership_id):
    db.session.expire_all()
    return db.session.get(ParkMembership, membership_id).status


def test_the_pages_name_confirm_and_decline(client, login, db_conn):
    park, operator = build_park("页面测试园")
    a = member(park, operator, "页面甲有限公司", confirm=False)
    login(a.user)
    page = client.get("/parks/mine")
    assert page.status_code == 200 and "页面测试园" in page.get_data(as_text=True)
    assert "页面测试园" in client.get("/enterprise").get_data(as_text=True)  # the panel on its enterprise page
    login(operator)
    detail = client.get(f"/parks/{park.id}").get_data(as_text=True)
    assert "页面甲有限公司" in detail and f'data-request="{a.membership.id}"' in detail
    refused = client.post(f"/parks/requests/{a.membership.id}", data={"decision": "decline", "reason": ""})
    assert refused.status_code == 303 and status_of(a.membership.id) == "pending"
    done = client.post(f"/parks/requests/{a.membership.id}", data={"decision": "confirm"})
    assert done.status_code == 303 and status_of(a.membership.id) == "confirmed"
    login(a.user)
    left = client.post("/parks/mine", data={"leave-confirm": "y", "leave-submit": "1"})
    assert left.status_code == 303 and status_of(a.membership.id) == "left"
    named = client.post("/parks/mine", data={"name-park_id": str(park.id)})
    assert named.status_code == 303 and services.live_membership(a.org.id).status == "pending"


def test_a_park_with_a_new_operator_and_its_user(client, login, make_user):
    admin = make_user("admin")
    login(admin)
    page = client.post("/parks/manage", data={"name": "新园区", "district": "ouhai", "operator_id": "0",
                                              "operator_name": "新园区运营有限公司"})
    assert page.status_code == 303
    from voucher.enterprises.models import Organisation
    from voucher.parks.models import Park

    park = db.session.scalar(select(Park).where(Park.name == "新园区"))
    assert park.operator.kind == "park" and park.operator.name == "新园区运营有限公司"
    operator = fresh_user("park_operator", park.operator)  # the administrator's user service accepts the kind
    assert operator.organisation_id == park.operator_id
    both = client.post("/parks/manage", data={"name": "又一园区", "district": "ouhai",
                                              "operator_id": str(park.operator_id), "operator_name": "另一公司"})
    assert both.status_code == 422 and "二者只选其一" in both.get_data(as_text=True)
    assert db.session.scalar(select(Organisation.id).where(Organisation.name == "另一公司")) is None
    with pytest.raises(ValidationFailed):
        from tests.factories import _admin_actor
        from voucher.auth import services as auth_services

        auth_services.create_user(_admin_actor(), email="x@test.example", name="X", password="pw-long-enough-1",
                                  role="park_operator", organisation_id=build_org("enterprise").id)
