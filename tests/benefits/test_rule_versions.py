"""A benefits candidate names the rule version in force on the day of the match and keeps a snapshot
of its calculation's inputs (issue 19 §3); its page says which version it used."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from tests.benefits.conftest import TODAY
from tests.factories import do_login
from voucher.benefits.matching import match_candidates
from voucher.benefits.models import BenefitCandidate
from voucher.extensions import db
from voucher.programmes import services as programmes


def test_a_candidate_names_the_version_of_the_match_day_with_its_inputs(seeded, client):
    v1 = programmes.version_in_force(seeded.programme.id, TODAY)
    draft = programmes.draft_rule_change(seeded.officer, seeded.programme.id, {"robot_domestic_rate": Decimal("12.00")})
    v2 = programmes.publish_rule_version(seeded.officer, draft.id, date(2026, 6, 16))  # from tomorrow
    match_candidates(seeded.officer, TODAY)
    robot = db.session.scalar(select(BenefitCandidate).where(BenefitCandidate.enterprise_id == seeded.a.id,
                                                             BenefitCandidate.kind == "robot"))
    loan = db.session.scalar(select(BenefitCandidate).where(BenefitCandidate.enterprise_id == seeded.a.id,
                                                            BenefitCandidate.kind == "loan"))
    assert robot.rule_version_id == v1.id != v2.id and loan.rule_version_id == v1.id
    assert robot.rule_inputs["pilot_industry"] is True and len(robot.rule_inputs["lines"]) == 3
    assert robot.rule_inputs["params"]["domestic_rate"] == "15.00"
    assert loan.rule_inputs["benchmark_rate"] and loan.rule_inputs["periods"]
    do_login(client, seeded.officer_user)
    page = client.get(f"/benefits/candidates/{robot.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Under rule version 1 (in force from" in page and f"/programmes/rule-versions/{v1.id}" in page
