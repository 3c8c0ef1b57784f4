"""The provider's pages: own solutions only, the draft form and its validation, edit only in draft."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from voucher.audit.models import AuditEvent
from voucher.catalogue.models import Solution, SolutionIndustry
from voucher.extensions import db

GOOD = {"title": "Smart warehouse WMS", "category": "warehousing", "target_industries": ["pumps_valves", "auto_parts"],
        "description": "Barcode-driven stock control with AGV integration.", "list_price": "300,000.00",
        "trial_price": "120000", "trial_period_days": "90"}


def _count():
    return db.session.scalar(select(func.count()).select_from(Solution))


def test_provider_creates_a_draft_with_every_field(client, login, provider_user):
    login(provider_user)
    assert client.get("/catalogue/mine/new").status_code == 200
    response = client.post("/catalogue/mine/new", data=GOOD)
    assert response.status_code == 302
    solution = db.session.scalars(select(Solution).where(Solution.title == "Smart warehouse WMS")).one()
    assert solution.provider_id == provider_user.organisation_id
    assert solution.status == "draft"
    assert solution.category == "warehousing"
    assert solution.target_industries == ["pumps_valves", "auto_parts"]
    assert solution.list_price == Decimal("300000.00") and solution.trial_price == Decimal("120000.00")
    assert solution.trial_period_days == 90
    rows = db.session.scalars(select(SolutionIndustry.industry).where(SolutionIndustry.solution_id == solution.id))
    assert sorted(rows) == ["auto_parts", "pumps_valves"]
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(solution.id),
                                                              AuditEvent.object_type == "solution")).all() \
        == ["solution.create"]


@pytest.mark.parametrize("field,value,message", [
    ("list_price", "-5", "Must be at least ¥0.00."),
    ("trial_price", "-5", "Must be more than ¥0.00."),
    ("trial_price", "0", "Must be more than ¥0.00."),
    ("trial_price", "300000.01", "The trial price (¥300,000.01) must not exceed the list price (¥300,000.00)."),
    ("trial_period_days", "0", "Must be at least 1."),
    ("trial_period_days", "2.5", "Enter a whole number."),
    ("list_price", "three hundred", "Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals)."),
    ("trial_price", "abc", "Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals)."),
    ("trial_price", "1e5", "Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals)."),
    ("list_price", "1e5", "Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals)."),
    ("trial_price", "100.005", "Enter an amount in yuan such as 150000 or 150000.50 (at most two decimals)."),
    ("title", "   ", "Enter a title."),
    ("category", "", "Choose a category from the list."),
    ("category", "teleportation", "Choose a category from the list."),
    ("target_industries", [], "Choose at least one target industry."),
    ("description", "", "Describe the solution."),
])
def test_bad_input_gives_a_field_message_422_and_saves_nothing(client, login, provider_user, field, value, message):
    login(provider_user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    before = _count()
    response = client.post("/catalogue/mine/new", data={**GOOD, field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-err"' in page or f'id="{field}-err">' in page
    import html
    assert message in html.unescape(page)
    assert _count() == before


def test_bad_edit_of_a_draft_changes_nothing(client, login, provider_user, own_solution):
    login(provider_user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(f"/catalogue/mine/{own_solution.id}/edit",
                           data={**GOOD, "trial_price": "999999", "list_price": "1000"})
    assert response.status_code == 422
    assert "must not exceed the list price" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Solution, own_solution.id).trial_price == Decimal("50000.00")


def test_provider_edits_its_draft_and_the_change_is_audited(client, login, provider_user, own_solution):
    login(provider_user)
    assert client.get(f"/catalogue/mine/{own_solution.id}/edit").status_code == 200
    response = client.post(f"/catalogue/mine/{own_solution.id}/edit",
                           data={**GOOD, "target_industries": ["clothing"]})
    assert response.status_code == 302
    db.session.expire_all()
    solution = db.session.get(Solution, own_solution.id)
    assert solution.title == "Smart warehouse WMS" and solution.target_industries == ["clothing"]
    assert [r.industry for r in solution.industries] == ["clothing"]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "solution.update",
                                                        AuditEvent.object_id == str(solution.id))).one()
    assert event.before["trial_price"] == "50000.00" and event.after["trial_price"] == "120000.00"


@pytest.mark.parametrize("status", ["submitted", "screening", "listed", "rejected", "recommended", "delisted"])
def test_provider_edits_only_in_draft(client, login, provider_user, make_solution, status):
    solution = make_solution(provider_user.organisation, status=status, title="Original")
    login(provider_user)
    page = client.get(f"/catalogue/mine/{solution.id}/edit")
    assert page.status_code == 302  # to the solution page, with an explanation
    response = client.post(f"/catalogue/mine/{solution.id}/edit", data=GOOD)
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Solution, solution.id).title == "Original"


def test_provider_list_shows_only_its_own_solutions(client, login, provider_user, make_solution, make_org):
    mine = make_solution(provider_user.organisation, title="Mine alpha")
    theirs = make_solution(make_org("provider"), title="Theirs beta")
    login(provider_user)
    page = client.get("/catalogue/mine").get_data(as_text=True)
    assert "Mine alpha" in page
    assert "Theirs beta" not in page
    # nor by searching for it
    page = client.get("/catalogue/mine?q=Theirs").get_data(as_text=True)
    assert "Theirs beta" not in page
    assert f"/catalogue/solutions/{theirs.id}" not in page
    assert mine.id


def test_provider_cannot_open_or_edit_another_providers_draft(client, login, provider_user, make_solution, make_org):
    theirs = make_solution(make_org("provider"), title="Theirs")
    login(provider_user)
    assert client.get(f"/catalogue/mine/{theirs.id}/edit").status_code == 403
    assert client.post(f"/catalogue/mine/{theirs.id}/edit", data=GOOD).status_code == 403
    assert client.get(f"/catalogue/solutions/{theirs.id}").status_code == 403
    db.session.expire_all()
    assert db.session.get(Solution, theirs.id).title == "Theirs"


def test_provider_list_search_status_filter_and_pagination(client, login, provider_user, make_solution):
    for i in range(23):
        make_solution(provider_user.organisation, title=f"Item {i:02d}", age_minutes=100 - i)
    make_solution(provider_user.organisation, title="Special listed", status="listed")
    login(provider_user)
    page1 = client.get("/catalogue/mine").get_data(as_text=True)
    assert page1.count("/edit") == 20 - 1  # 20 rows on the page; the listed one (newest) has no edit link
    page2 = client.get("/catalogue/mine?page=2").get_data(as_text=True)
    assert "Item 00" in page2 and "Item 00" not in page1
    found = client.get("/catalogue/mine?q=Special").get_data(as_text=True)
    assert "Special listed" in found and "Item 05" not in found
    listed = client.get("/catalogue/mine?status=listed").get_data(as_text=True)
    assert "Special listed" in listed and "Item 05" not in listed


def test_submit_button_asks_for_confirmation(client, login, provider_user, own_solution):
    login(provider_user)
    page = client.get(f"/catalogue/solutions/{own_solution.id}").get_data(as_text=True)
    assert f'action="/catalogue/mine/{own_solution.id}/submit"' in page
    assert "data-confirm=" in page.split(f'action="/catalogue/mine/{own_solution.id}/submit"')[1].split(">")[0]


def test_submitting_notifies_evaluators_with_a_working_link(app, client, login, provider_user, own_solution,
                                                            make_user):
    from tests.factories import do_login
    from voucher.notifications.models import Notification

    evaluator = make_user("evaluator")
    login(provider_user)
    assert client.post(f"/catalogue/mine/{own_solution.id}/submit").status_code == 302
    note = db.session.scalars(select(Notification).where(Notification.user_id == evaluator.id)).one()
    assert note.link == f"/catalogue/screening/{own_solution.id}"
    evaluator_client = app.test_client()
    assert do_login(evaluator_client, evaluator).status_code == 302
    assert evaluator_client.get(note.link).status_code == 200
    db.session.expire_all()
    assert db.session.get(Solution, own_solution.id).submitted_at is not None
