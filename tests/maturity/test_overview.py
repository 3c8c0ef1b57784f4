"""The bureau's overview: levels by district and industry (latest assessment per enterprise), the
change for enterprises assessed before and after a trial, the exports."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

from tests.maturity.conftest import answers_at
from voucher.extensions import db
from voucher.maturity import queries, services


def test_levels_by_district_and_industry_use_each_enterprises_latest(ctx, enterprise_user):
    a = enterprise_user(district="lucheng", industry="pumps_valves")
    b = enterprise_user(district="lucheng", industry="eyewear")
    c = enterprise_user(district="ouhai", industry="eyewear")
    services.take_assessment(a.actor(), answers_at(1))
    services.take_assessment(a.actor(), answers_at(4))   # the latest counts
    services.take_assessment(b.actor(), answers_at(2))
    services.take_assessment(c.actor(), answers_at({"business": 5, "data": 5, "equipment": 5, "management": 5,
                                                    "people": 5, "security": 2}))
    by_district = {r.key: r for r in queries.levels_by("district")}
    assert by_district["lucheng"].assessed == 2
    assert by_district["lucheng"].by_level == {1: 0, 2: 1, 3: 0, 4: 1, 5: 0}
    assert by_district["lucheng"].mean_overall == Decimal("3.0")
    # ouhai: mean 27/6 = 4.5 → 4, but security at 2 caps the overall level at 3
    assert by_district["ouhai"].by_level[3] == 1 and by_district["ouhai"].mean_levels["security"] == Decimal("2.0")
    by_industry = {r.key: r for r in queries.levels_by("industry")}
    assert by_industry["eyewear"].assessed == 2 and by_industry["eyewear"].mean_overall == Decimal("2.5")
    assert by_industry["pumps_valves"].mean_levels["data"] == Decimal("4.0")


def test_the_change_around_a_completed_trial(ctx, flow):
    trial = flow.completed()
    sme = flow.sme_of(trial)
    before = services.take_assessment(sme.actor(), answers_at(2))
    after = services.take_assessment(sme.actor(), answers_at({"business": 3, "data": 3, "equipment": 4,
                                                               "management": 3, "people": 2, "security": 3}))
    before.taken_at = trial.opened_at - timedelta(days=3)
    after.taken_at = trial.completed_at + timedelta(days=30)
    db.session.flush()
    other = flow.completed()   # assessed only after: no change to show
    late = services.take_assessment(flow.sme_of(other).actor(), answers_at(3))
    late.taken_at = other.completed_at + timedelta(days=1)
    db.session.flush()
    changes = queries.changes_around_trials()
    assert [c.trial_id for c in changes] == [trial.id]
    change = changes[0]
    assert (change.before.id, change.after.id) == (before.id, after.id)
    assert change.overall_change == 1 and change.change("equipment") == 2 and change.change("people") == 0


def test_the_overview_page_and_its_exports_for_the_bureau(ctx, client, login, make_user, enterprise_user):
    sme = enterprise_user(district="yueqing", industry="electrical")
    services.take_assessment(sme.actor(), answers_at(3))
    login(make_user("auditor"))
    page = client.get("/maturity/overview")
    assert page.status_code == 200 and 'data-key="yueqing"' in page.get_data(as_text=True)
    client.post("/lang", data={"lang": "en"})
    for table, first in (("district", "Yueqing"), ("industry", "Electrical equipment"), ("changes", None)):
        response = client.get(f"/maturity/overview?format=csv&table={table}")
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        if first:
            assert rows[1][:2] == [first, "1"] and rows[1][4] == "1"  # one enterprise, at level 3
        else:
            assert rows[0][:2] == ["Enterprise", "Solution"] and len(rows) == 1
    assert client.get("/maturity/overview?format=pdf").status_code == 400
