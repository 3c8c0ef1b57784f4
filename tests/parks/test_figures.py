"""The park's figures and each member's programme use, over a built data set: every figure the pages,
the API and the workbook show is recomputed here independently (Python over every row, no SQL sums),
and the pending member and the other park's member never count."""
from __future__ import annotations

import secrets
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import select

from tests.applications.conftest import build_solution, content
from tests.factories import attach_required_materials, build_programme, fresh_user
from voucher.applications import services as applications
from voucher.applications.models import TrialApplication
from voucher.extensions import db
from voucher.parks import maturity, queries
from voucher.programmes import services as programmes
from voucher.programmes.models import FundLedgerEntry
from voucher.subsidies.models import LoanApplication, RobotApplication
from voucher.trials.models import Trial

APPROVED = queries.APPROVED_STATES


@pytest.fixture()
def data(parks):
    """Trial applications in several states for a1, a2, the pending a3 and the other park's b1; robot
    applications as rows; ledger moves (reserve, partial release, pay) on a1's grants; adoption
    decisions on a1's trials."""
    programme = build_programme()
    solution = build_solution(fresh_user("provider").organisation)
    officer = fresh_user("officer").actor()

    def trial_app(who, state, amount="10000.00"):
        actor = who.user.actor()
        app, _ = applications.create_application(actor, token=secrets.token_urlsafe(24), programme_id=programme.id,
                                                 solution_id=solution.id, content=content(amount))
        attach_required_materials(app)
        if state in ("submitted", "approved"):
            applications.submit(actor, app.id)
        if state == "approved":
            applications.approve(officer, app.id)
        return app

    apps = [trial_app(parks.a1, "draft"), trial_app(parks.a1, "submitted"), trial_app(parks.a1, "approved"),
            trial_app(parks.a1, "approved", "20000.00"), trial_app(parks.a2, "submitted"),
            trial_app(parks.a3, "approved"), trial_app(parks.b1, "approved")]
    for who, status in ((parks.a1, "approved"), (parks.a1, "rejected"), (parks.a2, "approved"),
                        (parks.b1, "approved")):
        db.session.add(RobotApplication(programme_id=programme.id, enterprise_id=who.org.id, status=status,
                                        industry="pumps_valves", already_granted=Decimal(0),
                                        uncapped_total=Decimal(0), computed_subsidy=Decimal(0)))
    db.session.flush()
    robots = list(db.session.scalars(select(RobotApplication).order_by(RobotApplication.id)))
    programmes.reserve(officer, programme.id, funding_kind="robot_subsidy", amount=Decimal("50000.00"),
                       enterprise_id=parks.a1.org.id, source_type="robot_application", source_id=robots[0].id)
    programmes.release(officer, "robot_application", robots[0].id, Decimal("5000.00"))
    programmes.pay(officer, "robot_application", robots[0].id, Decimal("30000.00"), "full")
    programmes.reserve(officer, programme.id, funding_kind="robot_subsidy", amount=Decimal("12345.67"),
                       enterprise_id=parks.a2.org.id, source_type="robot_application", source_id=robots[2].id)
    programmes.pay(officer, "trial_application", apps[2].id, Decimal("3000.00"), "advance")
    trials = {t.application_id: t for t in db.session.scalars(select(Trial))}
    trials[apps[2].id].adopted = True
    trials[apps[3].id].adopted = False
    trials[apps[5].id].adopted = True   # the pending member's: never counted
    trials[apps[6].id].adopted = True   # the other park's: never counted
    db.session.flush()
    return parks


def expected_for(ids: set[int]) -> dict:
    """Every figure, from every row, in Python."""
    out = {"apps": {}, "trials": 0, "adopted": 0, "decisions": 0, "granted": Decimal("0.00"),
           "paid": Decimal("0.00"), "filers": set()}
    for kind, model in (("trial", TrialApplication), ("loan", LoanApplication), ("robot", RobotApplication)):
        by_status: dict = {}
        for row in db.session.scalars(select(model)):
            if row.enterprise_id in ids:
                by_status[row.status] = by_status.get(row.status, 0) + 1
                if row.status != "draft":
                    out["filers"].add(row.enterprise_id)
        out["apps"][kind] = by_status
    for t in db.session.scalars(select(Trial)):
        if t.enterprise_id in ids:
            out["trials"] += 1
            out["adopted"] += t.adopted is True
            out["decisions"] += t.adopted is not None
    for e in db.session.scalars(select(FundLedgerEntry)):
        if e.enterprise_id in ids:
            out["granted"] += {"reserve": e.amount, "release": -e.amount}.get(e.kind, Decimal(0))
            out["paid"] += {"pay": e.amount, "return": -e.amount}.get(e.kind, Decimal(0))
    return out


