"""A trial-voucher approval and a trial's evaluation outcome name the rule version in force on their
day and keep their inputs (issue 19 §3); a later version changes neither, and the pages and the API
say which version each used."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import time_machine

from tests.api.conftest import token_for
from tests.payments.conftest import World, login_as, world  # noqa: F401
from voucher.extensions import db
from voucher.programmes import services as programmes
from voucher.programmes.queries import local_today


def test_approval_and_outcome_keep_their_versions_after_a_new_one(world: World, login_as, client):  # noqa: F811
    v1 = programmes.version_in_force(world.programme.id, local_today())
    trial = world.trial("100000.00")
    application = trial.application
    assert application.rule_version_id == v1.id
    assert application.rule_inputs["amount"] == "100000.00"
    assert application.rule_inputs["trial_cap_per_enterprise"] == "200000.00"
    assert application.rule_inputs["enterprise_committed_before"] == "0.00"
    world.complete(world.kick_off(trial))
    assert trial.advance_pct == D("30.00")

    start = local_today() + timedelta(days=1)
    draft = programmes.draft_rule_change(world.officer.actor(), world.programme.id,
                                         {"pass_score": D("70.00"), "advance_pct": D("40.00")})
    v2 = programmes.publish_rule_version(world.officer.actor(), draft.id, start)
    db.session.flush()
    with time_machine.travel(datetime.combine(start, time(10), ZoneInfo("Asia/Shanghai")), tick=True):
        world.evaluate(trial, "65")  # decided on the new version's start day: pass mark 70
        assert (trial.outcome, trial.pass_score, trial.rule_version_id) == ("failed", D("70.00"), v2.id)
        assert trial.rule_inputs["pass_score"] == "70.00" and D(trial.rule_inputs["mean"]) == D("65")
        assert set(trial.rule_inputs["weights"]) == {"effect", "quality", "service", "cost_effectiveness",
                                                     "replicability"}
        db.session.expire_all()
        assert db.session.get(type(application), application.id).rule_version_id == v1.id  # the approval keeps v1
        assert trial.advance_pct == D("30.00")

        login_as(world.officer)
        page = client.get(f"/applications/{application.id}").get_data(as_text=True)
        assert f"Under rule version 1 (in force from {v1.effective_from.isoformat()})" in page
        page = client.get(f"/trials/{trial.id}").get_data(as_text=True)
        assert f"Under rule version 2 (in force from {start.isoformat()})" in page
        headers = {"Authorization": f"Bearer {token_for(world.officer)}"}
        body = client.get(f"/api/v1/trials/{trial.id}", headers=headers).get_json()
        assert body["rule_version"] == {"id": v2.id, "number": 2, "effective_from": start.isoformat()}
        body = client.get(f"/api/v1/trial-applications/{application.id}", headers=headers).get_json()
        assert body["rule_version"]["number"] == 1
