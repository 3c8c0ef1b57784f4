"""Builders for the subsidy tests: an open programme, the demo LPR table, an SME user of a
pump-and-valve enterprise (a pilot industry), officers, valid form contents, and invoice lines for
an application built without the form."""
from __future__ import annotations

import io
import secrets
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import add_demo_lpr, build_programme  # noqa: F401 (the tests import them from here)

# The payment tests' world (a programme, its people, grants through the real services) and their login.
from tests.payments.conftest import login_as, world  # noqa: F401
from voucher.calc import invoice_key
from voucher.extensions import db
from voucher.subsidies.models import RobotApplication, RobotLineItem

EN = {"Accept-Language": "en"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def lpr(db_conn):
    add_demo_lpr()


@pytest.fixture()
def programme(db_conn, lpr):
    return build_programme()


@pytest.fixture()
def sme(make_org, make_user):
    """A small pump-and-valve enterprise and one of its users."""
    return make_user("sme", make_org("enterprise", industry="pumps_valves"))


@pytest.fixture()
def other_sme(make_org, make_user):
    return make_user("sme", make_org("enterprise", industry="clothing"))


@pytest.fixture()
def officer(make_user):
    return make_user("officer")


def pdf(name="evidence.pdf"):
    return (io.BytesIO(PDF), name)


# The guide's default required materials that the forms take in the checklist panel (the plan,
# statement and invoices have fields of their own).
LOAN_MATERIALS = ("business_licence", "loan_contract", "bank_account", "credit_declaration")
ROBOT_MATERIALS = ("business_licence", "purchase_contract", "acceptance_report", "bank_account", "credit_declaration")


def materials(codes) -> dict:
    """The checklist panel's inputs: one PDF for each material code."""
    return {f"material_{code}": pdf(f"{code}.pdf") for code in codes}


def loan_form(programme, *, with_materials=True, **overrides) -> dict:
    """The worked example as an application: LPR 3.00% on the contract date, rate 2.40%,
    8,000,000 outstanding over 90 days, 48,000 interest paid → 40,000.00; with a PDF for each
    other required material of the guide's checklist unless ``with_materials`` is false."""
    data = {**(materials(LOAN_MATERIALS) if with_materials else {}),
        "programme_id": str(programme.id), "bank_name": "Bank of Wenzhou", "contract_no": "WZ-2025-0001",
        "contract_date": "2025-12-15", "principal": "8000000.00", "loan_rate": "2.40",
        "term_start": "2025-12-20", "term_end": "2027-12-19",
        "periods-0-start": "2026-01-01", "periods-0-end": "2026-04-01",
        "periods-0-outstanding_principal": "8000000.00", "periods-0-interest_paid": "48000.00",
        "periods-1-start": "", "periods-1-end": "", "periods-1-outstanding_principal": "", "periods-1-interest_paid": "",
        "client_token": secrets.token_urlsafe(16),
        "plan_file": pdf("plan.pdf"), "statement_file": pdf("statement.pdf"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def robot_line(i: int, model="ER20-1100", manufacturer="Estun", domestic=True, quantity="2",
               price="150000.00", invoice=None, invoice_date="2026-03-01", with_file=True) -> dict:
    data = {f"lines-{i}-model": model, f"lines-{i}-manufacturer": manufacturer, f"lines-{i}-quantity": quantity,
            f"lines-{i}-unit_price_excl_vat": price, f"lines-{i}-invoice_no": invoice or f"{secrets.randbelow(10**20):020d}",
            f"lines-{i}-invoice_date": invoice_date}
    if domestic:
        data[f"lines-{i}-domestic"] = "y"
    if with_file:
        data[f"lines-{i}-invoice_file"] = pdf(f"invoice-{i}.pdf")
    return data


def with_invoices(robot: RobotApplication) -> RobotApplication:
    """World.robot() stores the computed figures only: give it the two invoice lines it claims."""
    for i, (model, domestic, qty, price, subsidy) in enumerate((("ER20", True, 2, "150000.00", "60000.00"),
                                                                ("KR16", False, 1, "400000.00", "40000.00"))):
        number = f"{secrets.randbelow(10**20):020d}"
        robot.lines.append(RobotLineItem(position=i, model=model, manufacturer="Maker", domestic=domestic,
                                         quantity=qty, unit_price_excl_vat=Decimal(price), invoice_no=number,
                                         invoice_key=invoice_key(number), invoice_date=date(2026, 3, 1),
                                         rate=Decimal("20.00") if domestic else Decimal("10.00"),
                                         eligible_cost=Decimal(price) * qty, subsidy=Decimal(subsidy),
                                         granted=Decimal(subsidy)))
    db.session.flush()
    return robot


def robot_form(programme, *lines: dict, with_materials=True, **overrides) -> dict:
    """A robot application of ``lines``, with a PDF for each other required material of the guide's
    checklist unless ``with_materials`` is false."""
    data = {"programme_id": str(programme.id), "client_token": secrets.token_urlsafe(16),
            **(materials(ROBOT_MATERIALS) if with_materials else {})}
    for line in lines:
        data.update(line)
    data.update(overrides)
    return data
