"""Programmes: set up and changed by officers with every parameter; figures from the fund ledger."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from tests.programmes.conftest import counts, field_error, make_programme, programme_form
from voucher.audit.models import AuditEvent
from voucher.audit.services import Actor
from voucher.errors import Forbidden, ValidationFailed
from voucher.extensions import db
from voucher.programmes import services
from voucher.programmes.models import PARAMETER_DEFAULTS, Programme

SYSTEM = Actor.system("test")


def _events(action: str, object_id) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                            AuditEvent.object_id == str(object_id))
                                   .order_by(AuditEvent.id)))


def _input_value(page: str, name: str) -> str | None:
    m = re.search(r'<input[^>]*\bname="%s"[^>]*>' % re.escape(name), page)
    if not m:
        return None
    v = re.search(r'\bvalue="([^"]*)"', m.group(0))
    return v.group(1) if v else ""


# --- the form ---------------------------------------------------------------------------------

def test_new_programme_form_has_every_parameter_prefilled_with_its_default(ctx, make_user, login_en):
    client = login_en(make_user("officer"))
    page = client.get("/programmes/new").get_data(as_text=True)
    assert _input_value(page, "budget") == "50000000.00"
    for name, default in PARAMETER_DEFAULTS.items():
        shown = _input_value(page, name)
        assert shown is not None, f"{name} is missing from the form"
        assert Decimal(shown) == Decimal(default), name
    # Grouped with help text saying what each does.
    for legend in ("Trial vouchers", "Effect evaluation", "Loan interest discount", "Robot purchase subsidy",
                   "Public notice"):
        assert f'<legend class="h5">{legend}</legend>' in page
    assert "The five weights must add up to 100." in page
    assert 'type="checkbox"' in page and 'value="pumps_valves"' in page


def test_officer_creates_a_programme_with_an_audit_event(ctx, make_user, login_en):
    client = login_en(make_user("officer"))
    before = counts()
    response = client.post("/programmes/new", data=programme_form(robot_enterprise_cap="1500000",
                                                                  funds_loan_discount=None))
    assert response.status_code == 302
    programme = db.session.scalar(select(Programme).order_by(Programme.id.desc()).limit(1))
    assert counts()[0] == before[0] + 1
    assert programme.budget == Decimal("50000000.00")
    assert programme.robot_enterprise_cap == Decimal("1500000.00")
    assert programme.funds_loan_discount is False and programme.funds_trial_voucher is True
    assert programme.pilot_industries == ["pumps_valves", "auto_parts"]
    [created] = _events("programme.created", programme.id)
    assert created.after["budget"] == "50000000.00" and created.after["weight_effect"] == 40
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "¥50,000,000.00" in page and "Auto parts" in page


# --- who may do what ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["evaluator", "finance", "auditor", "sme", "provider"])
def test_only_officers_create_or_edit_programmes(ctx, make_user, login_en, role):
    programme = make_programme()
    client = login_en(make_user(role))
    before = counts()
    assert client.get("/programmes/new").status_code == 403
    assert client.post("/programmes/new", data=programme_form()).status_code == 403
    assert client.get(f"/programmes/{programme.id}/edit").status_code == 403
    assert client.post(f"/programmes/{programme.id}/edit", data=programme_form(budget="1")).status_code == 403
    assert counts() == before
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).budget == programme.budget


def test_services_refuse_programme_changes_by_a_non_officer(ctx, make_user):
    programme = make_programme()
    evaluator = make_user("evaluator").actor()
    data = services.ProgrammeInput(name="X", year=2026, budget=Decimal("1"), opens_on=date(2026, 1, 1),
                                   closes_on=date(2026, 2, 1))
    with pytest.raises(Forbidden):
        services.create_programme(evaluator, data)
    with pytest.raises(Forbidden):
        services.update_programme(evaluator, programme.id, data)


@pytest.mark.parametrize(("role", "status"), [("officer", 200), ("finance", 200), ("auditor", 200),
                                              ("evaluator", 403), ("sme", 403), ("provider", 403)])
def test_programme_pages_are_read_by_bureau_roles_only(ctx, make_user, login_en, role, status):
    programme = make_programme()
    client = login_en(make_user(role))
    assert client.get("/programmes/").status_code == status
    assert client.get(f"/programmes/{programme.id}").status_code == status


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "field", "expected"), [
    ({"budget": "abc"}, "budget", "Enter an amount in yuan"),
    ({"budget": "-1"}, "budget", "Must be at least ¥0.00."),
    ({"budget": "1e5"}, "budget", "Enter an amount in yuan"),
    ({"opens_on": "2026-06-01", "closes_on": "2026-05-31"}, "closes_on",
     "The window cannot close (2026-05-31) before it opens (2026-06-01)."),
    ({"opens_on": "0001-01-01"}, "opens_on", "between 2025-01-01 and 2027-12-31"),
    ({"closes_on": "9999-12-31"}, "closes_on", "programme's year 2026: between 2025-01-01 and 2027-12-31"),
    ({"weight_effect": "39"}, "weight_effect", "The five weights add up to 99; they must add up to 100."),
    ({"advance_pct": "101"}, "advance_pct", "Must be between 0 and 100."),
    ({"robot_base_rate": "-5"}, "robot_base_rate", "Must be between 0 and 100."),
    ({"trial_cap_per_enterprise": "-200000"}, "trial_cap_per_enterprise", "Must be at least ¥0.00."),
    ({"pass_score": "90"}, "remarkable_score", "The excellent score cannot be below the pass score."),
    ({"loan_day_basis": "300"}, "loan_day_basis", "Must be at least 360."),
    ({"year": "twenty"}, "year", "Enter a whole number."),
    ({"funds_trial_voucher": None, "funds_loan_discount": None, "funds_robot_subsidy": None},
     "funds_trial_voucher", "Choose at least one kind of support"),
])
def test_bad_programme_input_is_refused_on_its_field_and_saves_nothing(ctx, make_user, login_en, overrides, field,
                                                                       expected):
    client = login_en(make_user("officer"))
    before = counts()
    response = client.post("/programmes/new", data=programme_form(**overrides))
    assert response.status_code == 422
    message = field_error(response.get_data(as_text=True), field)
    assert message is not None and expected in message, message
    assert counts() == before


@pytest.mark.parametrize(("overrides", "field", "expected"), [
    ({"budget": "abc"}, "budget", "Enter an amount in yuan"),
    ({"budget": "-50000000"}, "budget", "Must be at least ¥0.00."),
    ({"closes_on": "2025-12-31"}, "closes_on", "before it opens"),
    ({"weight_replicability": "9"}, "weight_effect", "add up to 99"),
])
def test_bad_edit_is_refused_on_its_field_and_changes_nothing(ctx, make_user, login_en, overrides, field, expected):
    programme = make_programme(name="Edit me", opens_on=date(2026, 1, 1), closes_on=date(2026, 12, 31))
    client = login_en(make_user("officer"))
    before = counts()
    response = client.post(f"/programmes/{programme.id}/edit",
                           data=programme_form(**{"name": "Edit me", "opens_on": "2026-01-01",
                                                  "closes_on": "2026-12-31", **overrides}))
    assert response.status_code == 422
    assert expected in field_error(response.get_data(as_text=True), field)
    assert counts() == before
    assert not _events("programme.parameters_changed", programme.id)


def test_service_rules_hold_without_the_form(ctx, make_user):
    officer = make_user("officer").actor()
    data = services.ProgrammeInput(name="API fund", year=2026, budget=Decimal("-1"), opens_on=date(2026, 5, 1),
                                   closes_on=date(2026, 4, 1),
                                   parameters={"weight_effect": 41, "advance_pct": Decimal("120"),
                                               "trial_cap_per_enterprise": Decimal("0.001")})
    with pytest.raises(ValidationFailed) as err:
        services.create_programme(officer, data)
    assert set(err.value.fields) == {"budget", "closes_on", "weight_effect", "advance_pct",
                                     "trial_cap_per_enterprise"}
    assert "101" in err.value.field_messages()["weight_effect"]


# --- changes and the audit trail -----------------------------------------------------------------

def test_parameter_change_writes_one_event_with_exactly_the_changed_fields(ctx, make_user, login_en):
    programme = make_programme(name="Audit me", budget=Decimal("50000000.00"), opens_on=date(2026, 3, 1),
                               closes_on=date(2026, 11, 30), pilot_industries=["pumps_valves", "auto_parts"])
    client = login_en(make_user("officer"))
    edit_page = client.get(f"/programmes/{programme.id}/edit").get_data(as_text=True)
    assert _input_value(edit_page, "budget") == "50000000.00" and _input_value(edit_page, "advance_pct") == "30.00"
    response = client.post(f"/programmes/{programme.id}/edit",
                           data=programme_form(name="Audit me", advance_pct="25", weight_effect="35",
                                               weight_quality="25", publicity_working_days="7"))
    assert response.status_code == 302
    [changed] = _events("programme.parameters_changed", programme.id)
    assert changed.before == {"advance_pct": "30.00", "weight_effect": 40, "weight_quality": 20,
                              "publicity_working_days": 5}
    assert changed.after == {"advance_pct": "25.00", "weight_effect": 35, "weight_quality": 25,
                             "publicity_working_days": 7}
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).advance_pct == Decimal("25.00")
    # Saving again unchanged writes nothing.
    again = client.post(f"/programmes/{programme.id}/edit",
                        data=programme_form(name="Audit me", advance_pct="25.00", weight_effect="35",
                                            weight_quality="25", publicity_working_days="7"))
    assert again.status_code == 302
    assert len(_events("programme.parameters_changed", programme.id)) == 1


def test_budget_cannot_go_below_what_the_ledger_commits(ctx, make_org, make_user, login_en):
    programme = make_programme(name="Committed", budget=Decimal("1000000.00"))
    ent = make_org("enterprise")
    services.reserve(SYSTEM, programme.id, funding_kind="trial_voucher", amount=Decimal("150000.00"),
                     enterprise_id=ent.id, source_type="test", source_id=1)
    services.pay(SYSTEM, "test", 1, Decimal("50000.00"), milestone="advance")
    client = login_en(make_user("officer"))
    before = counts()
    response = client.post(f"/programmes/{programme.id}/edit",
                           data=programme_form(name="Committed", budget="149999.99"))
    assert response.status_code == 422
    message = field_error(response.get_data(as_text=True), "budget")
    assert message == ("The budget cannot be less than what the fund already commits: ¥150,000.00 "
                       "(reserved ¥100,000.00, paid ¥50,000.00).")
    assert counts() == before
    ok = client.post(f"/programmes/{programme.id}/edit", data=programme_form(name="Committed", budget="150000.00"))
    assert ok.status_code == 302
    [changed] = _events("programme.parameters_changed", programme.id)
    assert changed.before == {"budget": "1000000.00"} and changed.after == {"budget": "150000.00"}


# --- figures from the ledger ----------------------------------------------------------------------

def _figure(page: str, name: str) -> str:
    return re.search(r'id="fig-%s">([^<]*)<' % name, page).group(1)


def test_programme_page_figures_come_from_the_ledger(ctx, make_org, make_user, login_en):
    programme = make_programme(name="Ledger fund", budget=Decimal("1000000.00"))
    ent, provider = make_org("enterprise", name="台账企业"), make_org("provider")
    client = login_en(make_user("finance"))
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert (_figure(page, "reserved"), _figure(page, "available")) == ("¥0.00", "¥1,000,000.00")
    assert "No ledger entries yet" in page

    services.reserve(SYSTEM, programme.id, funding_kind="trial_voucher", amount=Decimal("180000.00"),
                     enterprise_id=ent.id, provider_id=provider.id, source_type="application", source_id=7)
    services.pay(SYSTEM, "application", 7, Decimal("54000.00"), milestone="advance")
    services.reserve(SYSTEM, programme.id, funding_kind="robot_subsidy", amount=Decimal("100000.00"),
                     enterprise_id=ent.id, source_type="robot_claim", source_id=3)
    services.release(SYSTEM, "robot_claim", 3, Decimal("20000.00"))

    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert _figure(page, "budget") == "¥1,000,000.00"
    assert _figure(page, "reserved") == "¥206,000.00"  # 180,000 − 54,000 + 100,000 − 20,000
    assert _figure(page, "paid") == "¥54,000.00"
    assert _figure(page, "available") == "¥740,000.00"
    ledger = page.split('id="ledger"')[1]
    # Newest first, with kind, amount, source.
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>", ledger)
    assert rows == ["4", "3", "2", "1"]
    assert "Released" in ledger and "Paid" in ledger and "Reserved" in ledger
    assert "application #7" in ledger and "robot_claim #3" in ledger and "¥54,000.00" in ledger
    assert "台账企业" in ledger

    index = client.get("/programmes/").get_data(as_text=True)
    row = index.split("Ledger fund")[1].split("</tr>")[0]
    assert re.findall(r"¥[\d,]+\.\d\d", row) == ["¥1,000,000.00", "¥206,000.00", "¥54,000.00", "¥740,000.00"]


def test_ledger_entries_are_paginated_newest_first(app, ctx, make_org, make_user, login_en):
    programme = make_programme(name="Many entries")
    ent = make_org("enterprise")
    per_page = app.config["PAGE_SIZE"]
    for i in range(per_page + 3):
        services.reserve(SYSTEM, programme.id, funding_kind="loan_discount", amount=Decimal("100.00"),
                         enterprise_id=ent.id, source_type="loan", source_id=i)
    client = login_en(make_user("auditor"))
    first = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert re.findall(r"<tr>\s*<td>(\d+)</td>", first)[0] == str(per_page + 3)
    assert "Page 1 of 2" in first
    second = client.get(f"/programmes/{programme.id}", query_string={"page": 2}).get_data(as_text=True)
    assert re.findall(r"<tr>\s*<td>(\d+)</td>", second) == ["3", "2", "1"]


def test_programme_list_reads_the_ledger_without_a_query_per_programme(app, ctx, make_org, make_user, login_en):
    ent = make_org("enterprise")
    client = login_en(make_user("officer"))

    def queries_for_list() -> int:
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        engine = db.engines[None] if hasattr(db, "engines") else db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/programmes/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len([s for s in statements if "fund_ledger_entry" in s or "FROM programme" in s])

    for i in range(2):
        p = make_programme(name=f"Fund {i}")
        services.reserve(SYSTEM, p.id, funding_kind="trial_voucher", amount=Decimal("1000.00"),
                         enterprise_id=ent.id, source_type="app", source_id=100 + i)
    few = queries_for_list()
    for i in range(2, 8):
        p = make_programme(name=f"Fund {i}")
        services.reserve(SYSTEM, p.id, funding_kind="trial_voucher", amount=Decimal("1000.00"),
                         enterprise_id=ent.id, source_type="app", source_id=100 + i)
    assert few >= 2 and queries_for_list() == few


def test_officer_dashboard_shows_open_programmes_with_available_funds(ctx, make_user, login_en):
    today = date.today()
    make_programme(name="Open now", budget=Decimal("2000000.00"), opens_on=date(today.year - 1, 1, 1),
                   closes_on=date(today.year + 1, 12, 31))
    client = login_en(make_user("officer"))
    page = client.get("/").get_data(as_text=True)
    assert "Programmes open for applications" in page and "Open now" in page and "¥2,000,000.00 available" in page


def test_one_submission_shows_every_problem_at_once(ctx, make_user, login_en):
    client = login_en(make_user("officer"))
    before = counts()
    response = client.post("/programmes/new", data=programme_form(budget="abc", opens_on="2026-06-01",
                                                                  closes_on="2026-05-01", weight_service="14"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter an amount in yuan" in field_error(page, "budget")
    assert "before it opens" in field_error(page, "closes_on")
    assert "add up to 99" in field_error(page, "weight_effect")
    assert counts() == before


def test_programme_names_are_unique_within_a_year(ctx, make_user, login_en):
    make_programme(name="Unique fund", year=2026)
    client = login_en(make_user("officer"))
    before = counts()
    response = client.post("/programmes/new", data=programme_form(name="unique FUND"))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "name") == "A programme with this name already exists for 2026."
    assert counts() == before
    assert client.post("/programmes/new", data=programme_form(name="Unique fund", year="2027")).status_code == 302


def test_a_reservation_reads_each_running_total_once_under_the_programme_lock(ctx, make_org):
    """Every approval waits for the programme's row lock: the reservation reads the programme's,
    the enterprise's, the provider's and the grant's running totals once each (the deadline rush's
    approvals read three of them twice), and the entry it appends carries the same figures."""
    ent, provider = make_org("enterprise"), make_org("provider")
    p = make_programme()
    services.reserve(SYSTEM, p.id, funding_kind="trial_voucher", amount=Decimal("1000.00"), enterprise_id=ent.id,
                     source_type="app", source_id=1, provider_id=provider.id)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engines[None] if hasattr(db, "engines") else db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        entry = services.reserve(SYSTEM, p.id, funding_kind="trial_voucher", amount=Decimal("2500.00"),
                                 enterprise_id=ent.id, source_type="app", source_id=2, provider_id=provider.id)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM fund_ledger_entry" in s]
    assert len(reads) == 4, reads
    assert (entry.seq, entry.reserved_after, entry.enterprise_committed_after, entry.provider_committed_after,
            entry.source_outstanding_after) == (2, Decimal("3500.00"), Decimal("3500.00"), Decimal("3500.00"),
                                                Decimal("2500.00"))
    assert services.recomputed_balances(p) == services.balances(p)
