"""A robot subsidy is fixed under the rule version in force on the day it is submitted (issue 19 §3):
an application submitted before a version with a lower domestic rate keeps its version and amount
(also when approved after the new version starts); one submitted on or after the start day uses the
new rate, even when its draft was saved before; each page says which version it used."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from tests.subsidies.conftest import EN, fresh, robot_form, robot_line
from tests.subsidies.test_robot_applications import post_new
from voucher.extensions import db
from voucher.programmes import services as programmes
from voucher.programmes.models import RuleVersion
from voucher.programmes.queries import local_today
from voucher.subsidies.models import RobotApplication


def _create(client, programme, invoice):
    response = post_new(client, robot_form(programme, robot_line(0, invoice=invoice)))  # 2 × 150,000 domestic
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _submit(client, app_id):
    assert client.post(f"/subsidies/robots/{app_id}/submit").status_code == 302
    return fresh(RobotApplication, app_id)


def test_a_lower_domestic_rate_applies_from_its_start_day_and_earlier_decisions_keep_theirs(
        client, other_sme, officer, programme, login):
    v1 = db.session.scalar(db.select(RuleVersion).where(RuleVersion.programme_id == programme.id))
    login(other_sme)  # clothing: not a pilot industry, so the domestic rate (15%) applies
    before = _submit(client, _create(client, programme, "3300261109-00000201"))
    assert (before.rule_version_id, before.computed_subsidy) == (v1.id, Decimal("45000.00"))
    assert before.rule_inputs["lines"][0]["unit_price_excl_vat"] == "150000.00"
    assert before.rule_inputs["pilot_industry"] is False and before.rule_inputs["params"]["domestic_rate"] == "15.00"
    saved_early = _create(client, programme, "3300261109-00000202")  # a draft, saved under version 1
    assert fresh(RobotApplication, saved_early).computed_subsidy == Decimal("45000.00")

    start = local_today() + timedelta(days=1)
    draft = programmes.draft_rule_change(officer.actor(), programme.id, {"robot_domestic_rate": Decimal("12.00")},
                                         note="Domestic tier 15% → 12%")
    v2 = programmes.publish_rule_version(officer.actor(), draft.id, start)
    db.session.flush()

    with time_machine.travel(datetime.combine(start, time(10), ZoneInfo("Asia/Shanghai")), tick=False):
        login(other_sme)
        after = _submit(client, _create(client, programme, "3300261109-00000203"))
        assert (after.rule_version_id, after.computed_subsidy) == (v2.id, Decimal("36000.00"))  # 300,000 × 12%
        assert after.lines[0].rate == Decimal("12.00")
        late = _submit(client, saved_early)  # submitted on the start day: fixed under version 2
        assert (late.rule_version_id, late.computed_subsidy) == (v2.id, Decimal("36000.00"))
        assert late.rule_inputs["params"]["domestic_rate"] == "12.00"

        login(officer)
        for app_id, amount in ((before.id, "45000.00"), (after.id, "36000.00")):
            assert client.post(f"/subsidies/robots/{app_id}/approve", headers=EN).status_code == 302
            assert fresh(RobotApplication, app_id).approved_amount == Decimal(amount)
        kept = fresh(RobotApplication, before.id)
        assert (kept.rule_version_id, kept.computed_subsidy, kept.lines[0].rate) == (
            v1.id, Decimal("45000.00"), Decimal("15.00"))

        page = client.get(f"/subsidies/robots/{before.id}", headers=EN).get_data(as_text=True)
        assert f"Under rule version 1 (in force from {v1.effective_from.isoformat()})" in page
        assert f'href="/programmes/rule-versions/{v1.id}"' in page
        page = client.get(f"/subsidies/robots/{after.id}", headers=EN).get_data(as_text=True)
        assert f"Under rule version 2 (in force from {start.isoformat()})" in page
        login(other_sme)
        page = client.get(f"/subsidies/robots/{after.id}").get_data(as_text=True)  # Chinese, no link for the SME
        assert f"按第 2 版规则（自 {start.isoformat()} 起施行）" in page
        assert "/programmes/rule-versions/" not in page
