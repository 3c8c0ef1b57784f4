"""The demo's rule change (``make run``): the officer has drafted a lower trial-voucher cap (200,000 →
150,000), a lower domestic-brand robot rate (15% → 12%) and a higher pass mark (60 → 80) for the demo
programme, so the replay page shows approvals over the cap and a flipped evaluation. Once only."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from voucher.auth.models import User
from voucher.extensions import db
from voucher.programmes import services as programmes
from voucher.programmes.models import RuleVersion


def seed_rule_draft(programme, counts: dict) -> None:
    if db.session.scalar(select(RuleVersion.id).where(RuleVersion.programme_id == programme.id,
                                                      RuleVersion.status == "draft")):
        return
    officer = db.session.scalar(select(User).where(User.email == "officer@demo.test"))
    programmes.draft_rule_change(officer.actor(), programme.id, {"trial_cap_per_enterprise": Decimal("150000.00"),
                                                                 "robot_domestic_rate": Decimal("12.00"),
                                                                 "pass_score": Decimal("80.00")},
                                 note="试用券每户上限由 20 万元调为 15 万元，国产品牌机器人补助比例由 15% 调为 12%，"
                                      "合格线由 60 分调为 80 分（测算中）")
    counts["rule_drafts"] = counts.get("rule_drafts", 0) + 1
