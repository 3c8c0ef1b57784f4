"""Builders for test data, exposed as fixtures."""
from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from stdnum.cn import uscc as uscc_lib

from voucher.auth import services as auth_services
from voucher.auth.models import User
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db

_seq = itertools.count(1)
ORG_KIND_FOR_ROLE = {"sme": "enterprise", "provider": "provider", "evaluator": "evaluation",
                     "officer": "bureau", "finance": "bureau", "auditor": "bureau", "admin": "bureau",
                     "park_operator": "park"}


def valid_uscc(n: int) -> str:
    body = f"91330300MA{n:07d}"[:17]
    return body + uscc_lib.calc_check_digit(body)


def build_org(kind: str, name: str | None = None, **enterprise) -> Organisation:
    n = next(_seq)
    org = Organisation(kind=kind, name=name or f"{kind} org {n}",
                       uscc=valid_uscc(n + 5000) if kind in ("enterprise", "provider") else None,
                       bank_name="Bank of Wenzhou", bank_account=f"6222{n:012d}", bank_code=f"313{n:09d}",
                       contact_name="Contact",
                       contact_phone="0577-88000000")
    db.session.add(org)
    db.session.flush()
    if kind == "enterprise":
        db.session.add(Enterprise(organisation_id=org.id, district=enterprise.get("district", "lucheng"),
                                  industry=enterprise.get("industry", "pumps_valves"),
                                  employees=enterprise.get("employees", 120),
                                  annual_revenue=enterprise.get("annual_revenue", Decimal("15000000.00")),
                                  size_class=enterprise.get("size_class", "small")))
        db.session.flush()
    return org


def build_user(role: str, organisation: Organisation | None = None, password: str | None = None,
               email: str | None = None) -> User:
    n = next(_seq)
    if organisation is None and role != "sme":
        organisation = build_org(ORG_KIND_FOR_ROLE[role])
    return auth_services.create_user(None if role == "sme" else _admin_actor(), email=email or f"{role}{n}@test.example",
                                     name=f"{role.title()} {n}", password=password or f"pw-{role}-{n}-long",
                                     role=role, organisation_id=organisation.id if organisation else None)


def _admin_actor():
    from voucher.audit.services import Actor

    return Actor(user_id=None, role="admin", organisation_id=None, label="test admin")


@pytest.fixture()
def make_org(db_conn):
    return build_org


def fresh_user(role: str, organisation: Organisation | None = None, password: str | None = None,
               email: str | None = None) -> User:
    """A flushed user whose password is on ``user.plain_password`` (``pw-<role>-<n>-long`` unless given)."""
    n = next(_seq)
    pw = password or f"pw-{role}-{n}-long"
    user = build_user(role, organisation, pw, email)
    user.plain_password = pw
    return user


@pytest.fixture()
def make_user(db_conn):
    """make_user(role, organisation=None, password=None) → :func:`fresh_user`."""
    return fresh_user


