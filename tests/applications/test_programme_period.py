"""Declared trial dates have bounds: the contract date and the trial start date lie within the
programme's period (9999-12-31 was once approved)."""
from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine

from tests.applications.conftest import build_programme, content, token
from voucher.applications import services
from voucher.errors import ValidationFailed

TODAY = date(2026, 6, 1)


@pytest.fixture()
def programme_2026(db_conn):
    programme = build_programme(opens_on=date(2026, 3, 1), closes_on=date(2026, 11, 30))
    programme.year = 2026
    return programme


def test_the_period_runs_from_the_opening_to_the_end_of_the_next_year(ctx, programme_2026):
    assert services.programme_period(programme_2026) == (date(2026, 3, 1), date(2027, 12, 31))


@pytest.mark.parametrize("field", ["contract_date", "trial_start_date"])
def test_a_date_after_the_programmes_period_is_refused_on_its_field(ctx, sme, programme_2026, solution, field):
    with pytest.raises(ValidationFailed) as err:
        services.create_application(sme.actor(), token=token(), programme_id=programme_2026.id,
                                    solution_id=solution.id, content=content(**{"contract_date": date(2026, 6, 2), "trial_start_date": date(2026, 6, 10),
                                                     field: date(9999, 12, 31)}),
                                    today=TODAY)
    assert set(err.value.fields) == {field}
    assert "9999-12-31" in err.value.field_messages()[field]
    assert "2026-03-01 to 2027-12-31" in err.value.field_messages()[field]


def test_the_last_day_of_the_period_is_accepted_and_the_next_refused(ctx, sme, programme_2026, solution):
    application, created = services.create_application(
        sme.actor(), token=token(), programme_id=programme_2026.id, solution_id=solution.id,
        content=content(contract_date=date(2026, 6, 2), trial_start_date=date(2027, 12, 31)), today=TODAY)
    assert created
    with pytest.raises(ValidationFailed) as err:
        services.update_application(sme.actor(), application.id,
                                    content(contract_date=date(2026, 6, 2), trial_start_date=date(2028, 1, 1)),
                                    today=TODAY)
    assert set(err.value.fields) == {"trial_start_date"}
    assert application.trial_start_date == date(2027, 12, 31)


def test_the_form_shows_the_period_on_the_field(client, login, sme, programme_2026, solution):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with time_machine.travel("2026-06-01 02:00:00+00:00", tick=False):
        login(sme)
        response = client.post(f"/applications/new?solution_id={solution.id}", data={
            "token": token(), "solution_id": str(solution.id), "programme_id": str(programme_2026.id),
            "requested_amount": "100000.00", "need_statement": "Orders get lost between workshops.",
            "contract_date": "2026-06-02", "trial_start_date": "9999-12-31",
            "baseline_production_efficiency": "40.5"})
    assert response.status_code == 422
    m = re.search(r'<div class="invalid-feedback" id="trial_start_date-err">([^<]*)</div>',
                  response.get_data(as_text=True))
    assert m and "outside the programme" in m.group(1) and "2027-12-31" in m.group(1)
