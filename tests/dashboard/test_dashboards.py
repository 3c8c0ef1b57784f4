"""The dashboards: figures read from the ledger and the records, each role's start page, the
programme statistics, and the audit chain's status (cheap, but never hiding a broken chain)."""
from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from sqlalchemy import func, select, text, update

from tests.factories import ledger_history
from voucher.audit.services import Actor
from voucher.dashboard import charts, figures
from voucher.extensions import db
from voucher.programmes import services as ledger
from voucher.programmes.models import FundLedgerEntry, Programme

OFFICER = Actor(user_id=None, role="officer", organisation_id=None, label="test officer")


def chart_options(html: str) -> dict[str, dict]:
    """Each chart's ECharts option on a page, by its key."""
    return {key: json.loads(unescape(option))
            for key, option in re.findall(r'id="chart-([\w-]+)" data-chart=\'([^\']*)\'', html)}


@pytest.fixture()
def fund(ctx, make_org):
    """A programme whose ledger has entries in March, May and June 2026 for two enterprises."""
    from datetime import date

    programme = Programme(name="统计测试项目", year=2026, budget=Decimal("1000000.00"), opens_on=date(2026, 1, 1),
                          closes_on=date(2026, 12, 31))
    db.session.add(programme)
    db.session.flush()
    from voucher.programmes.rule_versions import ensure_first_version
    ensure_first_version(programme)  # version 1, as create_programme makes it
    db.session.flush()
    ouhai = make_org("enterprise", district="ouhai", industry="clothing")
    ruian = make_org("enterprise", district="ruian", industry="auto_parts")
    steps = [("2026-03-10 10:00", "reserve", ouhai, "trial_voucher", "100000.00", 1),
             ("2026-03-20 10:00", "reserve", ruian, "robot_subsidy", "50000.00", 2),
             ("2026-05-05 10:00", "pay", ouhai, "trial_voucher", "30000.00", 1),
             ("2026-06-30 17:00", "release", ouhai, "trial_voucher", "20000.00", 1)]
    ledger_history(programme.id, steps)
    return programme


def test_fund_use_by_month_sums_the_ledger_per_local_month_with_empty_months_shown(fund):
    months = figures.fund_by_month(fund.id)
    assert [m.month for m in months] == ["2026-03", "2026-04", "2026-05", "2026-06"]
    assert [(m.reserved, m.paid, m.released) for m in months] == [
        (Decimal("150000.00"), 0, 0), (0, 0, 0), (0, Decimal("30000.00"), 0), (0, 0, Decimal("20000.00"))]


def test_a_late_evening_entry_counts_in_its_local_month():
    """30 June 23:30 in Wenzhou is 30 June 15:30 UTC; 1 July 00:30 local is still 30 June in UTC."""
    from voucher.dashboard.figures import LOCAL_TZ

    at = datetime.fromisoformat("2026-07-01 00:30+08:00")
    assert at.astimezone(LOCAL_TZ).strftime("%Y-%m") == "2026-07"


def test_fund_by_district_industry_and_kind_join_the_ledger_to_the_enterprises(fund):
    by_district = {g.code: (g.committed, g.paid, g.reserved) for g in figures.fund_by_district(fund.id)}
    assert by_district == {"ouhai": (Decimal("80000.00"), Decimal("30000.00"), Decimal("50000.00")),
                           "ruian": (Decimal("50000.00"), Decimal("0.00"), Decimal("50000.00"))}
    by_industry = {g.code: g.committed for g in figures.fund_by_industry(fund.id)}
    assert by_industry == {"clothing": Decimal("80000.00"), "auto_parts": Decimal("50000.00")}
    by_kind = {g.code: g.committed for g in figures.fund_by_kind(fund.id)}
    assert by_kind == {"trial_voucher": Decimal("80000.00"), "robot_subsidy": Decimal("50000.00")}
    # The figures agree with the ledger's own running totals.
    totals = ledger.balances(fund)
    assert sum(by_kind.values()) == totals.reserved + totals.paid


def test_the_statistics_page_draws_the_ledger_figures(fund, client, make_user, login):
    officer = make_user("officer")
    login(officer)
    client.post("/lang", data={"lang": "en", "next": "/"})
    html = client.get(f"/statistics?programme_id={fund.id}").get_data(as_text=True)
    options = chart_options(html)
    assert set(options) >= {"fund-month", "fund-kind", "fund-district", "fund-industry"}
    assert 'data-chart-empty="trial-outcomes"' in html  # no trial in this programme: said, not drawn
    month = options["fund-month"]
    assert month["xAxis"]["data"] == ["2026-03", "2026-04", "2026-05", "2026-06"]
    assert {s["name"]: s["data"] for s in month["series"]} == {
        "Reserved": [15.0, 0.0, 0.0, 0.0], "Paid": [0.0, 0.0, 3.0, 0.0], "Released": [0.0, 0.0, 0.0, 2.0]}
    district = options["fund-district"]
    assert district["yAxis"]["data"] == ["Rui'an", "Ouhai"]  # the largest at the top
    # The same figures, exactly, in the table under the chart.
    assert "¥80,000.00" in html and "¥150,000.00" in html
    assert client.get("/statistics?programme_id=999999").status_code == 404


def test_statistics_are_for_the_bureau_only(client, make_user, login):
    login(make_user("sme"))
    assert client.get("/statistics").status_code == 403


