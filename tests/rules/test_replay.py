"""Replaying a drafted rule change over past decisions (issue 19 §4): the unchanged version reproduces
every stored decision (demo data, 10,000 generated robot subsidies); a lower domestic robot rate lists
exactly the robot grants it changes, each with the difference an independent computation gives; a
higher pass mark flips exactly the evaluations below it; the pages, the Excel export, publishing and
who may do what."""
from __future__ import annotations

import io
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from tests.factories import build_org, build_programme, build_user
from voucher.calc import RobotLine, RobotParams, robot_subsidy
from voucher.extensions import db
from voucher.programmes import services as programmes
from voucher.programmes.models import Programme, RuleVersion
from voucher.programmes.queries import local_today
from voucher.rules.replay import replay, replay_version
from voucher.subsidies.common import robot_params_json
from voucher.subsidies.models import RobotApplication
from voucher.subsidies.robots import robot_inputs

EN = {"Accept-Language": "en"}


def _officer():
    return build_user("officer")


def _version_1(programme) -> RuleVersion:
    return db.session.scalar(select(RuleVersion).where(RuleVersion.programme_id == programme.id,
                                                       RuleVersion.number == 1))


def _insert_robots(programme, version, enterprise_id, cases, params: RobotParams) -> list[int]:
    """Robot decisions as the submission stores them: the amount worked out by ``calc.robot_subsidy``
    under the version's parameters, the version and the snapshot of the inputs."""
    rows = []
    for lines, pilot, already in cases:
        result = robot_subsidy(lines, pilot, already, params)
        rows.append({"programme_id": programme.id, "enterprise_id": enterprise_id, "status": "submitted",
                     "industry": "pumps_valves" if pilot else "clothing", "pilot_industry": pilot,
                     "already_granted": already, "uncapped_total": result.uncapped_total,
                     "computed_subsidy": result.total_subsidy, "cap_applied": result.cap_applied,
                     "params": robot_params_json(params), "working": [], "rule_version_id": version.id,
                     "rule_inputs": robot_inputs(lines, pilot, already, params)})
    ids = db.session.scalars(insert(RobotApplication).returning(RobotApplication.id), rows).all()
    return list(ids)


def _line(i, domestic, quantity, price):
    return RobotLine(f"R-{i}", "Maker", domestic, quantity, price, f"INV-{i}", date(2026, 3, 1))


def test_replaying_the_version_in_force_changes_nothing_in_the_demo(ctx):
    from voucher.demo import seed

    seed()
    db.session.flush()
    programme = db.session.scalar(select(Programme).order_by(Programme.id))
    from voucher.auth.models import User

    actor = db.session.scalar(select(User).where(User.email == "officer@demo.test")).actor()
    draft = programmes.draft_rule_change(actor, programme.id, {}, note="unchanged")
    result = replay_version(draft)
    kinds = {c.kind for c in result.cases}
    assert kinds == {"robot_subsidy", "loan_discount", "trial_voucher", "evaluation"}, kinds
    assert result.changed == [] and result.flips == 0 and result.total_difference == 0
    assert result.not_replayable == {}


def test_replaying_the_version_in_force_reproduces_10000_generated_robot_subsidies(ctx):
    programme = build_programme()
    version = _version_1(programme)
    params = RobotParams(**{k: Decimal(v) for k, v in robot_params_json(RobotParams()).items()})
    org = build_org("enterprise")
    rng = random.Random(19)
    cases = []
    for _ in range(10_000):
        lines = [_line(j, rng.random() < 0.6, rng.randint(1, 4), Decimal(rng.randint(100_000, 60_000_000)) / 100)
                 for j in range(rng.randint(1, 3))]
        cases.append((lines, rng.random() < 0.5, Decimal(rng.choice([0, 0, 500_000, 1_900_000, 2_000_000]))))
    _insert_robots(programme, version, org.id, cases, params)
    result = replay(programme.id, programmes.parse_parameters(version.parameters))
    assert len(result.cases) == 10_000
    assert result.changed == [] and result.total_difference == 0
    assert sum(c.before_amount for c in result.cases) > 0


