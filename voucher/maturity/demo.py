"""The demo's self-assessments: a few demo enterprises (not the demo SME's own, so its start page asks
"Where do I start?") answered the default questionnaire, so the bureau's overview has rows."""
from __future__ import annotations

from sqlalchemy import select

from voucher.audit.services import Actor
from voucher.enterprises.models import Enterprise
from voucher.extensions import db
from voucher.maturity import services
from voucher.maturity.models import MaturityAssessment
from voucher.maturity.questionnaire import structure

DEMO_ASSESSED = 8


def seed_assessments(enterprises, counts: dict) -> None:
    """Idempotent: an enterprise with an assessment is left alone.  Answers vary by enterprise and
    question (levels 1–5) so the levels differ."""
    for i, org in enumerate(enterprises[1:DEMO_ASSESSED + 1], start=1):
        if db.session.get(Enterprise, org.id) is None or db.session.scalar(
                select(MaturityAssessment.id).where(MaturityAssessment.enterprise_id == org.id).limit(1)):
            continue
        content = services.current_questionnaire().content
        answers = {q: 1 + (i + d_index + q_index) % 4 + (1 if i % 3 == 0 and d_index < 2 else 0)
                   for d_index, (_d, qs) in enumerate(structure(content)) for q_index, q in enumerate(qs)}
        services.take_assessment(Actor(user_id=None, role="sme", organisation_id=org.id, label="demo seed"),
                                 {q: min(v, 5) for q, v in answers.items()})
        counts["maturity_assessments"] = counts.get("maturity_assessments", 0) + 1