def test_trial_outcomes_and_adoption_come_from_the_trials(demo, ctx):
    from voucher.trials.models import Trial

    outcomes = figures.trial_outcomes()
    rows = dict(db.session.execute(select(Trial.outcome, func.count()).group_by(Trial.outcome)).all())
    assert outcomes["passed"] == rows.get("passed", 0) == 2
    assert outcomes["failed"] == rows.get("failed", 0) == 1
    assert outcomes["waiting"] == 1 and outcomes["pending"] == 3  # open; running ×2 and completed
    assert figures.adoption() == {"adopted": 1, "declined": 1, "waiting": 1, "rate": Decimal("50.0")}
    chart = charts.adoption()
    assert chart.option["title"]["text"] == "50.0%"


# --- each role's start page ---------------------------------------------------------------------

@pytest.mark.demo_day("2026-11-20")
def test_the_officer_sees_the_review_queue_with_deadlines_and_the_overdue_trials(as_demo):
    with time_machine.travel(datetime.fromisoformat("2026-11-20 10:00+08:00"), tick=True):
        html = as_demo("officer").get("/").get_data(as_text=True)
    waiting = re.search(r'id="waiting-table">(.*?)</table>', html, re.S).group(1)
    # The longest overdue first: submitted 20 Oct, due 3 Nov, 13 working days late on 20 Nov.
    first = re.search(r"<tbody>\s*<tr>(.*?)</tr>", waiting, re.S).group(1)
    assert "苍南县新材料塑胶有限公司" in first and "Overdue by 13 working days" in first
    assert 'id="kpi-review-overdue"' in html and "温州鹿城红蜻蜓鞋业有限公司" in html  # the overdue trial
    assert set(chart_options(html)) == {"application-statuses", "queue-age", "fund-month", "trial-outcomes"}


@pytest.mark.demo_day("2026-11-20")
def test_the_finance_officer_sees_payables_with_payment_deadlines_and_what_was_paid(as_demo):
    client = as_demo("finance")
    html = client.get("/").get_data(as_text=True)
    paid_year = db.session.scalar(select(func.coalesce(func.sum(FundLedgerEntry.amount), 0))
                                  .where(FundLedgerEntry.kind == "pay"))
    assert paid_year > 0
    kpi = re.search(r'id="kpi-paid-year">(.*?)</div></div></div>', html, re.S).group(1)
    assert f"¥{paid_year:,.2f}" in kpi
    table = re.search(r'id="payables-table">(.*?)</table>', html, re.S).group(1)
    assert table.count("<tr>") >= 3  # header + the demo's payable items
    assert "working day" in table or "Due today" in table  # payment deadline of what is payable now


def test_the_sme_sees_its_applications_quota_and_next_step(as_demo):
    html = as_demo("sme").get("/").get_data(as_text=True)
    assert "returned for revision" in re.search(r'id="next-step">(.*?)</div>\s*</div>|id="next-step">(.*?)</a>',
                                                 html, re.S).group(0)
    assert re.search(r'id="quota-remaining">¥140,000.00<', html)  # 200,000 cap − the closed trial's 60,000
    assert html.count('href="/applications/') >= 3


def test_the_provider_sees_its_trials_and_the_payments_to_it(as_demo):
    html = as_demo("provider").get("/").get_data(as_text=True)
    assert 'id="provider-trials"' in html and 'id="provider-payments"' in html
    assert "¥18,000.00" in html  # the advance of the demo SME's ERP trial, paid to this provider
    assert "浙江数联" not in html  # another provider's business is not shown


def test_the_auditor_sees_the_chain_status_and_the_sensitive_actions(as_demo):
    html = as_demo("auditor").get("/").get_data(as_text=True)
    assert "Intact:" in html
    table = re.search(r'id="sensitive-table">(.*?)</table>', html, re.S).group(1)
    for label in ("Programme parameters changed", "User account deactivated", "Trial-voucher application rejected"):
        assert label in table


def test_every_role_has_a_start_page_in_both_languages(as_demo):
    for role in ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin"):
        for lang in ("zh_Hans_CN", "en"):
            response = as_demo(role, lang).get("/")
            assert response.status_code == 200, (role, lang)


# --- the audit chain's status -------------------------------------------------------------------

def test_the_chain_status_extends_the_cached_check_with_new_events_and_catches_a_changed_one(demo, ctx):
    from voucher.audit.models import AuditEvent
    from voucher.audit.services import record_event
    from voucher.dashboard.chain import chain_status, forget

    forget()
    first = chain_status()
    assert first.report.ok and first.full_check
    record_event(OFFICER, "test.appended", "test", 1)
    second = chain_status()
    assert second.report.ok and not second.full_check and second.report.checked == first.report.checked + 1
    # The event the last check ended on is edited: caught at once, with a full check naming it.
    last_id = db.session.scalar(select(func.max(AuditEvent.id)))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == last_id).values(reason="edited afterwards"))
    third = chain_status()
    assert not third.report.ok and third.full_check and third.report.broken_event_id == last_id


def test_an_older_edited_event_is_caught_by_the_next_full_check(demo, ctx):
    from voucher.audit.models import AuditEvent
    from voucher.dashboard.chain import chain_status, forget

    forget()
    assert chain_status().report.ok
    fifth = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id).limit(5)).all()[-1]
    db.session.execute(text("UPDATE audit_event SET reason = 'forged' WHERE id = :id"), {"id": fifth})
    assert chain_status(max_age=0).report.broken_event_id == fifth
    forget()