def _by_hand(lines, pilot, already, domestic_rate):
    """Domain rules (domain.md), written out: per line quantity × price × rate, rounded half-up to the fen
    (10% base, the domestic rate for a domestic brand, 20% for a domestic brand in a pilot industry),
    the sum limited to max(0, 2,000,000 − already granted)."""
    total = Decimal("0.00")
    for line in lines:
        rate = Decimal(10) if not line.domestic else (Decimal(20) if pilot else domestic_rate)
        total += (line.quantity * line.unit_price_excl_vat * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return min(total, max(Decimal(0), Decimal("2000000.00") - already))


case = st.tuples(
    st.lists(st.tuples(st.booleans(), st.integers(1, 5), st.integers(100_000, 80_000_000)), min_size=1, max_size=3),
    st.booleans(), st.sampled_from([0, 0, 1_000_000, 1_950_000, 2_000_000]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(case, min_size=1, max_size=8), rate=st.integers(0, 1499))
def test_a_lower_domestic_rate_lists_exactly_the_robot_grants_it_changes(ctx, cases, rate):
    new_rate = Decimal(rate) / 100
    with db.session.begin_nested() as savepoint:
        programme = build_programme()
        version = _version_1(programme)
        org = build_org("enterprise")
        built = [([_line(j, d, q, Decimal(p) / 100) for j, (d, q, p) in enumerate(lines)], pilot, Decimal(already))
                 for lines, pilot, already in cases]
        ids = _insert_robots(programme, version, org.id, built, RobotParams())
        parameters = programmes.parse_parameters(version.parameters)
        parameters["robot_domestic_rate"] = new_rate
        result = replay(programme.id, parameters)
        expected = {}
        for app_id, (lines, pilot, already) in zip(ids, built):
            before, after = _by_hand(lines, pilot, already, Decimal(15)), _by_hand(lines, pilot, already, new_rate)
            if before != after:
                expected[app_id] = after - before
        assert {c.source_id: c.difference for c in result.changed} == expected
        for app_id, (lines, pilot, _already) in zip(ids, built):
            if app_id in expected:
                assert not pilot and any(line.domestic for line in lines)
        savepoint.rollback()


def test_a_higher_pass_mark_flips_exactly_the_evaluations_below_it(ctx):
    from voucher.demo import seed
    from voucher.trials.models import Trial

    seed()
    db.session.flush()
    programme = db.session.scalar(select(Programme).order_by(Programme.id))
    version = programmes.version_in_force(programme.id, local_today())
    trials = db.session.scalars(select(Trial).where(Trial.programme_id == programme.id,
                                                    Trial.outcome.is_not(None))).all()
    means = {t.id: Decimal(t.rule_inputs["mean"]) for t in trials}
    mark = sorted(means.values())[-1]  # the best mean still passes; every lower one fails
    parameters = programmes.parse_parameters(version.parameters)
    parameters["pass_score"] = mark
    parameters["remarkable_score"] = max(mark, parameters["remarkable_score"])
    result = replay(programme.id, parameters)
    flipped = {c.source_id for c in result.cases if c.kind == "evaluation" and c.flipped}
    expected = {t.id for t in trials if t.outcome == "passed" and means[t.id] < mark}
    assert flipped == expected and expected
    assert all(c.difference == 0 for c in result.cases if c.kind == "evaluation")


def test_drafting_replaying_exporting_and_publishing_through_the_pages(client, ctx, login, make_user):
    import openpyxl

    programme = build_programme()
    version = _version_1(programme)
    org = build_org("enterprise", industry="clothing")
    domestic = [_line(1, True, 2, Decimal("150000.00"))]
    foreign = [_line(2, False, 1, Decimal("90000.00"))]
    ids = _insert_robots(programme, version, org.id, [(domestic, False, Decimal(0)), (foreign, False, Decimal(0))],
                         RobotParams())
    officer = make_user("officer")
    login(officer)
    page = client.get(f"/rules/programmes/{programme.id}").get_data(as_text=True)
    assert "规则调整" in page and 'name="robot_domestic_rate"' in page and 'value="15.00"' in page
    form = {k: str(v) for k, v in programmes.parse_parameters(version.parameters).items()}
    form.update(robot_domestic_rate="12.00", note="国产品牌比例 15% → 12%")
    response = client.post(f"/rules/programmes/{programme.id}", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    draft_url = response.headers["Location"]
    page = client.get(draft_url, headers=EN).get_data(as_text=True)
    assert 'data-figure="changed">1<' in page and 'data-figure="flips">0<' in page
    assert "-¥9,000.00" in page  # 300,000 × (12% − 15%)
    assert "data-flipped" not in page

    bad = dict(form, robot_domestic_rate="120")
    refused = client.post(draft_url, data={f"draft-{k}": v for k, v in bad.items()}, headers=EN)
    assert refused.status_code == 422 and "between 0 and 100" in refused.get_data(as_text=True)

    export = client.get(draft_url + "?format=xlsx")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 2
    draft_id = int(draft_url.rstrip("/").rsplit("/", 1)[1])

    past = client.post(f"/rules/drafts/{draft_id}/publish", headers=EN, data={
        "publish-effective_from": (local_today() - timedelta(days=1)).isoformat(), "publish-confirm": "y"})
    assert past.status_code == 422 and "cannot be in the past" in past.get_data(as_text=True)
    unconfirmed = client.post(f"/rules/drafts/{draft_id}/publish", headers=EN, data={
        "publish-effective_from": (local_today() + timedelta(days=1)).isoformat()})
    assert unconfirmed.status_code == 422
    assert db.session.get(RuleVersion, draft_id).status == "draft"
    start = local_today() + timedelta(days=1)
    done = client.post(f"/rules/drafts/{draft_id}/publish", data={
        "publish-effective_from": start.isoformat(), "publish-confirm": "y"})
    assert done.status_code == 303
    published = db.session.get(RuleVersion, draft_id)
    assert (published.status, published.number, published.effective_from) == ("published", 2, start)
    for app_id in ids:  # past decisions keep their version and amount
        app = db.session.get(RobotApplication, app_id)
        assert app.rule_version_id == version.id


@pytest.mark.parametrize("role", ["sme", "provider", "finance", "evaluator"])
def test_only_officers_draft_replay_and_publish(client, ctx, login, make_user, role):
    programme = build_programme()
    draft = programmes.draft_rule_change(build_user("officer").actor(), programme.id, {}, note="x")
    user = make_user(role, build_org("enterprise") if role == "sme" else None)
    login(user)
    assert client.get(f"/rules/programmes/{programme.id}").status_code == 403
    assert client.get(f"/rules/drafts/{draft.id}").status_code == 403
    assert client.post(f"/rules/drafts/{draft.id}/publish", data={
        "publish-effective_from": local_today().isoformat(), "publish-confirm": "y"}).status_code == 403
    assert client.post(f"/rules/drafts/{draft.id}/discard", data={"discard-reason": "x"}).status_code == 403
    assert db.session.get(RuleVersion, draft.id).status == "draft"


def test_an_auditor_reads_the_replay_but_changes_nothing(client, ctx, login, make_user):
    programme = build_programme()
    draft = programmes.draft_rule_change(build_user("officer").actor(), programme.id, {}, note="x")
    login(make_user("auditor"))
    page = client.get(f"/rules/drafts/{draft.id}")
    assert page.status_code == 200 and "rules/drafts" in page.get_data(as_text=True)
    assert 'action="/rules/drafts/%d/publish"' % draft.id not in page.get_data(as_text=True)
    assert client.post(f"/rules/drafts/{draft.id}/discard", data={"discard-reason": "x"}).status_code == 403
