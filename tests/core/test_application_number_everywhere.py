"""Every page, notification and document names an application by its one number (受理编号,
``SY-2026-000013``: :mod:`voucher.appnumbers`), never by an old form (13 alone, 第 13 号,
APP-000013, trial_application #13, Application #13).

On the demo data (a trial, loan and robot application in every state, trials with milestones,
evaluations, payments), each role visits every GET page of the URL map (ids filled as in the
every-page test), in Chinese and English:

* a page that links to an application (``/applications/7``, ``/subsidies/loans/3``…) or to a trial
  (``/trials/5``, named by its application) shows that application's number;
* the page of an application or of a trial (its sub-pages too) shows the number;
* no page shows an old form.

Then every notification the demo wrote (in-app text in both languages, the e-mail and the SMS) that
is about an application or a trial carries its number, and every generated document about one
(资金拨付单, audit dossier, evaluation report…) prints it, read back as text with pypdf.  The exports
(CSV) of the lists of applications, trials and payments have the number in a column.
"""
from __future__ import annotations

import csv
import io
import re

import pypdf
import pytest
from sqlalchemy import select

from tests.core.test_every_page_in_both_languages import _ids, _urls
from tests.factories import do_login
from voucher.extensions import db

NUMBER = re.compile(r"(?<![\w-])(SY|TX|JQ)-\d{4}-\d{6,}(?![\w-])")
# The ways an application used to be named; none may appear anywhere a person reads.
OLD_FORMS = re.compile(r"APP-\d|(?<!〕)第\s*\d+\s*号|(trial|loan|robot)_application\s*#|\b[Aa]pplication\s*(no\.\s*)?#\s*\d"
                       r"|申请\s*#\s*\d|申请\s*第|\b[Tt]rial\s*#\s*\d|试用\s*#\s*\d")
LINK = re.compile(r'href="(?:https?://[^/"]+)?/(applications|subsidies/loans|subsidies/robots|trials)/(\d+)"')
OWN_PAGE = re.compile(r"^/(applications|subsidies/loans|subsidies/robots|trials)/(\d+)(/|$)")
ROLES = ("sme", "provider", "evaluator", "officer", "finance", "auditor")


def _numbers() -> dict[tuple[str, int], str]:
    """(path prefix, id) → the number a page about it must show; a trial is named by its application."""
    from voucher.applications.models import TrialApplication
    from voucher.subsidies.models import LoanApplication, RobotApplication
    from voucher.trials.models import Trial

    out = {}
    for prefix, model in (("applications", TrialApplication), ("subsidies/loans", LoanApplication),
                          ("subsidies/robots", RobotApplication)):
        out.update({(prefix, i): n for i, n in db.session.execute(select(model.id, model.number))})
    out.update({("trials", t): n for t, n in db.session.execute(
        select(Trial.id, TrialApplication.number).join(TrialApplication, TrialApplication.id == Trial.application_id))})
    return out


def _text(html: str) -> str:
    """What a person reads: the markup's text and attribute values, entities decoded."""
    import html as html_lib

    return html_lib.unescape(re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S))


def page_problems(url: str, html: str, numbers: dict) -> list[str]:
    """The rule for one page (see the module docstring)."""
    problems = []
    text = _text(html)
    old = OLD_FORMS.search(re.sub(r"<[^>]+>", " ", text))
    if old:
        problems.append(f"{url}: old form {old.group(0)!r}")
    wanted = {(m.group(1), int(m.group(2))) for m in LINK.finditer(html)}
    own = OWN_PAGE.match(url)
    if own:
        wanted.add((own.group(1), int(own.group(2))))
    for key in sorted(wanted):
        number = numbers.get(key)
        if number is not None and number not in text:
            problems.append(f"{url}: names /{key[0]}/{key[1]} without its number {number}")
    return problems


@pytest.fixture()
def seeded(ctx):
    from voucher.demo import seed

    seed()
    db.session.commit()
    return _numbers()


def test_the_rule_catches_a_page_without_the_number():
    numbers = {("trials", 5): "SY-2026-000013", ("applications", 13): "SY-2026-000013"}
    assert page_problems("/trials/", '<a href="/trials/5">Trial</a> SY-2026-000013', numbers) == []
    assert page_problems("/trials/", '<a href="/trials/5">Trial 5</a>', numbers) == [
        "/trials/: names /trials/5 without its number SY-2026-000013"]
    assert page_problems("/applications/13/edit", "<h1>第 13 号申请</h1>", numbers) == [
        "/applications/13/edit: old form '第 13 号'",
        "/applications/13/edit: names /applications/13 without its number SY-2026-000013"]
    assert page_problems("/x", "<p>trial_application #13 APP-000013</p>", {})[0].startswith("/x: old form")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_names_applications_by_their_number(app, client, seeded, role):
    from voucher.auth.models import User

    user = db.session.scalar(select(User).where(User.email == f"{role}@demo.test"))
    assert do_login(client, f"{role}@demo.test", f"demo-{role}-pass").status_code == 302
    urls = _urls(app, _ids(role, user.organisation_id))
    problems, checked, named = [], 0, 0
    for lang in ("zh_Hans_CN", "en"):
        client.post("/lang", data={"lang": lang, "next": "/"})
        for url in urls:
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            checked += 1
            named += bool(NUMBER.search(html))
            problems += [f"{lang} {p}" for p in page_problems(url, html, seeded)]
    assert checked > 20 and named > 5
    unique = list(dict.fromkeys(problems))
    assert not unique, f"{len(unique)} problems on {role}'s pages:\n" + "\n".join(unique[:60])


