"""The rule-change pages attacked: other spellings of an id, a 40-digit parameter, a name that looks like a
formula in the Excel export, the clock a year ahead, and (PostgreSQL) two publications at the same instant.
Each gets a clear 4xx or the right result, never a 500, and never two versions starting together."""
from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import build_org, build_programme, build_user
from voucher.extensions import db
from voucher.programmes import services as programmes
from voucher.programmes.models import RuleVersion
from voucher.programmes.queries import local_today
from voucher.rules.replay import replay_version

EN = {"Accept-Language": "en"}


def _draft(programme, **changes):
    return programmes.draft_rule_change(build_user("officer").actor(), programme.id, changes, note="x")


@pytest.mark.parametrize("path", ["/rules/drafts/{id}x", "/rules/drafts/-{id}", "/rules/drafts/" + "9" * 40,
                                  "/rules/programmes/" + "9" * 40, "/rules/drafts/{id}/publish/"])
def test_other_spellings_of_an_id_are_a_404(client, ctx, login, make_user, path):
    draft = _draft(build_programme())
    login(make_user("officer"))
    assert client.get(path.format(id=draft.id)).status_code == 404


def test_a_leading_zero_names_the_same_draft(client, ctx, login, make_user):
    draft = _draft(build_programme())
    login(make_user("officer"))
    assert client.get(f"/rules/drafts/0{draft.id}").status_code == 200


def test_full_width_digits_are_the_same_amount(client, ctx, login, make_user):
    programme = build_programme()
    login(make_user("officer"))
    form = {k: str(v) for k, v in programmes.parse_parameters(
        programmes.version_in_force(programme.id, local_today()).parameters).items()}
    form["robot_enterprise_cap"] = "１５０００００"
    assert client.post(f"/rules/programmes/{programme.id}", data=form).status_code == 303
    draft = db.session.scalar(select(RuleVersion).where(RuleVersion.status == "draft"))
    assert programmes.parse_parameters(draft.parameters)["robot_enterprise_cap"] == Decimal("1500000.00")


def test_a_published_version_is_not_a_draft_page(client, ctx, login, make_user):
    programme = build_programme()
    first = db.session.scalar(select(RuleVersion).where(RuleVersion.programme_id == programme.id))
    login(make_user("officer"))
    assert client.get(f"/rules/drafts/{first.id}").status_code == 404
    assert client.post(f"/rules/drafts/{first.id}/publish", data={
        "publish-effective_from": local_today().isoformat(), "publish-confirm": "y"}).status_code == 404


@pytest.mark.parametrize("value", ["9" * 40, "1e400", "NaN", "-1", "=1+1", "1.234"])
def test_a_huge_or_odd_parameter_is_refused_with_the_field_named(client, ctx, login, make_user, value):
    programme = build_programme()
    login(make_user("officer"))
    form = {k: str(v) for k, v in programmes.parse_parameters(
        programmes.version_in_force(programme.id, local_today()).parameters).items()}
    form["robot_enterprise_cap"] = value
    response = client.post(f"/rules/programmes/{programme.id}", data=form, headers=EN)
    assert response.status_code == 422
    assert 'id="robot_enterprise_cap-err"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(RuleVersion)
                             .where(RuleVersion.status == "draft")) == 0


def test_a_name_starting_with_equals_stays_text_in_the_export(client, ctx, login, make_user):
    import openpyxl

    from tests.rules.test_replay import _insert_robots, _line, _version_1
    from voucher.calc import RobotParams

    programme = build_programme()
    org = build_org("enterprise", name='=HYPERLINK("http://x.example","y")', industry="clothing")
    _insert_robots(programme, _version_1(programme), org.id,
                   [([_line(1, True, 1, Decimal("100000.00"))], False, Decimal(0))], RobotParams())
    draft = _draft(programme, robot_domestic_rate=Decimal("12.00"))
    login(make_user("officer"))
    export = client.get(f"/rules/drafts/{draft.id}?format=xlsx")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    cells = [row[2] for row in sheet.iter_rows(min_row=2)]
    # Shown as the text it is, never stored as a formula (voucher.exports types text cells as strings).
    assert [c.value for c in cells] == ['=HYPERLINK("http://x.example","y")']
    assert all(c.data_type == "s" for c in cells)


def test_the_clock_a_year_ahead(client, ctx, login, make_user):
    programme = build_programme()  # its window closes 90 days from today
    draft = _draft(programme, pass_score=Decimal("70.00"))
    user = make_user("officer")
    ahead = datetime.combine(local_today() + timedelta(days=366), datetime.min.time()).replace(hour=10)
    with time_machine.travel(ahead, tick=False):
        login(user)
        assert client.get(f"/rules/drafts/{draft.id}").status_code == 200  # the replay still reads
        refused = client.post(f"/rules/drafts/{draft.id}/publish", headers=EN, data={
            "publish-effective_from": local_today().isoformat(), "publish-confirm": "y"})
        assert refused.status_code == 422
        assert "after the programme&#39;s window closes" in refused.get_data(as_text=True) \
            or "window closes" in refused.get_data(as_text=True)
    assert db.session.get(RuleVersion, draft.id).status == "draft"
    assert replay_version(draft).changed == []


@needs_postgres
def test_two_publications_at_the_same_instant_make_one_version(committed_app):
    app = committed_app
    with app.app_context(), app.test_request_context():
        programme = build_programme()
        officer = build_user("officer")
        drafts = [programmes.draft_rule_change(officer.actor(), programme.id, {"pass_score": Decimal(s)}, note=s)
                  for s in ("65.00", "70.00")]
        db.session.commit()
        ids, officer_id, programme_id = [d.id for d in drafts], officer.id, programme.id
        start = local_today() + timedelta(days=2)
        db.session.remove()
    barrier = threading.Barrier(2)
    outcomes = []

    def publish(version_id):
        from voucher.auth.models import User
        from voucher.errors import DomainError

        with app.app_context(), app.test_request_context():
            actor = db.session.get(User, officer_id).actor()
            barrier.wait(timeout=30)
            try:
                programmes.publish_rule_version(actor, version_id, start)
                db.session.commit()
                outcomes.append("published")
            except DomainError as err:
                db.session.rollback()
                outcomes.append(err.status)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(map(str, outcomes)) == ["422", "published"]
    with app.app_context():
        rows = db.session.scalars(select(RuleVersion).where(RuleVersion.programme_id == programme_id,
                                                            RuleVersion.status == "published")).all()
        assert sorted(v.number for v in rows) == [1, 2]
        db.session.remove()
