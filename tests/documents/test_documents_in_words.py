"""Every document of the demo data read back as text (pypdf): in Chinese, no English interface
string and no raw code (a state, an action, an audit event name, Python text); in English, no code
with ``_`` or ``.`` (issue 16 §7).  The same scanner as the pages
(``tests/core/test_every_page_in_both_languages.py``), with the stored data blanked out."""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pypdf
import pytest
from sqlalchemy import select

from tests.core.test_every_page_in_both_languages import (
    _chinese_translations,
    _english_sources,
    problems_in,
    stored_texts,
)
from voucher.extensions import db


def pdf_lines(data: bytes) -> list[str]:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture()
def seeded(ctx):
    from voucher.demo import seed

    seed()
    db.session.commit()
    return {"sources": _english_sources(), "translations": _chinese_translations(), "data": stored_texts()}


def _documents(lang: str):
    """(name, pdf bytes) of every kind of PDF over the demo data."""
    from voucher.applications.models import TrialApplication
    from voucher.documents.builders import IssueContext
    from voucher.payments.documents import (
        build_batch_summary,
        build_payment_order,
        build_programme_report,
    )
    from voucher.payments.models import Disbursement, PaymentBatch
    from voucher.programmes.models import Programme
    from voucher.trials.dossier import build_audit_dossier

    issue = IssueContext("7KQ3M-X9TPA", "https://voucher.example/verify/7KQ3MX9TPA",
                         datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc), 1, 1)
    for d in db.session.scalars(select(Disbursement).where(Disbursement.status.in_(("approved", "in_batch",
                                                                                     "paid")))):
        yield f"payment order {d.reference}", build_payment_order(d.id, lang, issue)[1]
    for a in db.session.scalars(select(TrialApplication).where(TrialApplication.status != "draft")):
        yield f"audit dossier {a.number}", build_audit_dossier(a.id, lang, issue)[1]
    for b in db.session.scalars(select(PaymentBatch).where(PaymentBatch.status != "cancelled")):
        yield f"batch summary {b.reference}", build_batch_summary(b.id, lang, issue)[1]
    for p in db.session.scalars(select(Programme)):
        yield f"programme report {p.id}", build_programme_report(p.id, lang, issue)[1]


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_every_document_reads_in_words_of_its_language(seeded, lang):
    short = "zh" if lang.startswith("zh") else "en"
    seen, problems = set(), []

    def found(text: str) -> set[str]:
        html = f"<p>{text.replace('&', '&amp;').replace('<', '&lt;')}</p>"
        return {p.split(" in ", 1)[0] for p in problems_in(html, lang, seeded["sources"], seeded["translations"],
                                                           seeded["data"])}

    for name, data in _documents(short):
        seen.add(name.rsplit(" ", 1)[0])
        lines = pdf_lines(data)
        by_line = set().union(*(found(line) for line in lines)) if lines else set()
        # A paragraph of stored data wraps over lines (so a line holds part of it, not blanked out);
        # joined, English words run together: a finding counts when both readings show it.
        problems += [f"{name}: {p}" for p in sorted(by_line & found("".join(lines)))]
    assert {"payment order", "audit dossier", "batch summary", "programme report"} <= seen, seen
    assert problems == [], "\n".join(problems[:30])


def test_the_scanner_finds_a_raw_code_in_a_document_line(seeded):
    html = "<p>状态 trial_running</p>"
    assert problems_in(html, "zh_Hans_CN", seeded["sources"], seeded["translations"], seeded["data"])