# --- exports ---------------------------------------------------------------------------------------

def _csv_rows(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize(("role", "url"), [
    ("officer", "/applications/review?status=&format=csv"),
    ("officer", "/subsidies/review?format=csv"),
    ("officer", "/trials/?format=csv"),
    ("sme", "/applications/mine?format=csv"),
    ("sme", "/trials/mine?format=csv"),
    ("provider", "/trials/mine?format=csv"),
    ("finance", "/payments/queue?format=csv"),
    ("finance", "/payments/disbursements?format=csv"),
    ("provider", "/payments/mine?format=csv"),
])
def test_exports_give_the_number_in_a_column(client, seeded, role, url):
    assert do_login(client, f"{role}@demo.test", f"demo-{role}-pass").status_code == 302
    client.post("/lang", data={"lang": "en", "next": "/"})
    rows = _csv_rows(client, url)
    assert "Application number" in rows[0], rows[0]
    column = rows[0].index("Application number")
    assert rows[1:], url
    assert all(NUMBER.fullmatch(r[column]) for r in rows[1:]), [r[column] for r in rows[1:]]
    assert not any(OLD_FORMS.search(cell) for r in rows for cell in r)


# --- notifications ---------------------------------------------------------------------------------

DISBURSEMENT_PAGE = re.compile(r"^/payments/disbursements/(\d+)$")


def _subject_number(link: str | None, numbers: dict) -> str | None:
    """The number a notification linking to ``link`` must name: an application's or a trial's, or
    the grant a disbursement pays."""
    from voucher.appnumbers import number_of
    from voucher.payments.models import Disbursement

    m = OWN_PAGE.match(link or "")
    if m:
        return numbers.get((m.group(1), int(m.group(2))))
    m = DISBURSEMENT_PAGE.match(link or "")
    d = db.session.get(Disbursement, int(m.group(1))) if m else None
    return number_of(d.source_type, d.source_id) if d else None


def test_every_notification_about_an_application_names_it_by_number(seeded):
    """In-app text in both languages, the e-mail (subject and body) and the SMS of every notification
    the demo's workflow wrote about an application or a trial (milestones, evaluations, decisions,
    payments…)."""
    from flask_babel import force_locale

    from voucher.notifications import mail, sms
    from voucher.notifications.models import Notification

    notes = [n for n in db.session.scalars(select(Notification)) if _subject_number(n.link, seeded)]
    kinds = {n.link.split("/")[1] for n in notes}
    assert {"applications", "trials", "subsidies", "payments"} <= kinds, kinds
    problems = []
    for n in notes:
        number = _subject_number(n.link, seeded)
        texts = {}
        for locale in ("zh_Hans_CN", "en"):
            with force_locale(locale):
                texts[f"in-app {locale}"] = n.text()
        for locale in ("zh_Hans_CN", "en"):
            subject, body = mail._text(n, locale)
            texts[f"e-mail subject {locale}"], texts[f"e-mail {locale}"] = subject, body
            texts[f"SMS {locale}"] = sms.text_of(n, locale)
        for channel, text in texts.items():
            if number not in text:
                problems.append(f"{channel} {n.message!r}: {text!r} lacks {number}")
            if OLD_FORMS.search(text):
                problems.append(f"{channel} {n.message!r}: old form in {text!r}")
    assert not problems, "\n".join(dict.fromkeys(problems))


# --- documents -------------------------------------------------------------------------------------

def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _source_number(source_type: str, source_id: int) -> str:
    from voucher.appnumbers import number_of

    number = number_of(source_type, source_id)
    assert number and NUMBER.fullmatch(number)
    return number


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_document_about_an_application_prints_its_number(seeded, lang):
    """资金拨付单 of every disbursement, the audit dossier of every trial-voucher application, and for
    every payment batch its summary (PDF) and bank file (用途 of each line)."""
    from datetime import datetime, timezone

    from voucher.applications.models import TrialApplication
    from voucher.documents.builders import IssueContext
    from voucher.payments.documents import (
        build_bank_file,
        build_batch_summary,
        build_payment_order,
    )
    from voucher.payments.models import Disbursement, PaymentBatch
    from voucher.trials.dossier import build_audit_dossier

    issue = IssueContext("7KQ3M-X9TPA", "https://voucher.example/verify/7KQ3MX9TPA",
                         datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc), 1, 1)
    problems, seen = [], set()

    def check(what: str, text: str, numbers: set[str]) -> None:
        flat = re.sub(r"\s+", "", text)  # a table cell may wrap a number
        problems.extend(f"{what}: no {n}" for n in numbers if n not in flat)
        old = OLD_FORMS.search(text)
        if old:
            problems.append(f"{what}: old form {old.group(0)!r}")
        seen.add(what.split()[0])

    for d in db.session.scalars(select(Disbursement).where(Disbursement.status.in_(("approved", "in_batch", "paid")))):
        check(f"payment-order {d.reference}", pdf_text(build_payment_order(d.id, lang, issue)[1]),
              {_source_number(d.source_type, d.source_id)})
    for a in db.session.scalars(select(TrialApplication).where(TrialApplication.status != "draft")):
        text = pdf_text(build_audit_dossier(a.id, lang, issue)[1])
        check(f"audit-dossier {a.number}", text, {a.number})
        # The decisions and the status in words, never the machine's codes (issue 16 §7).
        codes = r"\((approve|reject|cancel)\)|trial_running|trial_completed|trial_application"
        if lang.startswith("zh"):  # in English these are also plain words
            codes += r"|\b(submitted|approved|evaluated|closed|rejected|cancelled)\b"
        raw = re.search(codes, text)
        if raw:
            problems.append(f"audit-dossier {a.number}: raw code {raw.group(0)!r}")
    for b in db.session.scalars(select(PaymentBatch).where(PaymentBatch.status != "cancelled")):
        lines = db.session.scalars(select(Disbursement).where(Disbursement.batch_id == b.id)).all()
        numbers = {_source_number(d.source_type, d.source_id) for d in lines}
        check(f"batch-summary {b.reference}", pdf_text(build_batch_summary(b.id, lang, issue)[1]), numbers)
        data = build_bank_file(b.id, lang, issue)[1]
        text = data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else data.decode("gb18030")
        rows = list(csv.reader(io.StringIO(text)))
        purpose = rows[0].index("用途")
        assert {NUMBER.search(r[purpose]).group(0) for r in rows[1:]} == numbers, b.reference
        check(f"bank-file {b.reference}", text, numbers)
    assert {"payment-order", "audit-dossier", "batch-summary", "bank-file"} <= seen, seen
    assert not problems, "\n".join(problems)