def test_park_figures_match_an_independent_count(data):
    members = {data.a1.org.id, data.a2.org.id}
    f = queries.figures(data.park_a.id)
    want = expected_for(members)
    assert f.members == 2 and f.pending == 1
    assert f.applications == {k: v for k, v in want["apps"].items()}
    assert f.filed == {k: sum(n for s, n in v.items() if s != "draft") for k, v in want["apps"].items()}
    assert f.approved == {k: sum(n for s, n in v.items() if s in APPROVED) for k, v in want["apps"].items()}
    assert f.active == len(want["filers"]) == 2
    assert (f.trials, f.adopted, f.decisions) == (want["trials"], want["adopted"], want["decisions"]) == (2, 1, 2)
    assert f.granted == want["granted"] and f.paid == want["paid"]
    # the figures written out: 10,000 + 20,000 trial vouchers, 50,000 − 5,000 robot, 12,345.67 robot
    assert f.granted == Decimal("87345.67") and f.paid == Decimal("33000.00")
    assert f.adoption_rate == (Decimal(1) * 100 / 2).quantize(Decimal("0.1"), ROUND_HALF_UP) == Decimal("50.0")


def test_each_members_use_matches(data):
    page = queries.members_page(data.park_a.id, None, 1, 50)
    assert [m.organisation.id for m in page.items] == sorted(
        [data.a1.org.id, data.a2.org.id], key=lambda i: ({data.a1.org.id: data.a1.org.name,
                                                          data.a2.org.id: data.a2.org.name}[i], i))
    for m in page.items:
        want = expected_for({m.organisation.id})
        u = m.usage
        assert u.applications == {k: v for k, v in want["apps"].items() if v}
        assert (u.trials, u.adopted, u.granted, u.paid) == (want["trials"], want["adopted"], want["granted"],
                                                            want["paid"])
        for kind, by_status in want["apps"].items():
            assert u.filed(kind) == sum(n for s, n in by_status.items() if s != "draft")
            assert u.approved(kind) == sum(n for s, n in by_status.items() if s in APPROVED)
        assert u.maturity == ""  # no maturity provider registered


def test_the_other_park_sees_only_its_own(data):
    f = queries.figures(data.park_b.id)
    want = expected_for({data.b1.org.id})
    assert f.members == 1 and f.pending == 0 and f.trials == want["trials"] == 1 and f.adopted == 1
    assert f.granted == want["granted"] == Decimal("10000.00")


def test_search_and_pages(data):
    assert [m.organisation.id for m in queries.members_page(data.park_a.id, "甲二", 1, 50).items] == [data.a2.org.id]
    assert [m.organisation.id for m in queries.members_page(data.park_a.id, data.a1.org.uscc.lower(), 1,
                                                            50).items] == [data.a1.org.id]
    assert queries.members_page(data.park_a.id, "甲三", 1, 50).total == 0   # pending: not a member yet
    assert queries.members_page(data.park_a.id, "100%_", 1, 50).total == 0  # LIKE characters are literal
    first, second = queries.members_page(data.park_a.id, None, 1, 1), queries.members_page(data.park_a.id, None, 2, 1)
    assert first.total == 2 and first.pages == 2 and first.items[0].organisation.id != second.items[0].organisation.id


def test_the_maturity_hook_fills_the_column(data):
    registered = list(maturity._PROVIDER)  # the self-assessment's, registered by create_app
    maturity.register_maturity_provider(lambda ids: {i: f"L{i % 5}" for i in ids})
    try:
        page = queries.members_page(data.park_a.id, None, 1, 50)
        assert {m.organisation.id: m.usage.maturity for m in page.items} == {
            data.a1.org.id: f"L{data.a1.org.id % 5}", data.a2.org.id: f"L{data.a2.org.id % 5}"}
        maturity.register_maturity_provider(None)
        assert maturity.maturity_levels([data.a1.org.id]) == {}
    finally:
        maturity.register_maturity_provider(registered[0] if registered else None)


def test_the_members_show_their_latest_self_assessment_level(data, ctx):
    """The provider create_app registers: the member's latest overall level, in the page's words."""
    from tests.maturity.conftest import answers_at
    from voucher.maturity import services as assessments

    assessments.take_assessment(data.a1.user.actor(), answers_at(1))
    assessments.take_assessment(data.a1.user.actor(), answers_at(3))  # the latest counts
    page = queries.members_page(data.park_a.id, None, 1, 50)
    assert {m.organisation.id: m.usage.maturity for m in page.items} == {
        data.a1.org.id: "三级：局部集成", data.a2.org.id: ""}  # the default language
