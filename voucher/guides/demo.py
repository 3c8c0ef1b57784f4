"""The demo programme's guides: the default content saved by the demo officer (version 1), and for
the trial voucher a second version with one more question, so the version history shows."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from voucher.auth.models import User
from voucher.extensions import db
from voucher.guides import queries, services
from voucher.guides.content import Faq
from voucher.guides.models import ProgrammeGuide

EXTRA_FAQ = Faq("试用期一般多长？", "How long is a trial?",
                "由方案在目录中标明的试用期决定（天数），试用自审核通过后开始；逾期未完成的试用会被提醒。",
                "As long as the trial period the solution states in the catalogue (in days), from approval; trials "
                "past their end date are flagged.")


def seed_guides(programme, counts: dict) -> None:
    """Idempotent: a programme whose guides exist is left alone."""
    if programme is None or db.session.scalar(select(ProgrammeGuide.id).where(
            ProgrammeGuide.programme_id == programme.id).limit(1)):
        return
    user = db.session.scalar(select(User).where(User.email == "officer@demo.test"))
    if user is None:
        return
    officer = user.actor()
    saved = services.save_defaults(officer, programme.id)
    if programme.funds_trial_voucher:
        page = queries.guide_page(programme, "trial_voucher")
        content = replace(page.content, faq=page.content.faq[:-1] + (EXTRA_FAQ, page.content.faq[-1]))
        saved.append(services.save_guide(officer, programme.id, "trial_voucher", content,
                                         base_version=page.version, change_note="增加常见问题：试用期多长"))
    counts["guide_versions"] = counts.get("guide_versions", 0) + len(saved)
