"""The guide pages on the demo data, scanned like every other page (tests/core/test_every_page_in_
both_languages.py, which leaves out rules with a ``kind`` argument): no English interface string on
a Chinese page, no Chinese translation on an English page; the demo has its guides as versions."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.core.test_every_page_in_both_languages import (
    _chinese_translations,
    _english_sources,
    problems_in,
    stored_texts,
)
from tests.factories import do_login
from voucher.extensions import db
from voucher.guides import queries
from voucher.guides.models import ProgrammeGuide


@pytest.fixture()
def demo(ctx):
    from voucher.demo import seed
    from voucher.demo_activity import demo_programme

    seed()
    db.session.commit()
    return {"sources": _english_sources(), "translations": _chinese_translations(), "data": stored_texts(),
            "programme": demo_programme()}


@pytest.mark.parametrize("role", ["anonymous", "officer", "sme"])
def test_guide_pages_are_complete_in_both_languages(client, demo, role):
    programme = demo["programme"]
    guides = {g.kind: g.current_version for g in db.session.scalars(
        select(ProgrammeGuide).where(ProgrammeGuide.programme_id == programme.id))}
    assert guides == {"trial_voucher": 2, "loan_discount": 1, "robot_subsidy": 1}
    assert len(queries.required_materials(programme.id, "robot_subsidy")) == 8
    if role != "anonymous":
        assert do_login(client, f"{role}@demo.test", f"demo-{role}-pass").status_code == 302
    urls = ["/", "/guide/", f"/guide/{programme.id}/trial_voucher?version=1"]
    for kind in guides:
        urls += [f"/guide/{programme.id}/{kind}", f"/guide/{programme.id}/{kind}/versions"]
        if role == "officer":
            urls.append(f"/guide/{programme.id}/{kind}/edit")
    problems = []
    for lang in ("zh_Hans_CN", "en"):
        client.post("/lang", data={"lang": lang, "next": "/"})
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, url
            problems += [f"{lang} {url}: {p}" for p in problems_in(r.get_data(as_text=True), "en" if lang == "en"
                                                                   else "zh", demo["sources"], demo["translations"],
                                                                   demo["data"])]
        if role == "officer":
            r = client.post(f"/guide/{programme.id}/loan_discount/edit", data={})
            assert r.status_code == 422
            problems += [f"{lang} POST: {p}" for p in problems_in(r.get_data(as_text=True), "en" if lang == "en"
                                                                  else "zh", demo["sources"], demo["translations"],
                                                                  demo["data"])]
    assert not problems, "\n".join(problems[:40])
