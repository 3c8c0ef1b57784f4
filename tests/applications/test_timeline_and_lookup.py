"""The progress timeline on an application page (stages done with dates, the stage now, who acts
next, the promised date in working days, both languages) and the public look-up by number + USCC
(stage only; the same answer for a wrong USCC as for an unknown number; rate limited)."""
from __future__ import annotations

import re

import pytest
import time_machine

from tests.applications.conftest import build_programme, build_solution, content, token
from tests.factories import attach_required_materials
from voucher.applications import services
from voucher.extensions import db, limiter
from voucher.timeline import happy_path
from voucher.workflow import StateMachine, transition

SUBMITTED_AT = "2026-03-02 02:00:00+00:00"  # Monday 10:00 in Beijing; 10 working days → 2026-03-16


@pytest.fixture()
def march(db_conn):
    with time_machine.travel(SUBMITTED_AT, tick=False):
        yield


@pytest.fixture()
def filed(march, sme, provider_org):
    programme = build_programme()
    solution = build_solution(provider_org, title="智能仓储试用")
    app, _ = services.create_application(sme.actor(), token=token(), programme_id=programme.id,
                                         solution_id=solution.id, content=content("80000.00"))
    attach_required_materials(app)
    services.submit(sme.actor(), app.id)
    return app


@pytest.fixture()
def officer(make_user):
    return make_user("officer")


def _timeline(html: str) -> str:
    m = re.search(r"<section class=\"card mb-3 app-timeline\".*?</section>", html, re.S)
    assert m, "no timeline on the page"
    return m.group(0)


def _steps(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-stage="([a-z_]+)" data-step="([a-z]+)"', html)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_submitted_application_shows_done_now_who_and_the_promised_date(client, login, filed):
    from voucher.auth.models import User

    user = db.session.scalar(db.select(User).where(User.organisation_id == filed.enterprise_id))
    login(user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = _timeline(client.get(f"/applications/{filed.id}").get_data(as_text=True))
    assert _steps(html)[:3] == [("draft", "done"), ("submitted", "current"), ("approved", "pending")]
    assert [c for c, _ in _steps(html)] == ["draft", "submitted", "approved", "trial_running", "trial_completed",
                                            "acceptance", "evaluated", "balance_paid", "closed"]
    text = _text(html)
    assert filed.number in text
    assert "2026-03-02 10:00" in text  # the dates of the stages done (local time)
    assert "Who acts next: the bureau (programme officer)" in text
    assert "Due by 2026-03-16 (working days; the bureau's promise)" in text
    assert "Due in 10 working days" in text
    client.post("/lang", data={"lang": "zh_Hans_CN", "next": "/"})
    zh = _text(_timeline(client.get(f"/applications/{filed.id}").get_data(as_text=True)))
    assert "下一步办理方：经信局（项目经办人）" in zh and "承诺办结日期 2026-03-16" in zh and "当前环节" in zh


def test_returned_approved_and_the_trial_stages(client, login, filed, officer, march):
    services.return_for_revision(officer.actor(), filed.id, "请补充能耗台账。")
    login(officer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = _timeline(client.get(f"/applications/{filed.id}").get_data(as_text=True))
    assert ("returned", "side") in _steps(html) and ("submitted", "done") in _steps(html)
    assert "Who acts next: the enterprise" in _text(html) and "Due by" not in _text(html)

    from voucher.auth.models import User

    user = db.session.scalar(db.select(User).where(User.organisation_id == filed.enterprise_id))
    services.submit(user.actor(), filed.id)
    services.approve(officer.actor(), filed.id)
    html = _timeline(client.get(f"/applications/{filed.id}").get_data(as_text=True))
    assert _steps(html)[:4] == [("draft", "done"), ("submitted", "done"), ("approved", "current"),
                                ("trial_running", "pending")]
    assert "Who acts next: the solution provider, the enterprise" in _text(html)


def test_the_stages_come_from_the_state_machine_so_a_new_state_fits():
    machine = StateMachine("x", ("draft", "submitted", "approved", "returned", "running", "acceptance", "paid"), (
        transition("submit", ("draft", "returned"), "submitted", "sme"),
        transition("return", "submitted", "returned", "officer"),
        transition("approve", "submitted", "approved", "officer"),
        transition("start", "approved", "running", "sme"),
        transition("accept", "running", "acceptance", ("sme", "provider")),
        transition("pay", "acceptance", "paid", "finance"),
    ))
    assert happy_path(machine) == [("draft", ("sme",)), ("submitted", ("officer",)), ("approved", ("sme",)),
                                   ("running", ("provider", "sme")), ("acceptance", ("finance",)), ("paid", ())]


def test_a_subsidy_page_has_the_timeline_with_its_payment_stage(client, login, officer):
    """Loan and robot pages end with the payment (from the fund ledger) after approval."""
    from voucher.subsidies.services import LOAN_MACHINE
    from voucher.timeline import PAID

    assert [c for c, _ in happy_path(LOAN_MACHINE)] == ["draft", "submitted", "approved"]
    assert PAID == "paid"


# --- the public look-up -------------------------------------------------------------------------

def _lookup(client, number, uscc):
    return client.post("/progress", data={"number": number, "uscc": uscc})


def _answer(response) -> str:
    html = response.get_data(as_text=True)
    m = re.search(r'<div class="(?:alert|card)[^"]*" role="status" data-progress-result="(\w+)">(.*?)</div>', html, re.S)
    return m.group(0) if m else ""


def test_the_look_up_answers_the_stage_only(client, filed, march):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    uscc = filed.enterprise.uscc
    response = _lookup(client, filed.number.lower(), f" {uscc.lower()} ")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-progress-result="found"' in html
    assert "Submitted: bureau review" in html and "the bureau (programme officer)" in html and "2026-03-16" in html
    for secret in (filed.enterprise.name, "智能仓储试用", "80,000", "80000"):
        assert secret not in html


def test_a_wrong_uscc_and_an_unknown_number_get_the_same_answer(client, filed, make_org):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    other_uscc = make_org("enterprise").uscc
    wrong = _lookup(client, filed.number, other_uscc)
    unknown_number = filed.number[:-6] + f"{filed.id + 9000:06d}"
    missing = _lookup(client, unknown_number, filed.enterprise.uscc)
    assert wrong.status_code == missing.status_code == 200
    assert _answer(wrong) == _answer(missing) != ""
    assert 'data-progress-result="none"' in _answer(wrong)
    bad = _lookup(client, "13", filed.enterprise.uscc)  # not a number's shape: the field says so
    assert bad.status_code == 422 and "SY-2026-000013" in bad.get_data(as_text=True)


def test_the_look_up_is_rate_limited(app, client, filed, monkeypatch):
    monkeypatch.setitem(app.config, "PROGRESS_LOOKUP_RATE_LIMIT", "3 per minute")
    limiter.reset()
    codes = [_lookup(client, filed.number, "91330300MA2X000000").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert client.get("/progress").status_code == 200  # the form itself stays readable
