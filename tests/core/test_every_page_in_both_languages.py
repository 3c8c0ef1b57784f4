"""Every page renders in Simplified Chinese and in English, with no string of the other language
and no raw code (a state, an action, an audit event name, Python text such as None or a dict).

Each demo role (and an anonymous visitor) logs in on the demo data (``voucher.demo.seed``) and
visits every GET page of the URL map: the rules without arguments, and those with ids filled from
the demo data (one record per state, plus the role's own).  Every answer is 200, 302, 403 or 404
(never a server error).  On a Chinese page no English source string (a msgid of the catalogue
whose translation differs) may appear as visible text; on an English page no Chinese translation
(a msgstr) may appear — except inside data (enterprise names, notes…: every text value stored in
the database is blanked out before the scan).  The forms are also posted empty, so their field
errors are checked too.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import JSON, String, Text, select

from tests.factories import do_login
from voucher.extensions import db
from voucher.i18n import merged_catalog

ROLES = ("anonymous", "sme", "provider", "evaluator", "officer", "finance", "auditor", "admin", "park_operator")
LANGS = ("zh_Hans_CN", "en")
# Hard-coded on purpose: the language switch names each language in that language.
ALLOWED = ("简体中文", "English")
SKIP_ENDPOINTS = {"static", "auth.logout"}
ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "data-confirm")


# --- the catalogue's strings -------------------------------------------------------------------

def _literal_letters(msgid: str) -> str:
    return re.sub(r"%\(\w+\)[sd]|%%", " ", msgid)


def _pattern(msgid: str) -> re.Pattern:
    parts = re.split(r"(%\(\w+\)[sd]|%%)", msgid)
    regex = "".join(".+?" if re.fullmatch(r"%\(\w+\)[sd]", p) else ("%" if p == "%%" else re.escape(p))
                    for p in parts)
    return re.compile(r"(?<![A-Za-z])" + regex + r"(?![A-Za-z])")


def _english_sources() -> list[tuple[str, re.Pattern]]:
    """msgids worth looking for: translated differently, with at least 4 letters of their own and a
    word of 4+ letters (short words, codes and proper nouns are left out)."""
    out = []
    for m in merged_catalog():
        if not m.id or not m.string or isinstance(m.id, tuple):
            continue
        literal = _literal_letters(m.id)
        if m.string == m.id or len(m.id) <= 3 or not re.search(r"[A-Za-z]{4,}", literal):
            continue
        if sum(c.isalpha() for c in literal) < 6 and " " not in literal.strip():
            continue  # one short word ("Home", "Paid"): found by the longer strings around it
        out.append((m.id, _pattern(m.id)))
    return out


def _chinese_translations() -> list[str]:
    out = set()
    for m in merged_catalog():
        if not m.id or not m.string or isinstance(m.string, tuple):
            continue
        for piece in re.split(r"%\(\w+\)[sd]|%%", m.string):
            piece = piece.strip(" ：:，,。.（）()·/、-–")
            if len(re.findall(r"[\u4e00-\u9fff]", piece)) >= 3:
                out.add(piece)
    return sorted(out, key=len, reverse=True)


# --- visible text ------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Visible(HTMLParser):
    """Text nodes and the announced attributes (placeholder, title, aria-label, confirmations),
    and the labels inside the charts' data; not scripts or styles, nor what the page marks
    ``translate="no"`` (codes and identifiers such as the audit trail's field names)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        skip = tag in ("script", "style") or dict(attrs).get("translate") == "no"
        if tag not in VOID:
            self._stack.append((tag, skip))
            self._skip += skip
        if self._skip:
            return
        for name, value in attrs:
            if value and name in ATTRIBUTES:
                self.parts.append(value)
            if value and name == "data-chart":
                self.parts.extend(_strings(json.loads(value)))
            if value and name == "value" and dict(attrs).get("type") in ("submit", "button"):
                self.parts.append(value)

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, skip = self._stack.pop()
            self._skip -= skip
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def visible_texts(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return [" ".join(p.split()) for p in parser.parts]


def stored_texts() -> list[str]:
    """Every text value in the database (data, not interface), longest first."""
    values: set[str] = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for v in row:
                for s in (_strings(v) if not isinstance(v, str) else [v]):
                    s = " ".join(str(s).split())
                    # Codes (status, kind, category…) are not text a person reads: leave them in.
                    if len(s) >= 2 and not re.fullmatch(r"[a-z0-9_.:/\-]+", s):
                        values.add(s)
    return sorted(values, key=len, reverse=True)


def _without_data(text: str, data: list[str]) -> str:
    for value in data:
        if value in text:
            text = text.replace(value, " ")
    return text


def _is_json(text: str) -> bool:
    if not text.startswith(("{", "[")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def raw_codes(lang: str) -> re.Pattern:
    """The codes a person must never read: every state, action and object type of the state
    machines, and audit event names (``trial_application.create``), as whole words.  On an
    English page a one-word code ("trial", "paid") is ordinary English: only codes with ``_`` or
    ``.`` count there."""
    import voucher.models  # noqa: F401  (every domain declares its machines on import)
    from voucher.workflow import MACHINES

    codes = set()
    for machine in MACHINES:
        codes.add(machine.object_type)
        codes.update(machine.states)
        codes.update(t.action for t in machine.transitions)
        codes.update(f"{machine.object_type}.{t.action}" for t in machine.transitions)
    codes = {c for c in codes if len(c) >= 3}  # a test's own machine ("x") is not a code of the product
    if lang == "en":
        codes = {c for c in codes if "_" in c or "." in c}
    words = sorted(codes, key=len, reverse=True)
    return re.compile(r"(?<![\w.])(" + "|".join(re.escape(w) for w in words) + r")(?![\w])"
                      r"|\{'\w+': |\bNone\b|\bDecimal\(")


RAW: dict[str, re.Pattern] = {}


def problems_in(html: str, lang: str, sources, translations, data) -> list[str]:
    if lang not in RAW:
        RAW[lang] = raw_codes(lang)
    found = []
    for text in visible_texts(html):
        text = _without_data(text, data)
        if not text.strip() or _is_json(text):
            continue  # data (the audit trail shows events' before/after as JSON)
        if lang == "en":
            for allowed in ALLOWED:
                text = text.replace(allowed, " ")
            found += [f"Chinese {zh!r} in {text[:80]!r}" for zh in translations if zh in text]
        else:
            hits = [msgid for msgid, pattern in sources if pattern.search(text)]
            if hits:
                found.append(f"English {max(hits, key=len)!r} in {text[:100]!r}")
        raw = RAW[lang].search(text)
        if raw:
            found.append(f"raw code {raw.group(0)!r} in {text[:100]!r}")
    return found


# --- the pages ---------------------------------------------------------------------------------

def _ids(app_role: str, org_id: int | None) -> dict[str, list]:
    """Representative ids per URL argument: one record per state, the role's own first."""
    from voucher.applications.models import TrialApplication
    from voucher.auth.models import User
    from voucher.benefits.models import BenefitCandidate, BenefitSource
    from voucher.catalogue.models import Solution
    from voucher.enterprises.models import Organisation
    from voucher.maturity.models import MaturityAssessment
    from voucher.parks.models import Park
    from voucher.programmes.models import Programme, RuleVersion
    from voucher.subsidies.models import LoanApplication, RobotApplication
    from voucher.trials.models import Evaluation, Trial

    def per_state(model, own_column=None):
        rows = db.session.execute(select(model.id, model.status).order_by(model.id)).all()
        picked, seen = [], set()
        if own_column is not None and org_id is not None:
            picked += list(db.session.scalars(select(model.id).where(own_column == org_id).order_by(model.id)))
        for rid, status in rows:
            if status not in seen:
                seen.add(status)
                picked.append(rid)
        return list(dict.fromkeys(picked))

    own_app = TrialApplication.enterprise_id if app_role == "sme" else None
    own_trial = (Trial.enterprise_id if app_role == "sme" else Trial.provider_id if app_role == "provider" else None)
    own_solution = Solution.provider_id if app_role == "provider" else None
    return {
        "trial_application": per_state(TrialApplication, own_app),
        "loan_application": per_state(LoanApplication, LoanApplication.enterprise_id if app_role == "sme" else None),
        "robot_application": per_state(RobotApplication, RobotApplication.enterprise_id if app_role == "sme" else None),
        "trial_id": per_state(Trial, own_trial),
        "solution_id": per_state(Solution, own_solution),
        "organisation_id": list(db.session.scalars(select(Organisation.id).where(Organisation.kind == "enterprise")
                                                   .order_by(Organisation.id).limit(2))),
        "programme_id": list(db.session.scalars(select(Programme.id))),
        "user_id": list(db.session.scalars(select(User.id).order_by(User.id).limit(2))),
        "evaluation_id": list(db.session.scalars(select(Evaluation.id).limit(1))),
        "assessment_id": list(db.session.scalars(select(MaturityAssessment.id).order_by(MaturityAssessment.id).limit(2))),
        # The working-day calendar: a year the package knows and the next one (none entered in the demo).
        "year": [2026, 2027],
        "park_id": list(db.session.scalars(select(Park.id).order_by(Park.id))),
        # Benefits without applying: every demo import (one per kind) and a candidate per state.
        "source_id": list(db.session.scalars(select(BenefitSource.id).order_by(BenefitSource.id))),
        "candidate_id": per_state(BenefitCandidate, BenefitCandidate.enterprise_id if app_role == "sme" else None),
        # Rule versions: every version of the demo programme(s).
        "version_id": list(db.session.scalars(select(RuleVersion.id).order_by(RuleVersion.id))),
    }


def _urls(app, ids: dict) -> list[str]:
    from voucher.trials.models import Evaluation

    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS or "GET" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        args = set(rule.arguments)
        if not args:
            urls.append(rule.rule)
            continue
        if args - {"application_id", "trial_id", "solution_id", "organisation_id", "programme_id", "user_id",
                   "evaluation_id", "year", "assessment_id", "park_id", "source_id", "candidate_id",
                   "version_id"}:
            continue  # file downloads, job pages, tokens: not pages with their own text
        if "application_id" in args:
            key = ("loan_application" if "/loans/" in rule.rule else
                   "robot_application" if "/robots/" in rule.rule else "trial_application")
            values = [{"application_id": i} for i in ids[key]]
        elif args == {"trial_id", "evaluation_id"}:
            values = [{"trial_id": t, "evaluation_id": e}
                      for e, t in db.session.execute(select(Evaluation.id, Evaluation.trial_id).limit(2))]
        else:
            (arg,) = args
            values = [{arg: i} for i in ids[arg]]
        with app.test_request_context():
            from flask import url_for

            urls += [url_for(rule.endpoint, **v) for v in values]
    return sorted(set(urls))


def _form_urls(app, get_urls: list[str]) -> list[str]:
    """Pages that are also the target of their own form (GET and POST on the same rule)."""
    posting = set()
    adapter = app.url_map.bind("localhost")
    for url in get_urls:
        try:
            endpoint, _args = adapter.match(url, method="GET")
        except Exception:
            continue
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        if "POST" in rule.methods and endpoint not in ("auth.set_language",):
            posting.add(url)
    return sorted(posting)


@pytest.fixture()
def demo(ctx):
    from voucher.demo import seed

    seed()
    db.session.commit()
    return {"sources": _english_sources(), "translations": _chinese_translations(), "data": stored_texts()}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_complete_in_chinese_and_in_english(app, client, demo, role):
    from voucher.auth.models import User

    org_id = None
    if role != "anonymous":
        user = db.session.scalar(select(User).where(User.email == f"{role}@demo.test"))
        org_id = user.organisation_id
        assert do_login(client, f"{role}@demo.test", f"demo-{role}-pass").status_code == 302
    urls = _urls(app, _ids(role, org_id))
    assert len(urls) > 40
    problems, statuses = [], {}
    seen_pages = 0
    for lang in LANGS:
        client.post("/lang", data={"lang": lang, "next": "/"})
        for url in urls:
            response = client.get(url)
            statuses[(lang, url)] = response.status_code
            assert response.status_code in (200, 302, 303, 403, 404), f"{url} ({lang}): {response.status_code}"
            if response.status_code not in (200, 403, 404) or not response.mimetype == "text/html":
                continue
            seen_pages += 1
            html = response.get_data(as_text=True)
            problems += [f"{lang} {url}: {p}" for p in problems_in(html, "en" if lang == "en" else "zh", demo["sources"],
                                                                   demo["translations"], demo["data"])]
        for url in _form_urls(app, [u for u in urls if statuses.get((lang, u)) == 200]):
            response = client.post(url, data={})
            assert response.status_code < 500, f"POST {url} ({lang}): {response.status_code}"
            if response.mimetype == "text/html" and response.status_code in (200, 400, 403, 404, 409, 422):
                html = response.get_data(as_text=True)
                problems += [f"{lang} POST {url}: {p}" for p in problems_in(
                    html, "en" if lang == "en" else "zh", demo["sources"], demo["translations"], demo["data"])]
    assert seen_pages > (10 if role == "anonymous" else 40)
    unique = list(dict.fromkeys(problems))
    assert not unique, f"{len(unique)} untranslated strings on {role}'s pages:\n" + "\n".join(unique[:60])


def test_the_scanner_finds_an_untranslated_string():
    """The check itself: an English source string on a Chinese page is reported, data is not."""
    sources = [("Waiting for review", _pattern("Waiting for review")),
               ("Due in %(n)s working days", _pattern("Due in %(n)s working days"))]
    html = ("<p>等待审核</p><span title='Due in 4 working days'>x</span><p>Cloud Waiting for review Co.</p>"
            "<td translate='no'><details><summary>status, Waiting for review</summary></details></td>")
    found = problems_in(html, "zh", sources, [], ["Cloud Waiting for review Co."])
    assert found == ["English 'Due in %(n)s working days' in 'Due in 4 working days'"]
    assert problems_in("<p>已提交：等待审核</p>", "en", [], ["等待审核"], []) == [
        "Chinese '等待审核' in '已提交：等待审核'"]
