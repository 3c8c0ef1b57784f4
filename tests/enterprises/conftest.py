"""Fixtures of the enterprise tests: English pages, field-message lookup, counts."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.factories import valid_uscc
from voucher.audit.models import AuditEvent
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db


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


def counts() -> tuple[int, int, int]:
    """(organisations, enterprises, audit events) as the database holds them now."""
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Organisation)),
            db.session.scalar(select(func.count()).select_from(Enterprise)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


_n = iter(range(700000, 800000))


def form_data(**overrides) -> dict:
    data = {"name": "温州测试阀门有限公司", "uscc": valid_uscc(next(_n)), "district": "longwan",
            "industry": "pumps_valves", "employees": "120", "annual_revenue": "15000000",
            "industrial_park": "", "contact_name": "陈经理", "contact_phone": "0577-88123456",
            "bank_name": "温州银行龙湾支行", "bank_account": "6222 0000 1234 5678"}
    data.update(overrides)
    return data
