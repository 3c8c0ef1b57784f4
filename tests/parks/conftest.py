"""Builders for the park tests: two parks with their operators, enterprises with SME users, and
memberships in each state, made through the parks' services."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import build_org, fresh_user
from voucher.audit.services import Actor
from voucher.extensions import db
from voucher.parks import services
from voucher.parks.models import Park

OFFICER = Actor(user_id=None, role="officer", organisation_id=None, label="test officer")


def build_park(name: str, district: str = "longwan"):
    """A park with its operator organisation and one operator user."""
    operator_org = build_org("park", f"{name} 运营公司")
    park = services.create_park(OFFICER, name, district, operator_org.id)
    return park, fresh_user("park_operator", operator_org)


def member(park: Park, operator, name: str, confirm: bool = True, **enterprise):
    """An enterprise with an SME user that named ``park``; confirmed by the operator unless told."""
    org = build_org("enterprise", name, **enterprise)
    user = fresh_user("sme", org)
    membership = services.name_park(user.actor(), park.id)
    if confirm:
        services.decide(operator.actor(), membership.id, True)
    return SimpleNamespace(org=org, user=user, membership=membership)


@pytest.fixture()
def parks(db_conn):
    """Park A (operator ``op_a``) with confirmed members a1, a2 and a pending request a3; park B
    (operator ``op_b``) with confirmed member b1."""
    park_a, op_a = build_park("测试小微企业园A")
    park_b, op_b = build_park("测试小微企业园B", "ouhai")
    w = SimpleNamespace(park_a=park_a, op_a=op_a, park_b=park_b, op_b=op_b)
    w.a1 = member(park_a, op_a, "甲一泵阀有限公司")
    w.a2 = member(park_a, op_a, "甲二鞋业有限公司", industry="footwear_leather")
    w.a3 = member(park_a, op_a, "甲三待确认有限公司", confirm=False)
    w.b1 = member(park_b, op_b, "乙一服饰有限公司", industry="clothing")
    db.session.flush()
    return w
