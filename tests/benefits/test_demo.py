"""The demo's benefits (``make run``): one import of each kind made through the services, the match run
once; the demo SME sees its open candidates on its start page, the officer sees open ones and one
excluded by the blacklist (not the demo SME's), with the figures by district and industry."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import do_login
from voucher.audit.models import AuditEvent
from voucher.auth.models import User
from voucher.benefits.models import BenefitCandidate, BenefitSource
from voucher.extensions import db


def test_the_demo_has_sources_and_candidates_made_by_the_services(client, ctx):
    from voucher.demo import seed

    created = seed()
    db.session.commit()
    assert created["benefit_sources"] == 3
    assert sorted(db.session.scalars(select(BenefitSource.kind))) == ["blacklist", "loan_statement", "robot_invoice"]
    assert all(s.refused_count == 0 for s in db.session.scalars(select(BenefitSource)))
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "benefit_source.imported")) == 3
    sme = db.session.scalar(select(User).where(User.email == "sme@demo.test"))
    own = db.session.scalars(select(BenefitCandidate).where(BenefitCandidate.enterprise_id == sme.organisation_id)).all()
    assert sorted(c.kind for c in own) == ["loan", "robot"] and {c.status for c in own} == {"open"}
    excluded = db.session.scalars(select(BenefitCandidate).where(BenefitCandidate.status == "excluded")).all()
    assert len(excluded) == 1 and excluded[0].enterprise_id != sme.organisation_id
    assert db.session.scalar(select(func.count()).select_from(BenefitCandidate)
                             .where(BenefitCandidate.status == "open")) >= 4

    assert do_login(client, "sme@demo.test", "demo-sme-pass").status_code == 302
    assert "/benefits/mine" in client.get("/").get_data(as_text=True)
    assert client.get("/benefits/mine").get_data(as_text=True).count('data-status="open"') == 2
    client.post("/logout")
    assert do_login(client, "officer@demo.test", "demo-officer-pass").status_code == 302
    page = client.get("/benefits/candidates").get_data(as_text=True)
    assert "data-counts" in page and page.count("data-candidate=") == db.session.scalar(
        select(func.count()).select_from(BenefitCandidate))
    assert client.get("/benefits/candidates?status=excluded").get_data(as_text=True).count("data-candidate=") == 1

    assert seed() == {}  # loaded again: no second import, no second match