def do_login(client, user_or_email, password: str | None = None):
    email = getattr(user_or_email, "email", user_or_email)
    password = password or user_or_email.plain_password
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture()
def login(client):
    """Log in as ``user``, logging out whoever was logged in first (the login page sends a
    logged-in user home without looking at the form, so a second login would keep the first)."""
    def _login(user, password: str | None = None):
        client.post("/logout")
        response = do_login(client, user, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return _login


def ledger_history(programme_id: int, steps) -> None:
    """Write fund-ledger entries at given local times: ``steps`` are (``"YYYY-MM-DD HH:MM"``,
    ``"reserve"|"pay"|"release"``, enterprise organisation, funding kind, amount text, source id)."""
    from datetime import datetime

    import time_machine

    from voucher.audit.services import Actor
    from voucher.programmes import services as ledger

    officer = Actor(user_id=None, role="officer", organisation_id=None, label="test officer")
    for when, kind, org, funding, amount, source in steps:
        with time_machine.travel(datetime.fromisoformat(when + "+08:00"), tick=False):
            if kind == "reserve":
                ledger.reserve(officer, programme_id, funding_kind=funding, amount=Decimal(amount),
                               enterprise_id=org.id, source_type="test", source_id=source)
            elif kind == "pay":
                ledger.pay(officer, "test", source, Decimal(amount), "advance")
            else:
                ledger.release(officer, "test", source, Decimal(amount))


# Indicator figures of a trial application (baselines) and of its evaluation (afters).
BASELINES = {"production_efficiency": Decimal("40.00"), "labour_per_unit": Decimal("2.00"),
             "defect_rate": Decimal("4.00"), "order_lead_time": Decimal("10.00"), "energy_per_unit": Decimal("5.00")}
AFTERS = {"production_efficiency": Decimal("50.00"), "labour_per_unit": Decimal("1.50"), "defect_rate": Decimal("3.00"),
          "order_lead_time": Decimal("8.00"), "energy_per_unit": Decimal("5.00")}


def build_programme(budget="50000000.00", **fields):
    """A programme open today (30 days back, 90 ahead) for the pump-valve and auto-parts industries, with
    its rule version 1 (``rule_version=False``: none, for a schema from before rule versions)."""
    import secrets
    from datetime import timedelta

    from voucher.applications.services import local_today
    from voucher.programmes.models import Programme

    today = local_today()
    with_version = fields.pop("rule_version", True)
    programme = Programme(name=fields.pop("name", f"Pilot {secrets.token_hex(3)}"), year=today.year,
                          budget=Decimal(budget), opens_on=fields.pop("opens_on", today - timedelta(days=30)),
                          closes_on=fields.pop("closes_on", today + timedelta(days=90)),
                          pilot_industries=fields.pop("pilot_industries", ["pumps_valves", "auto_parts"]), **fields)
    db.session.add(programme)
    db.session.flush()
    if with_version:
        from voucher.programmes.rule_versions import ensure_first_version

        ensure_first_version(programme)  # version 1, as create_programme makes it
    return programme


def build_solution(provider, status="listed", trial_price="250000.00", *, list_price=None, title=None,
                   category="mes", industries=("pumps_valves",), description=None, trial_period_days=90,
                   age_minutes=0):
    """A flushed solution of `provider`; the list price is twice the trial price unless given.

    The timestamps follow the status (submitted, listed) `age_minutes` ago, as the catalogue's services set them.
    A directory that wants other defaults binds them with functools.partial instead of redefining the builder.
    """
    from datetime import timedelta

    from voucher.catalogue.models import Solution
    from voucher.db import utcnow

    n = next(_seq)
    at = utcnow() - timedelta(minutes=age_minutes)
    solution = Solution(
        provider_id=provider.id, title=title or f"Solution {n}", category=category,
        target_industries=list(industries), description=description or f"Digital workshop {n}.",
        list_price=Decimal(list_price) if list_price is not None else Decimal(trial_price) * 2,
        trial_price=Decimal(trial_price), trial_period_days=trial_period_days, status=status,
        created_at=at, updated_at=at, submitted_at=at if status != "draft" else None,
        listed_at=at if status in ("listed", "recommended", "delisted") else None)
    db.session.add(solution)
    db.session.flush()
    return solution


def add_demo_lpr() -> None:
    """The two one-year LPR figures the worked examples use (3.10% from 2024-10-21, 3.00% from 2025-05-20)."""
    from datetime import date

    from voucher.programmes.models import LprRate

    for day, rate in ((date(2024, 10, 21), Decimal("3.10")), (date(2025, 5, 20), Decimal("3.00"))):
        db.session.add(LprRate(effective_from=day, rate_pct=rate))
    db.session.flush()


LAST_PACKAGE_YEAR = 2026


@pytest.fixture()
def package_ends_with_2026(monkeypatch):
    """The chinese-calendar package as the tests were written against (1.11.0: nothing after 2026),
    so a later release that knows 2027 does not change what a test of an unknown year checks."""
    import types

    import chinese_calendar

    from voucher import workdays

    def is_workday(day):
        if day.year > LAST_PACKAGE_YEAR:
            raise NotImplementedError(f"no data for {day.year}")
        return chinese_calendar.is_workday(day)

    shim = types.SimpleNamespace(
        is_workday=is_workday,
        holidays={d: n for d, n in chinese_calendar.holidays.items() if d.year <= LAST_PACKAGE_YEAR},
        workdays={d: n for d, n in chinese_calendar.workdays.items() if d.year <= LAST_PACKAGE_YEAR})
    workdays._package_year.cache_clear()
    monkeypatch.setattr(workdays, "chinese_calendar", shim)
    yield
    workdays._package_year.cache_clear()


MATERIAL_OWNERS = {"trial_voucher": "trial_application", "loan_discount": "loan_application",
                   "robot_subsidy": "robot_application"}


def attach_required_materials(application, kind: str | None = None) -> list:
    """Rows for the required materials of the checklist (the programme guide's) not yet attached,
    as if the SME had uploaded one PDF each (no file on disk: enough for the submission rule;
    upload tests go through the pages).  ``kind`` defaults from the application's class:
    ``trial_voucher``, ``loan_discount`` or ``robot_subsidy``."""
    import hashlib
    import secrets

    from sqlalchemy import select

    from voucher.documents.models import StoredFile
    from voucher.materials import checklist_for

    if kind is None:
        kind = {"LoanApplication": "loan_discount", "RobotApplication": "robot_subsidy"}.get(
            type(application).__name__, "trial_voucher")
    owner = MATERIAL_OWNERS[kind]
    present = set(db.session.scalars(select(StoredFile.material).where(StoredFile.owner_type == owner,
                                                                       StoredFile.owner_id == application.id)))
    rows = []
    for item in checklist_for(application.programme_id, kind):
        if not item.required or item.code in present:
            continue
        data = f"{item.code}-{application.id}-{secrets.token_hex(4)}".encode()
        row = StoredFile(owner_type=owner, owner_id=application.id, purpose="supporting_document",
                         material=item.code, original_name=f"{item.code}.pdf", content_type="application/pdf",
                         size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                         relative_path=f"test/{secrets.token_hex(16)}.pdf")
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


def set_rule_parameters(programme, **values):
    """Set rule parameters on a programme built directly (as its form would before any decision): the
    programme's columns and its version 1, which every decision reads (issue 19 §3)."""
    from voucher.programmes.rule_versions import ensure_first_version, parse, serialise

    version = ensure_first_version(programme)
    merged = parse(version.parameters)
    for key, value in values.items():
        setattr(programme, key, value)
        merged[key] = value
    version.parameters = serialise(merged)
    db.session.flush()
    return version
