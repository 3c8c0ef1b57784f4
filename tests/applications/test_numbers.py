"""One application number (受理编号) everywhere: assigned at creation, stable, unique; shown in one
format (SY-/TX-/JQ-yyyy-nnnnnn) on pages, notifications, documents, exports and the API, and never
in the old forms (13, 第 13 号, APP-000013, trial_application #13); lists find an application by it."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

import pypdf
import pytest
from sqlalchemy import select

from tests.api.conftest import Api, token_for
from tests.dashboard.conftest import as_demo, demo  # noqa: F401
from voucher.applications.models import TrialApplication
from voucher.appnumbers import format_number, parse_number
from voucher.auth.models import User
from voucher.extensions import db
from voucher.notifications.models import Notification
from voucher.payments.models import Disbursement
from voucher.programmes.models import Programme
from voucher.subsidies.models import LoanApplication, RobotApplication

NUMBER = re.compile(r"\b(SY|TX|JQ)-\d{4}-\d{6}\b")


def _old_forms(application_id: int) -> list[str]:
    """The ways a page used to name application ``application_id``."""
    return [f"APP-{application_id:06d}", f"第 {application_id} 号", f"第{application_id}号",
            f"application no. {application_id}<", f"application no. {application_id} ",
            f"trial_application #{application_id}", f"申请 {application_id}<"]


def _assert_no_old_forms(text: str, application_id: int) -> None:
    for old in _old_forms(application_id):
        assert old not in text, old


def _all_applications():
    return ([("trial_application", a) for a in db.session.scalars(select(TrialApplication))]
            + [("loan_application", a) for a in db.session.scalars(select(LoanApplication))]
            + [("robot_application", a) for a in db.session.scalars(select(RobotApplication))])


# --- the number itself ---------------------------------------------------------------------------

def test_the_format_and_typed_variants():
    assert format_number("trial_application", 2026, 13) == "SY-2026-000013"
    assert format_number("loan_application", 2026, 7) == "TX-2026-000007"
    assert format_number("robot_application", 2027, 1234567) == "JQ-2027-1234567"
    for typed in ("SY-2026-000013", "sy-2026-000013", "ＳＹ－２０２６－００００１３", " SY 2026 000013 ", "SY2026000013",
                  "SY\u20132026\u2013000013"):
        parsed = parse_number(typed)
        assert parsed is not None and parsed.text == "SY-2026-000013" and parsed.kind == "trial_application", typed
    for bad in ("13", "APP-000013", "XX-2026-000013", "SY-26-13", "", None):
        assert parse_number(bad) is None


def test_every_application_is_numbered_at_creation_once_and_uniquely(demo):
    rows = _all_applications()
    assert {kind for kind, _ in rows} == {"trial_application", "loan_application", "robot_application"}
    numbers = [a.number for _, a in rows]
    assert all(numbers) and len(set(numbers)) == len(numbers)
    for kind, a in rows:
        assert a.number == format_number(kind, db.session.get(Programme, a.programme_id).year, a.id)
    # stable: a later change of the application does not renumber it
    first = rows[0][1]
    before = first.number
    first.decision_reason = "changed"
    db.session.flush()
    db.session.expire(first)
    assert first.number == before


def test_the_number_is_unique_in_the_database(demo):
    from sqlalchemy.exc import IntegrityError

    a, b = db.session.scalars(select(TrialApplication).limit(2)).all()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            b.number = a.number
            db.session.flush()


# --- pages ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh_Hans_CN"])
def test_every_application_page_and_list_shows_the_number_in_one_format(as_demo, lang):
    client = as_demo("officer", lang)
    detail = {"trial_application": "/applications/{}", "loan_application": "/subsidies/loans/{}",
              "robot_application": "/subsidies/robots/{}"}
    for kind, a in _all_applications():
        page = client.get(detail[kind].format(a.id))
        assert page.status_code == 200, (kind, a.id)
        html = page.get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
        assert a.number in title and a.number in html
        assert f'data-application-number>{a.number}<' in html  # the timeline names it too
        _assert_no_old_forms(html, a.id)
    queue = client.get("/applications/review?status=").get_data(as_text=True)
    subsidies = client.get("/subsidies/review").get_data(as_text=True)
    for kind, a in _all_applications():
        if a.status == "draft":
            continue
        assert a.number in (queue if kind == "trial_application" else subsidies), a.number


def test_payment_pages_and_the_ledger_name_grants_by_number(as_demo):
    client = as_demo("finance")
    for d in db.session.scalars(select(Disbursement)):
        number = db.session.scalar(select({"trial_application": TrialApplication, "loan_application": LoanApplication,
                                           "robot_application": RobotApplication}[d.source_type].number)
                                   .where({"trial_application": TrialApplication, "loan_application": LoanApplication,
                                           "robot_application": RobotApplication}[d.source_type].id == d.source_id))
        html = client.get(f"/payments/disbursements/{d.id}").get_data(as_text=True)
        assert number in html
        _assert_no_old_forms(html, d.source_id)
    officer = as_demo("officer")
    trial = db.session.scalars(select(TrialApplication).where(TrialApplication.status != "draft")).first()
    ledger = officer.get(f"/programmes/{trial.programme_id}").get_data(as_text=True)
    assert NUMBER.search(ledger)


def test_the_sme_sees_its_numbers_on_its_lists(as_demo):
    client = as_demo("sme")
    sme = db.session.scalar(select(User).where(User.email == "sme@demo.test"))
    mine = client.get("/applications/mine").get_data(as_text=True)
    own = db.session.scalars(select(TrialApplication).where(TrialApplication.enterprise_id == sme.organisation_id)).all()
    assert own and all(a.number in mine for a in own)


def test_lists_find_an_application_by_its_number(as_demo):
    client = as_demo("officer")
    trial = db.session.scalars(select(TrialApplication).where(TrialApplication.status != "draft")).first()
    typed = trial.number.lower().replace("-", " ")
    html = client.get("/applications/review", query_string={"status": "", "q": typed}).get_data(as_text=True)
    assert set(NUMBER_ANY.findall(html)) == {trial.number}
    loan = db.session.scalars(select(LoanApplication).where(LoanApplication.status != "draft")).first()
    html = client.get("/subsidies/review", query_string={"q": loan.number}).get_data(as_text=True)
    assert set(NUMBER_ANY.findall(html)) == {loan.number}
    # the audit-dossier form of the reports page takes the number
    finance = as_demo("auditor")
    response = finance.get("/payments/reports", query_string={"application_id": trial.number})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/application/{trial.id}")


NUMBER_ANY = re.compile(r"(?:SY|TX|JQ)-\d{4}-\d{6}")


# --- exports -------------------------------------------------------------------------------------

def _csv(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_exports_give_the_number_in_its_own_column(as_demo):
    client = as_demo("officer")
    rows = _csv(client, "/applications/review?status=&format=csv")
    assert rows[0][0] == "Application number"
    assert rows[1:] and all(NUMBER.fullmatch(r[0]) for r in rows[1:])
    rows = _csv(client, "/subsidies/review?format=csv")
    assert rows[0][1] == "Application number" and all(NUMBER.fullmatch(r[1]) for r in rows[1:])
    programme_id = db.session.scalars(select(TrialApplication.programme_id)).first()
    rows = _csv(client, f"/programmes/{programme_id}?format=csv")
    column = rows[0].index("Application number")
    assert rows[1:] and all(NUMBER.fullmatch(r[column]) for r in rows[1:])
    sme = as_demo("sme")
    rows = _csv(sme, "/applications/mine?format=csv")
    assert rows[0][0] == "Application number" and all(NUMBER.fullmatch(r[0]) for r in rows[1:])


# --- notifications -------------------------------------------------------------------------------

def test_notifications_about_an_application_name_it_by_number(demo, ctx):
    from voucher.applications import services as trial_services
    from voucher.subsidies import services as subsidy_services

    officer = db.session.scalar(select(User).where(User.email == "officer@demo.test")).actor()
    submitted = db.session.scalars(select(TrialApplication).where(TrialApplication.status == "submitted")).first()
    trial_services.return_for_revision(officer, submitted.id, "请补充能耗台账。")
    links = {f"/applications/{submitted.id}": submitted}
    for kind, model in (("loan", LoanApplication), ("robot", RobotApplication)):
        app = db.session.scalars(select(model).where(model.status == "submitted")).first()
        if app is not None:
            subsidy_services.act(officer, kind, app.id, "return", "请补充材料。")
            links[subsidy_services.detail_path(kind, app.id)] = app
    from flask_babel import force_locale, gettext

    notes = [n for n in db.session.scalars(select(Notification)) if n.link in links]
    assert notes
    for n in notes:
        for locale in ("en", "zh_Hans_CN"):
            with force_locale(locale):
                text = gettext(n.message, **n.params)
            assert links[n.link].number in text, text
            _assert_no_old_forms(text + "<", links[n.link].id)


def test_every_subsidy_and_trial_decision_notice_carries_a_number(demo, ctx):
    """All application notifications the demo wrote (submissions, decisions) show a number."""
    from flask_babel import force_locale, gettext

    notes = [n for n in db.session.scalars(select(Notification))
             if n.link and re.fullmatch(r"/(applications|subsidies/(loans|robots))/\d+", n.link)
             and ("application" in n.message)]
    assert notes
    for n in notes:
        with force_locale("zh_Hans_CN"):
            text = gettext(n.message, **n.params)
        assert NUMBER.search(text), (n.message, text)


# --- documents -----------------------------------------------------------------------------------

def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_audit_dossier_and_payment_orders_print_the_number(demo, ctx, lang):
    from voucher.documents.builders import IssueContext
    from voucher.payments.documents import build_payment_order
    from voucher.trials.dossier import build_audit_dossier

    issue = IssueContext("7KQ3M-X9TPA", "https://voucher.example/verify/7KQ3MX9TPA",
                         datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc), 1, 1)
    trial = db.session.scalars(select(TrialApplication).where(TrialApplication.status != "draft")).first()
    name, data, _type, reference = build_audit_dossier(trial.id, lang, issue)[:4]
    assert trial.number in name and reference == trial.number
    text = _pdf_text(data)
    assert trial.number in text and "APP-" not in text
    orders = db.session.scalars(select(Disbursement)).all()
    assert orders
    for d in orders:
        model = {"trial_application": TrialApplication, "loan_application": LoanApplication,
                 "robot_application": RobotApplication}[d.source_type]
        number = db.session.get(model, d.source_id).number
        text = _pdf_text(build_payment_order(d.id, lang, issue)[1])
        assert number in re.sub(r"\s+", "", text), (d.id, number)
        _assert_no_old_forms(text, d.source_id)


# --- API -----------------------------------------------------------------------------------------

def test_the_api_gives_the_number(demo, client):
    officer = Api(client, token_for(db.session.scalar(select(User).where(User.email == "officer@demo.test"))))
    trial = db.session.scalars(select(TrialApplication).where(TrialApplication.status == "submitted")).first()
    body = officer.get(f"/trial-applications/{trial.id}").get_json()
    assert body["number"] == trial.number
    listed = officer.get("/trial-applications", query_string={"q": trial.number}).get_json()
    assert [i["number"] for i in listed["items"]] == [trial.number]
    for resource, model in (("loan-applications", LoanApplication), ("robot-applications", RobotApplication)):
        app = db.session.scalars(select(model).where(model.status != "draft")).first()
        assert officer.get(f"/{resource}/{app.id}").get_json()["number"] == app.number
        items = officer.get(f"/{resource}").get_json()["items"]
        assert items and all(NUMBER.fullmatch(i["number"]) for i in items)
