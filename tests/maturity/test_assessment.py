"""Taking the self-assessment, the questionnaire's versions, the pages and the start-page card."""
from __future__ import annotations

import copy
import json
import re

import pytest
from sqlalchemy import select

from tests.factories import fresh_user
from tests.maturity.conftest import answers_at
from voucher.audit.models import AuditEvent
from voucher.errors import Forbidden, ValidationFailed
from voucher.extensions import db
from voucher.maturity import queries, services
from voucher.maturity.models import MaturityAssessment, MaturityQuestionnaire
from voucher.maturity.questionnaire import DEFAULT_CONTENT, DIMENSIONS


def test_the_default_questionnaire_is_seeded_once_on_first_use(ctx):
    first = services.current_questionnaire()
    again = services.current_questionnaire()
    assert first.id == again.id and first.version == 1 and first.content == DEFAULT_CONTENT
    assert db.session.scalar(select(db.func.count()).select_from(MaturityQuestionnaire)) == 1


def test_taking_it_stores_levels_per_dimension_and_overall_and_is_audited(ctx, enterprise_user):
    sme = enterprise_user()
    row = services.take_assessment(sme.actor(), {k: str(v) for k, v in answers_at(
        {"business": 3, "data": 2, "equipment": 4, "management": 3, "people": 1, "security": 2}).items()})
    assert row.enterprise_id == sme.organisation_id
    assert {d: row.level(d) for d in DIMENSIONS} == {"business": 3, "data": 2, "equipment": 4, "management": 3,
                                                      "people": 1, "security": 2}
    # mean 15/6 = 2.5 → 2; weakest 1 allows at most 2
    assert row.overall_level == 2 and row.overall_score == "2.50"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "maturity_assessment.take")).one()
    assert event.object_id == str(row.id)


def test_every_question_is_required_and_all_missing_are_named_at_once(ctx, enterprise_user):
    sme = enterprise_user()
    answers = answers_at(3)
    del answers["b1"], answers["s3"]
    answers["d1"] = 9
    with pytest.raises(ValidationFailed) as err:
        services.take_assessment(sme.actor(), answers)
    assert set(err.value.fields) == {"b1", "s3", "d1"}
    assert err.value.params["count"] == 3
    assert db.session.scalar(select(db.func.count()).select_from(MaturityAssessment)) == 0


def test_a_new_version_is_answered_from_then_on_and_past_assessments_keep_theirs(ctx, enterprise_user, make_user):
    sme = enterprise_user()
    old = services.take_assessment(sme.actor(), answers_at(2))
    officer = make_user("officer")
    content = copy.deepcopy(DEFAULT_CONTENT)
    content["dimensions"][0]["questions"].append(
        {"code": "b4", "text": {"en": "Do you sell online?", "zh": "是否开展线上销售？"},
         "options": [{"level": 1, "text": {"en": "No", "zh": "否"}}, {"level": 4, "text": {"en": "Yes", "zh": "是"}}]})
    v2 = services.publish_questionnaire(officer.actor(), content, "Online sales")
    assert v2.version == 2 and services.current_questionnaire().id == v2.id
    with pytest.raises(ValidationFailed):  # the old answers lack b4
        services.take_assessment(sme.actor(), answers_at(2))
    new = services.take_assessment(sme.actor(), {**answers_at(2), "b4": 4})
    assert new.questionnaire.version == 2 and old.questionnaire.version == 1
    assert "b4" not in old.questionnaire.content["dimensions"][0]["questions"][-1]["code"]
    with pytest.raises(ValidationFailed):  # the same questions again: nothing to publish
        services.publish_questionnaire(officer.actor(), content, None)
    with pytest.raises(Forbidden):
        services.publish_questionnaire(make_user("auditor").actor(), content, None)


@pytest.mark.parametrize("mutate, words", [
    (lambda c: c["dimensions"].pop(), "dimensions must be"),
    (lambda c: c["dimensions"][1]["questions"][0].update(code="b1"), "unique code"),
    (lambda c: c["dimensions"][1]["questions"][0].update(code="csrf_token"), "unique code"),
    (lambda c: c["dimensions"][1]["questions"][0].update(code="D 1"), "lower-case"),
    (lambda c: c["dimensions"][2]["questions"][0]["options"][0].update(level=7), "level from 1 to 5"),
    (lambda c: c["dimensions"][3]["questions"][0]["text"].pop("zh"), "English (en) and in Chinese (zh)"),
    (lambda c: c["dimensions"][4]["questions"][0].update(options=[c["dimensions"][4]["questions"][0]["options"][0]]),
     "at least two options"),
])
def test_a_malformed_questionnaire_is_refused_naming_the_place(ctx, make_user, mutate, words):
    content = copy.deepcopy(DEFAULT_CONTENT)
    mutate(content)
    with pytest.raises(ValidationFailed) as err:
        services.publish_questionnaire(make_user("officer").actor(), content, None)
    assert words in err.value.render() and err.value.field == "content"
    assert db.session.scalar(select(db.func.count()).select_from(MaturityQuestionnaire)) <= 1


