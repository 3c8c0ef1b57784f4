"""The officers' table of 1-year LPR values and the rate in force on a day."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from voucher.audit.models import AuditEvent
from voucher.errors import Duplicate, Forbidden, ValidationFailed
from voucher.extensions import db
from voucher.programmes.models import LprRate
from voucher.subsidies import services

EN = {"Accept-Language": "en"}


@pytest.mark.parametrize(("day", "rate"), [
    (date(2024, 10, 21), "3.10"), (date(2025, 5, 19), "3.10"), (date(2025, 5, 20), "3.00"), (date(2026, 11, 1), "3.00")])
def test_the_rate_in_force_is_the_latest_on_or_before_the_day(ctx, lpr, day, rate):
    assert services.lpr_in_force(day).rate_pct == Decimal(rate)


def test_a_day_before_the_table_is_a_clear_error(ctx, lpr):
    with pytest.raises(ValidationFailed) as err:
        services.lpr_in_force(date(2024, 10, 20))
    assert err.value.field == "contract_date"
    assert "starts on 2024-10-21" in err.value.render()


def test_an_empty_table_is_a_clear_error(ctx):
    with pytest.raises(ValidationFailed) as err:
        services.lpr_in_force(date(2025, 1, 1))
    assert "has not recorded any 1-year LPR" in err.value.render()


def test_officer_adds_a_rate_and_it_is_audited(client, make_user, login, lpr):
    login(make_user("officer"))
    page = client.get("/subsidies/lpr", headers=EN).get_data(as_text=True)
    assert 'data-lpr="2025-05-20"' in page and "In force today: 3.00%" in page
    response = client.post("/subsidies/lpr", data={"effective_from": "2026-08-20", "rate_pct": "2.95"}, headers=EN)
    assert response.status_code == 302
    row = db.session.scalar(select(LprRate).where(LprRate.effective_from == date(2026, 8, 20)))
    assert row.rate_pct == Decimal("2.95")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lpr_rate.created",
                                                       AuditEvent.object_id == str(row.id)))
    assert event.after == {"effective_from": "2026-08-20", "rate_pct": "2.95"}


def test_a_second_rate_for_the_same_date_is_refused_clearly(client, make_user, login, lpr):
    login(make_user("officer"))
    before = db.session.scalar(select(func.count()).select_from(LprRate))
    response = client.post("/subsidies/lpr", data={"effective_from": "2025-05-20", "rate_pct": "2.90"}, headers=EN)
    assert response.status_code == 422
    assert "A rate is already recorded from 2025-05-20 (3.00%). Each date can have one rate." in \
        response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LprRate)) == before


@pytest.mark.parametrize(("data", "message"), [
    ({"effective_from": "2026-13-01", "rate_pct": "3.00"}, "Enter a date as YYYY-MM-DD."),
    ({"effective_from": "2026-08-20", "rate_pct": "101"}, "Must be between 0.01 and 100."),
    ({"effective_from": "2026-08-20", "rate_pct": "2.955"}, "Enter a number such as 2.40 (at most two decimals)."),
    ({"effective_from": "", "rate_pct": "3"}, "Enter the date from which the rate applies."),
])
def test_bad_rate_input_is_refused_per_field(client, make_user, login, lpr, data, message):
    login(make_user("officer"))
    response = client.post("/subsidies/lpr", data=data, headers=EN)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_only_officers_maintain_the_table(client, make_user, login, lpr, ctx):
    login(make_user("auditor"))
    assert client.get("/subsidies/lpr").status_code == 200
    assert client.post("/subsidies/lpr", data={"effective_from": "2026-08-20", "rate_pct": "2.95"}).status_code == 403
    for role in ("sme", "finance", "provider"):
        login(make_user(role))
        assert client.get("/subsidies/lpr").status_code == 403
    with pytest.raises(Forbidden):
        services.add_lpr_rate(make_user("finance").actor(), date(2026, 8, 20), Decimal("2.95"))
    with pytest.raises(Duplicate):
        services.add_lpr_rate(make_user("officer").actor(), date(2025, 5, 20), Decimal("2.95"))
