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

def _subject_number(link: str | None, numbers: dict) -> str | None:
    m = OWN_PAGE.match(link or "")
    return numbers.get((m.group(1), int(m.group(2)))) if m else None


def test_every_notification_about_an_application_names_it_by_number(seeded):
    """In-app text in both languages, the e-mail (subject and body) and the SMS of every notification
    the demo's workflow wrote about an application or a trial (milestones, evaluations, decisions,
    payments…)."""
    from flask_babel import force_locale

    from voucher.notifications import mail, sms
    from voucher.notifications.models import Notification

    notes = [n for n in db.session.scalars(select(Notification)) if _subject_number(n.link, seeded)]
    kinds = {OWN_PAGE.match(n.link).group(1) for n in notes}
    assert {"applications", "trials", "subsidies/loans"} <= kinds
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
