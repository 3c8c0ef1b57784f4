"""Builders for the risk tests: an enterprise with an SME user, a provider with a solution, and a
trial application filed and submitted through the applications' services."""
from __future__ import annotations

import pytest

from tests.applications.conftest import build_solution, content, token
from tests.factories import attach_required_materials, build_org, build_programme, fresh_user
from voucher.applications import services as applications


@pytest.fixture()
def world(db_conn):
    programme = build_programme()
    provider = build_org("provider", "Provider Risk")
    provider.contact_name, provider.contact_phone = "服务商甲", "0577-66001234"
    solution = build_solution(provider)

    def enterprise(name, account=None, contact=None, phone=None):
        org = build_org("enterprise", name)
        org.contact_name = contact or f"{name} 联系人"
        org.contact_phone = phone or f"1380000{abs(hash(name)) % 10000:04d}"
        if account:
            org.bank_account = account
        return org, fresh_user("sme", org)

    def submit(user, amount="100000.00"):
        app, _created = applications.create_application(user.actor(), token=token(), programme_id=programme.id,
                                                        solution_id=solution.id, content=content(amount))
        attach_required_materials(app)
        return applications.submit(user.actor(), app.id)

    return type("World", (), dict(programme=programme, provider=provider, solution=solution, enterprise=staticmethod(enterprise),
                                  submit=staticmethod(submit)))