def test_another_enterprise_gets_403_and_the_bureau_reads(ctx, enterprise_user, make_user):
    mine, other = enterprise_user(), enterprise_user()
    row = services.take_assessment(mine.actor(), answers_at(3))
    assert services.get_assessment(mine.actor(), row.id).id == row.id
    assert services.get_assessment(make_user("auditor").actor(), row.id).id == row.id
    with pytest.raises(Forbidden):
        services.get_assessment(other.actor(), row.id)


def test_latest_levels_gives_each_enterprise_its_latest_assessment(ctx, enterprise_user):
    a, b, never = enterprise_user(), enterprise_user(), enterprise_user()
    services.take_assessment(a.actor(), answers_at(1))
    latest_a = services.take_assessment(a.actor(), answers_at(4))
    services.take_assessment(b.actor(), answers_at(2))
    got = queries.latest_levels([a.organisation_id, b.organisation_id, never.organisation_id])
    assert set(got) == {a.organisation_id, b.organisation_id}
    assert got[a.organisation_id]["assessment_id"] == latest_a.id
    assert got[a.organisation_id]["overall_level"] == 4
    assert got[b.organisation_id]["levels"] == {d: 2 for d in DIMENSIONS}
    assert queries.latest_levels([]) == {}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1) if "csrf_token" in html else ""


@pytest.mark.parametrize("lang, words", [("en", ("Choose an answer.", "Overall level", "Production equipment")),
                                         ("zh_Hans_CN", ("请选择一个答案。", "总体等级", "生产设备"))])
def test_the_pages_take_show_the_radar_and_refuse_a_half_filled_form(ctx, client, login, enterprise_user, lang, words):
    sme = enterprise_user()
    login(sme)
    client.post("/lang", data={"lang": lang})
    home = client.get("/").get_data(as_text=True)
    assert "/maturity/take" in home
    page = client.get("/maturity/take")
    assert page.status_code == 200
    partial = answers_at(3)
    del partial["e2"]
    refused = client.post("/maturity/take", data=partial)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert words[0] in html and 'data-error="e2"' in html and 'value="3" checked' in html
    first = client.post("/maturity/take", data=answers_at(2))
    assert first.status_code == 303
    second = client.post("/maturity/take", data=answers_at(3))
    result = client.get(second.location).get_data(as_text=True)
    assert "<svg" in result and result.count("data-series=") == 2  # first and latest side by side
    assert words[1] in result and words[2] in result
    assert 'data-overall-level="3"' in result
    assert "/maturity/take" not in client.get("/").get_data(as_text=True)  # the card now shows the level


def test_the_officer_publishes_a_version_from_the_page(ctx, client, login, make_user):
    officer = make_user("officer")
    login(officer)
    page = client.get("/maturity/questionnaire")
    assert page.status_code == 200
    bad = client.post("/maturity/questionnaire", data={"content": "{not json", "note": ""})
    assert bad.status_code == 422 and "不是有效的 JSON" in bad.get_data(as_text=True)
    content = copy.deepcopy(DEFAULT_CONTENT)
    content["dimensions"][5]["questions"][0]["text"]["en"] = "How, and how often, is data backed up?"
    ok = client.post("/maturity/questionnaire", data={"content": json.dumps(content), "note": "Clearer backup question"})
    assert ok.status_code == 303
    assert services.current_questionnaire().version == 2
    auditor = make_user("auditor")
    login(auditor)
    assert client.get("/maturity/questionnaire").status_code == 200
    assert client.post("/maturity/questionnaire", data={"content": json.dumps(content)}).status_code == 403


def test_an_sme_user_without_an_enterprise_is_told_to_register_first(ctx, client, login):
    user = fresh_user("sme")
    login(user)
    response = client.get("/maturity/take")
    assert response.status_code == 403 and "请先登记企业信息" in response.get_data(as_text=True)
