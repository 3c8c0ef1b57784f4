"""Fixtures of the programme tests: English pages, field-message lookup, counts, form data."""
from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from voucher.audit.models import AuditEvent
from voucher.extensions import db
from voucher.programmes.models import PARAMETER_DEFAULTS, Programme


@pytest.fixture()
def login_en(client, login):
    """Log in and switch the pages to English (the default language is Chinese)."""
    def _login(user):
        login(user)
        client.post("/lang", data={"lang": "en", "next": "/"})
        return client

    return _login


def field_error(page: str, field_id: str) -> str | None:
    """The message rendered next to a field (the macro's ``<div ... id="<field>-err">``), or None."""
    m = re.search(r'<div class="invalid-feedback" id="%s-err">(.*?)</div>' % re.escape(field_id), page, re.S)
    return html.unescape(m.group(1)).strip() if m else None


def counts() -> tuple[int, int]:
    """(programmes, audit events) as the database holds them now."""
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Programme)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def programme_form(**overrides) -> dict:
    """A complete, valid programme form as a browser posts it (checkboxes: present = on)."""
    data = {"name": "2026 数字化转型试点资金", "year": "2026", "budget": "50000000.00",
            "opens_on": "2026-03-01", "closes_on": "2026-11-30", "funds_trial_voucher": "y",
            "funds_loan_discount": "y", "funds_robot_subsidy": "y", "pilot_industries": ["pumps_valves", "auto_parts"]}
    data.update({k: str(v) for k, v in PARAMETER_DEFAULTS.items()})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_programme(**overrides) -> Programme:
    """A programme stored directly, matching ``programme_form()`` (so an unchanged form changes nothing)."""
    values = {"name": "Test fund", "year": 2026, "budget": Decimal("50000000.00"), "opens_on": date(2026, 3, 1),
              "closes_on": date(2026, 11, 30), "pilot_industries": ["pumps_valves", "auto_parts"]}
    values.update(overrides)
    programme = Programme(**values)
    db.session.add(programme)
    db.session.flush()
    from voucher.programmes.rule_versions import ensure_first_version
    ensure_first_version(programme)  # version 1, as create_programme makes it
    db.session.flush()
    return programme
