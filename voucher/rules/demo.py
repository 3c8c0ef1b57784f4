"""The demo's rule change (``make run``): the officer has drafted a lower domestic-brand robot rate
(15% → 12%) for the demo programme, so the replay page shows what it would have changed. Once only."""
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
    programmes.draft_rule_change(officer.actor(), programme.id, {"robot_domestic_rate": Decimal("12.00"),
                                                                 "pass_score": Decimal("70.00")},
                                 note="国产品牌机器人补助比例由 15% 调为 12%，合格线由 60 分调为 70 分（测算中）")
    counts["rule_drafts"] = counts.get("rule_drafts", 0) + 1
