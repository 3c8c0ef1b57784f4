"""Dated rule versions (issue 19 §3): version 1 with every programme, the version in force by day,
publishing rules, published versions frozen, the read-only pages (bureau only, both languages), the
API, the programme form's parameters guarded once a decision uses the version in force, and no
module outside programmes reading a parameter column."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.api.conftest import token_for
from tests.factories import fresh_user
from tests.programmes.conftest import field_error, make_programme, programme_form
from voucher.audit.models import AuditEvent
from voucher.errors import Conflict, ValidationFailed
from voucher.extensions import db
from voucher.programmes import services
from voucher.programmes.models import PARAMETER_DEFAULTS, Programme, RuleVersion
from voucher.programmes.rule_versions import ensure_first_version, parse


@pytest.fixture()
def officer(ctx):
    return fresh_user("officer")


@pytest.fixture()
def two_versions(officer):
    """A programme (window 2026-03-01 to 11-30) with version 1 and version 2 from 2026-06-01
    (robot domestic rate 15% → 12%, pass mark 60 → 65), published on 2026-05-01."""
    programme = make_programme(name="Versioned fund")
    v1 = ensure_first_version(programme)
    draft = services.draft_rule_change(officer.actor(), programme.id,
                                       {"robot_domestic_rate": Decimal("12.00"), "pass_score": Decimal("65.00")},
                                       note="Lower domestic tier", based_on_id=v1.id)
    v2 = services.publish_rule_version(officer.actor(), draft.id, date(2026, 6, 1), today=date(2026, 5, 1))
    return programme, v1, v2


# --- version 1 and the version in force --------------------------------------------------------------

def test_creating_a_programme_makes_version_1_with_its_parameters(ctx, officer, login_en):
    client = login_en(officer)
    response = client.post("/programmes/new", data=programme_form(name="Fresh fund", robot_domestic_rate="14.00"))
    assert response.status_code == 302
    programme = db.session.scalar(select(Programme).where(Programme.name == "Fresh fund"))
    versions = list(db.session.scalars(select(RuleVersion).where(RuleVersion.programme_id == programme.id)))
    assert [(v.number, v.status, v.effective_from) for v in versions] == [(1, "published", date(2026, 3, 1))]
    values = parse(versions[0].parameters)
    assert values["robot_domestic_rate"] == Decimal("14.00")
    assert {k: v for k, v in values.items() if k != "robot_domestic_rate"} == \
        {k: v for k, v in PARAMETER_DEFAULTS.items() if k != "robot_domestic_rate"}
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "rule_version.published",
                                                         AuditEvent.object_id == str(versions[0].id)))


def test_the_version_in_force_by_day(two_versions):
    programme, v1, v2 = two_versions
    assert v2.number == 2 and v2.status == "published" and v2.based_on_id == v1.id
    assert services.version_in_force(programme.id, date(2026, 1, 15)).id == v1.id  # before the first start
    assert services.version_in_force(programme.id, date(2026, 3, 1)).id == v1.id  # on version 1's start day
    assert services.version_in_force(programme.id, date(2026, 5, 31)).id == v1.id  # between
    assert services.version_in_force(programme.id, date(2026, 6, 1)).id == v2.id  # on version 2's start day
    version, values = services.parameters_on(programme.id, date(2026, 9, 1))
    assert version.id == v2.id and values["robot_domestic_rate"] == Decimal("12.00")
    assert services.parameters_on(programme.id, date(2026, 5, 31))[1]["robot_domestic_rate"] == Decimal("15.00")


def test_publishing_refuses_a_past_day_and_a_day_not_after_the_latest_start(two_versions, officer):
    programme, _v1, v2 = two_versions
    draft = services.draft_rule_change(officer.actor(), programme.id, {"advance_pct": Decimal("40.00")})
    with pytest.raises(ValidationFailed) as past:
        services.publish_rule_version(officer.actor(), draft.id, date(2026, 6, 9), today=date(2026, 6, 10))
    assert past.value.field == "effective_from"
    for day in (date(2026, 6, 1), date(2026, 5, 20)):  # the latest start itself, and before it
        with pytest.raises(ValidationFailed) as not_after:
            services.publish_rule_version(officer.actor(), draft.id, day, today=date(2026, 5, 10))
        assert not_after.value.field == "effective_from"
    assert db.session.get(RuleVersion, draft.id).status == "draft"
    v3 = services.publish_rule_version(officer.actor(), draft.id, date(2026, 6, 2), today=date(2026, 6, 2))
    assert v3.number == 3 and services.version_in_force(programme.id, date(2026, 6, 2)).id == v3.id
    assert services.version_in_force(programme.id, date(2026, 6, 1)).id == v2.id


def test_a_published_version_cannot_be_changed_or_discarded(two_versions, officer):
    _programme, v1, v2 = two_versions
    before = dict(v2.parameters)
    for version in (v1, v2):
        with pytest.raises(Conflict):
            services.update_draft(officer.actor(), version.id, {"robot_base_rate": Decimal("5.00")})
        with pytest.raises(Conflict):
            services.discard_draft(officer.actor(), version.id, "no")
    assert db.session.get(RuleVersion, v2.id).parameters == before


# --- the pages ---------------------------------------------------------------------------------------

def test_the_version_pages_show_the_versions_what_changed_and_every_parameter(two_versions, officer, login_en):
    programme, v1, v2 = two_versions
    client = login_en(officer)
    page = client.get(f"/programmes/{programme.id}/rule-versions").get_data(as_text=True)
    row = re.search(r'<tr id="version-%s">(.*?)</tr>' % v2.id, page, re.S).group(1)
    assert "Version 2" in row and "Published" in row and "Lower domestic tier" in row
    assert "15.00 → 12.00" in row and "60.00 → 65.00" in row
    one = client.get(f"/programmes/rule-versions/{v2.id}")
    assert one.status_code == 200
    text = one.get_data(as_text=True)
    assert re.search(r'id="param-robot_domestic_rate">\s*12.00', text)
    assert re.search(r'id="param-pass_score">\s*65.00', text)
    assert officer.name in text  # who published it
    detail = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert f"/programmes/{programme.id}/rule-versions" in detail


def test_the_version_pages_in_chinese(two_versions, officer, login):
    programme, _v1, v2 = two_versions
    client = login(officer)
    page = client.get(f"/programmes/{programme.id}/rule-versions").get_data(as_text=True)
    assert "规则版本" in page and "第 2 版" in page
    assert "第 2 版规则" in client.get(f"/programmes/rule-versions/{v2.id}").get_data(as_text=True)


@pytest.mark.parametrize("role", ["sme", "provider", "evaluator"])
def test_version_pages_are_forbidden_outside_the_bureau(two_versions, login, make_org, role):
    programme, _v1, v2 = two_versions
    org = make_org("enterprise" if role == "sme" else "provider") if role in ("sme", "provider") else None
    client = login(fresh_user(role, org))
    assert client.get(f"/programmes/{programme.id}/rule-versions").status_code == 403
    assert client.get(f"/programmes/rule-versions/{v2.id}").status_code == 403


def test_the_api_lists_versions_and_gives_one(two_versions, officer, client, make_org):
    programme, v1, v2 = two_versions
    headers = {"Authorization": f"Bearer {token_for(officer)}"}
    listed = client.get(f"/api/v1/programmes/{programme.id}/rule-versions", headers=headers)
    assert listed.status_code == 200
    body = listed.get_json()
    assert [(v["number"], v["effective_from"]) for v in body] == [(2, "2026-06-01"), (1, "2026-03-01")]
    assert body[0]["changed"]["robot_domestic_rate"] == {"before": "15.00", "after": "12.00"}
    one = client.get(f"/api/v1/programmes/{programme.id}/rule-versions/{v2.id}", headers=headers).get_json()
    assert one["parameters"]["robot_domestic_rate"] == "12.00" and one["decisions"] == 0
    other = make_programme(name="Other fund")
    assert client.get(f"/api/v1/programmes/{other.id}/rule-versions/{v2.id}", headers=headers).status_code == 404
    sme = fresh_user("sme", make_org("enterprise"))
    assert client.get(f"/api/v1/programmes/{programme.id}/rule-versions",
                      headers={"Authorization": f"Bearer {token_for(sme)}"}).status_code == 403


# --- the programme form's parameters -------------------------------------------------------------------

def _decision_on(version: RuleVersion, programme: Programme):
    """A robot application that names the version (as a submitted one does)."""
    from tests.factories import build_org
    from voucher.subsidies.models import RobotApplication

    org = build_org("enterprise")
    app = RobotApplication(programme_id=programme.id, enterprise_id=org.id, status="submitted", pilot_industry=False,
                           industry="clothing", already_granted=Decimal("0"), uncapped_total=Decimal("1.00"),
                           computed_subsidy=Decimal("1.00"), cap_applied=False, rule_version_id=version.id)
    db.session.add(app)
    db.session.flush()
    return app


def test_the_form_changes_the_version_in_force_while_no_decision_uses_it(ctx, officer, login_en):
    programme = make_programme(name="Unused fund")
    v1 = ensure_first_version(programme)
    client = login_en(officer)
    response = client.post(f"/programmes/{programme.id}/edit",
                           data=programme_form(name="Unused fund", robot_domestic_rate="13.00"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert parse(db.session.get(RuleVersion, v1.id).parameters)["robot_domestic_rate"] == Decimal("13.00")
    assert db.session.get(Programme, programme.id).robot_domestic_rate == Decimal("13.00")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rule_version.parameters_changed",
                                                       AuditEvent.object_id == str(v1.id)))
    assert event is not None and "robot_domestic_rate" in str(event.after)


def test_the_form_refuses_a_parameter_change_once_a_decision_uses_the_version(ctx, officer, login_en):
    programme = make_programme(name="Used fund")
    v1 = ensure_first_version(programme)
    _decision_on(v1, programme)
    client = login_en(officer)
    response = client.post(f"/programmes/{programme.id}/edit",
                           data=programme_form(name="Used fund", robot_domestic_rate="13.00"))
    assert response.status_code == 422
    message = field_error(response.get_data(as_text=True), "robot_domestic_rate")
    assert message and "draft a rule change" in message and f"/rules/programmes/{programme.id}" in message
    db.session.expire_all()
    assert parse(db.session.get(RuleVersion, v1.id).parameters)["robot_domestic_rate"] == Decimal("15.00")
    assert db.session.get(Programme, programme.id).robot_domestic_rate == Decimal("15.00")
    # The other fields stay editable.
    ok = client.post(f"/programmes/{programme.id}/edit", data=programme_form(name="Used fund", budget="60000000.00"))
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).budget == Decimal("60000000.00")


# --- nothing outside programmes reads a parameter column ------------------------------------------------

def test_no_module_outside_programmes_reads_a_parameter_column():
    top = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\bprogramme\.(%s)\b" % "|".join(PARAMETER_DEFAULTS))
    found = []
    for path in [*(top / "voucher").rglob("*.py"), *(top / "templates").rglob("*.html")]:
        rel = path.relative_to(top)
        if rel.parts[1] == "programmes":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == [], "\n".join(found)


def test_the_edit_form_shows_the_parameters_of_the_version_in_force(two_versions, officer, login_en):
    import time_machine

    programme, _v1, _v2 = two_versions
    with time_machine.travel("2026-07-01T10:00:00+08:00", tick=False):
        page = login_en(officer).get(f"/programmes/{programme.id}/edit").get_data(as_text=True)
        assert re.search(r'name="robot_domestic_rate"[^>]*value="12.00"', page) or \
            re.search(r'value="12.00"[^>]*name="robot_domestic_rate"', page)
        detail = login_en(officer).get(f"/programmes/{programme.id}").get_data(as_text=True)
        assert "Rule version 2 is in force today (from 2026-06-01)." in detail
    with time_machine.travel("2026-05-15T10:00:00+08:00", tick=False):
        page = login_en(officer).get(f"/programmes/{programme.id}/edit").get_data(as_text=True)
        assert re.search(r'name="robot_domestic_rate"[^>]*value="15.00"', page) or \
            re.search(r'value="15.00"[^>]*name="robot_domestic_rate"', page)
