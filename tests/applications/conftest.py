"""Local builders for the application tests: a programme, catalogue solutions, an SME with its
user, and valid form content.  (Enterprise registration and the catalogue are built elsewhere;
these write the models directly.)"""
from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.factories import attach_required_materials, build_programme, build_solution  # noqa: F401 (tests import it from here)
from voucher.applications import services
from voucher.applications.services import Content


def content(amount="100000.00", **overrides) -> Content:
    today = services.local_today()
    data = dict(requested_amount=Decimal(amount), need_statement="Our workshop loses track of orders.",
                contract_date=today + timedelta(days=3), trial_start_date=today + timedelta(days=10),
                baselines={"production_efficiency": Decimal("42.50"), "defect_rate": Decimal("3.20")})
    data.update(overrides)
    return Content(**data)


def token() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture()
def programme(db_conn):
    return build_programme()


@pytest.fixture()
def provider_org(make_org):
    return make_org("provider")


@pytest.fixture()
def solution(provider_org):
    return build_solution(provider_org)


@pytest.fixture()
def make_solution(provider_org):
    def _make(**kwargs):
        return build_solution(kwargs.pop("provider", provider_org), **kwargs)
    return _make


@pytest.fixture()
def sme(make_org, make_user):
    """An enterprise (small, Lucheng, pumps and valves) and one of its users."""
    org = make_org("enterprise")
    return make_user("sme", org)


@pytest.fixture()
def officer(make_user):
    return make_user("officer")


@pytest.fixture()
def file_application(programme, solution):
    """file_application(user, amount=..., submit=True) → an application through the services."""
    def _file(user, amount="100000.00", submit=True, sol=None, prog=None):
        app, created = services.create_application(user.actor(), token=token(), programme_id=(prog or programme).id,
                                                   solution_id=(sol or solution).id, content=content(amount))
        assert created
        if submit:
            attach_required_materials(app)
            services.submit(user.actor(), app.id)
        return app
    return _file
