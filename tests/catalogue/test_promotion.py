"""Promotion to the recommendation catalogue: at least N passed evaluations with mean >= the
remarkable score (programme parameters, defaults 3 and 85)."""
from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest

from voucher.catalogue import queries, services
from voucher.catalogue.models import Solution
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.programmes.models import Programme

D = Decimal


@pytest.fixture()
def listed(make_org, make_solution):
    return make_solution(make_org("provider"), status="listed")


def _scores(monkeypatch, scores):
    monkeypatch.setattr(queries, "passed_evaluation_scores", lambda _id: [D(s) for s in scores])


def test_three_passed_evaluations_of_90_make_it_eligible(ctx, make_user, listed, monkeypatch):
    _scores(monkeypatch, ["90", "90", "90"])
    services.promote_to_recommended(make_user("officer").actor(), listed.id)
    assert listed.status == "recommended"


def test_two_passed_evaluations_are_not_enough_and_the_message_states_the_figures(ctx, make_user, listed,
                                                                                  monkeypatch):
    _scores(monkeypatch, ["90", "90"])
    with pytest.raises(ValidationFailed) as err:
        services.promote_to_recommended(make_user("officer").actor(), listed.id)
    assert listed.status == "listed"
    assert err.value.render() == ("Not eligible for recommendation: 2 passed effect evaluations with a mean score "
                                  "of 90.0; at least 3 passed evaluations with a mean of at least 85 are needed.")


def test_mean_of_84_9_is_refused_with_the_figures(ctx, make_user, listed, monkeypatch):
    _scores(monkeypatch, ["85.0", "84.9", "84.8"])  # mean 84.9
    with pytest.raises(ValidationFailed) as err:
        services.promote_to_recommended(make_user("officer").actor(), listed.id)
    assert listed.status == "listed"
    message = err.value.render()
    assert "3 passed effect evaluations with a mean score of 84.9" in message
    assert "at least 3 passed evaluations with a mean of at least 85" in message


def test_mean_of_exactly_85_0_is_eligible(ctx, make_user, listed, monkeypatch):
    _scores(monkeypatch, ["85.0", "85.0", "85.0"])
    services.promote_to_recommended(make_user("officer").actor(), listed.id)
    assert listed.status == "recommended"


def test_no_evaluations_at_all_is_refused(ctx, make_user, listed):
    with pytest.raises(ValidationFailed) as err:
        services.promote_to_recommended(make_user("officer").actor(), listed.id)  # the placeholder: []
    assert "0 passed effect evaluations" in err.value.render()


def test_stats_provider_argument_is_used_instead_of_the_query(ctx, make_user, listed, monkeypatch):
    _scores(monkeypatch, [])
    services.promote_to_recommended(make_user("officer").actor(), listed.id,
                                    stats_provider=lambda _id: [D("95"), D("88"), D("90")])
    assert listed.status == "recommended"


def _programme(**params):
    programme = Programme(name="2027 pilot", year=2027, budget=D("50000000.00"), opens_on=date(2027, 1, 1),
                          closes_on=date(2027, 12, 31), pilot_industries=[], **params)
    db.session.add(programme)
    db.session.flush()
    from voucher.programmes.rule_versions import ensure_first_version
    ensure_first_version(programme)  # version 1, as create_programme makes it
    db.session.flush()
    return programme


def test_the_programme_parameters_set_the_thresholds(ctx, make_user, listed, monkeypatch):
    _programme(recommend_min_evaluations=4, remarkable_score=D("80"))
    _scores(monkeypatch, ["82", "82", "82"])
    with pytest.raises(ValidationFailed) as err:
        services.promote_to_recommended(make_user("officer").actor(), listed.id)
    assert "at least 4 passed evaluations with a mean of at least 80" in err.value.render()
    _scores(monkeypatch, ["82", "82", "82", "82"])
    services.promote_to_recommended(make_user("officer").actor(), listed.id)
    assert listed.status == "recommended"


def test_refused_promotion_over_http_is_422_with_the_figures(client, login, make_user, listed, monkeypatch):
    _scores(monkeypatch, ["90", "90"])
    login(make_user("officer"))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(f"/catalogue/solutions/{listed.id}/recommend")
    assert response.status_code == 422
    assert "2 passed effect evaluations with a mean score of 90.0" in html.unescape(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Solution, listed.id).status == "listed"


def test_officer_page_shows_the_promote_button_only_when_eligible(client, login, make_user, listed, monkeypatch):
    officer = make_user("officer")
    login(officer)
    _scores(monkeypatch, ["90", "90"])
    page = client.get(f"/catalogue/solutions/{listed.id}").get_data(as_text=True)
    assert f"/catalogue/solutions/{listed.id}/recommend" not in page
    _scores(monkeypatch, ["90", "90", "90"])
    page = client.get(f"/catalogue/solutions/{listed.id}").get_data(as_text=True)
    assert f"/catalogue/solutions/{listed.id}/recommend" in page


def test_promotion_is_audited_with_the_figures(ctx, make_user, listed, monkeypatch):
    from sqlalchemy import select

    from voucher.audit.models import AuditEvent

    _scores(monkeypatch, ["90", "88", "92"])
    services.promote_to_recommended(make_user("officer").actor(), listed.id)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "solution.recommend")).one()
    assert event.after["passed_evaluations"] == 3 and event.after["mean_score"] == "90.0"