# --- API -------------------------------------------------------------------------------------------

def test_the_api_gives_application_number_on_every_resource_about_an_application(client, seeded):
    """``application_number`` on applications (all three kinds), trials, payables and disbursements."""
    from tests.api.conftest import Api, token_for
    from voucher.auth.models import User

    def api(role):
        return Api(client, token_for(db.session.scalar(select(User).where(User.email == f"{role}@demo.test"))))

    officer, finance = api("officer"), api("finance")
    checked = 0
    for path in ("/trial-applications", "/loan-applications", "/robot-applications", "/trials"):
        items = officer.get(path, query_string={"per_page": 100}).get_json()["items"]
        assert items, path
        for item in items:
            assert NUMBER.fullmatch(item["application_number"]), (path, item)
            checked += 1
        one = officer.get(f"{path}/{items[0]['id']}").get_json()
        assert one["application_number"] == items[0]["application_number"]
    for path in ("/payables", "/disbursements"):
        items = finance.get(path, query_string={"per_page": 100}).get_json()["items"]
        assert items, path
        for item in items:
            assert item["application_number"] == seeded_source(item), (path, item)
            checked += 1
    assert checked > 20


def seeded_source(item: dict) -> str:
    prefix = {"trial_application": "applications", "loan_application": "subsidies/loans",
              "robot_application": "subsidies/robots"}[item["source_type"]]
    return _numbers()[(prefix, item["source_id"])]


# --- lists read the numbers with their rows --------------------------------------------------------

ONE_APPLICATION = re.compile(r"FROM (trial|loan|robot)_application\s+WHERE \1\.id = ", re.I)


def _statements(fn) -> list[str]:
    from sqlalchemy import event

    seen = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen


@pytest.mark.parametrize(("role", "url"), [
    ("officer", "/trials/"), ("officer", "/trials/?format=csv"), ("officer", "/"), ("sme", "/"), ("provider", "/"),
    ("provider", "/trials/mine"), ("evaluator", "/"), ("evaluator", "/trials/evaluations"),
    ("finance", "/payments/queue"), ("finance", "/payments/queue?format=csv"), ("finance", "/payments/disbursements"),
    ("finance", "/payments/disbursements?format=csv"), ("provider", "/payments/mine"),
])
def test_lists_read_the_numbers_with_their_rows(client, seeded, role, url):
    """A list naming several applications reads their numbers with its rows (or in one query per
    kind): never one query per row for an application or its number."""
    assert do_login(client, f"{role}@demo.test", f"demo-{role}-pass").status_code == 302
    responses = []
    statements = _statements(lambda: responses.append(client.get(url)))
    assert responses[0].status_code == 200
    shown = {m.group(0) for m in NUMBER.finditer(responses[0].get_data(as_text=True))}
    assert len(shown) >= (1 if role == "evaluator" else 2), url  # the demo evaluator has one trial
    per_row = [s for s in statements if ONE_APPLICATION.search(s)]
    assert not per_row, per_row[:3]
