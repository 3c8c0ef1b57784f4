"""The pages: the officer's imports (upload, report by row and column, template), all candidates
(filters, counts by district and industry, export), the enterprise's panel, list, answer; 403 for
other roles and other enterprises."""
from __future__ import annotations

import io

from sqlalchemy import select

from tests.benefits.conftest import TODAY
from voucher.benefits.matching import match_candidates
from voucher.benefits.models import BenefitCandidate
from voucher.extensions import db


def test_officer_uploads_a_file_and_sees_the_report(client, login, make_user, db_conn):
    login(make_user("officer"))
    assert client.get("/benefits/sources").status_code == 200
    template = client.get("/benefits/templates/blacklist.csv")
    assert template.status_code == 200 and "统一社会信用代码" in template.get_data(as_text=True)
    assert client.get("/benefits/templates/nothing.csv").status_code == 404
    data = "USCC,Listed from,Source\n91330300MA2ABCDE14,2026-01-01,信用中国\nbad,2026-13-01,x\n".encode()
    response = client.post("/benefits/sources", data={"kind": "blacklist", "file": (io.BytesIO(data), "list.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-refused" in page and "统一社会信用代码" in page and "列入日期" in page
    refused = client.post("/benefits/sources", data={"kind": "blacklist", "file": (io.BytesIO(b"USCC\nx\n"), "l.csv")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "data-refused" in refused.get_data(as_text=True)


def test_other_roles_may_not_import_nor_see_the_sources(client, login, make_user, db_conn):
    for role in ("sme", "provider", "finance", "evaluator"):
        login(make_user(role))
        assert client.get("/benefits/sources").status_code == 403, role
        assert client.get("/benefits/candidates").status_code == 403, role
    login(make_user("auditor"))
    assert client.get("/benefits/sources").status_code == 200
    assert client.post("/benefits/sources", data={"kind": "blacklist"}).status_code == 403
    assert client.post("/benefits/match").status_code == 403


def test_officer_sees_all_candidates_with_counts_and_exports(client, login, seeded):
    match_candidates(seeded.officer, TODAY)
    login(seeded.officer_user)
    page = client.get("/benefits/candidates").get_data(as_text=True)
    assert page.count("data-candidate=") == 7 and "data-counts" in page
    excluded = client.get("/benefits/candidates?status=excluded").get_data(as_text=True)
    assert excluded.count("data-candidate=") == 1 and "信用中国" in excluded
    assert client.get("/benefits/candidates?district=lucheng&kind=robot").get_data(as_text=True) \
        .count("data-candidate=") == 2  # 服装乙 and the excluded 失信丙
    export = client.get("/benefits/candidates?format=csv")
    assert export.status_code == 200 and "泵阀甲" in export.get_data(as_text=True)
    assert client.post("/benefits/match").status_code == 302


def test_the_enterprise_sees_its_candidates_declines_and_another_gets_403(client, login, seeded, make_user):
    match_candidates(seeded.officer, TODAY)
    user = make_user("sme", seeded.b)
    login(user)
    home = client.get("/").get_data(as_text=True)
    assert "/benefits/mine" in home
    mine = client.get("/benefits/mine").get_data(as_text=True)
    assert mine.count("data-candidate=") == 2
    own = db.session.scalars(select(BenefitCandidate).where(BenefitCandidate.enterprise_id == seeded.b.id,
                                                            BenefitCandidate.kind == "robot")).one()
    detail = client.get(f"/benefits/candidates/{own.id}").get_data(as_text=True)
    assert "data-evidence" in detail and 'data-condition="invoice"' in detail
    other = db.session.scalars(select(BenefitCandidate).where(BenefitCandidate.enterprise_id == seeded.a.id)).first()
    assert client.get(f"/benefits/candidates/{other.id}").status_code == 403
    assert client.post(f"/benefits/candidates/{other.id}/decline", data={"reason": "x"}).status_code == 403
    assert client.post(f"/benefits/candidates/{own.id}/decline", data={"reason": ""}).status_code == 422
    assert client.post(f"/benefits/candidates/{own.id}/decline", data={"reason": "不需要"}).status_code == 302
    db.session.refresh(own)
    assert own.status == "declined"
    refused = client.post(f"/benefits/candidates/{own.id}/confirm", data={"declaration": "y", "account": "y"})
    assert refused.status_code == 409


def test_the_enterprise_confirms_on_the_page(client, login, seeded, make_user):
    match_candidates(seeded.officer, TODAY)
    login(make_user("sme", seeded.b))
    own = db.session.scalars(select(BenefitCandidate).where(BenefitCandidate.enterprise_id == seeded.b.id,
                                                            BenefitCandidate.kind == "robot")).one()
    missing = client.post(f"/benefits/candidates/{own.id}/confirm", data={"account": "y"})
    assert missing.status_code == 422 and "data-errors" in missing.get_data(as_text=True)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    data = {"account": "y", "declaration": "y",
            **{f"lines.{i}.invoice_file": (io.BytesIO(pdf), f"invoice-{i}.pdf") for i in range(2)}}
    done = client.post(f"/benefits/candidates/{own.id}/confirm", data=data, content_type="multipart/form-data")
    assert done.status_code == 302 and "/subsidies/robots/" in done.headers["Location"]
    assert client.get(done.headers["Location"]).status_code == 200
