"""Keyset pages of the long lists (issue 15 §2): the officer's trial queue, the SME's applications,
the subsidy review queue and the SME's subsidy lists, the public catalogue and their API lists.
Walking every page by cursor while a row is added between requests sees each row exactly once;
an altered cursor is a 400 with a message, never a 500."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.api.conftest import Api, token_for
from tests.applications.conftest import build_solution, content, token
from tests.factories import attach_required_materials
from voucher.applications import queries, services
from voucher.catalogue import queries as catalogue_queries
from voucher.extensions import db
from voucher.pagination import CursorError


def _file(make_org, make_user, programme, solution, amount="10000.00"):
    user = make_user("sme", make_org("enterprise"))
    app, _created = services.create_application(user.actor(), token=token(), programme_id=programme.id,
                                                solution_id=solution.id, content=content(amount))
    attach_required_materials(app)
    services.submit(user.actor(), app.id)
    return app


def _walk(fetch, add):
    """Every id of every page, following next_cursor; ``add()`` runs between requests."""
    seen, cursor = [], None
    while True:
        page = fetch(cursor)
        seen += [item.id for item in page.items]
        add()
        if not page.has_next:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", ["submitted_desc", "submitted_asc", "amount_desc", "amount_asc"])
def test_review_queue_walk_sees_every_row_once_while_rows_arrive(ctx, make_org, make_user, programme, solution,
                                                                   sort):
    original = [_file(make_org, make_user, programme, solution, f"{10000 + 7 * i}.00").id for i in range(7)]
    filters = queries.QueueFilters(status="submitted", sort=sort)
    seen = _walk(lambda c: queries.review_page(filters, 1, 3, c),
                 lambda: _file(make_org, make_user, programme, solution, "10003.00"))
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in original] and sorted(i for i in seen if i in original) == sorted(original)
    if sort == "submitted_desc":
        assert seen == sorted(original, reverse=True)  # the newcomers sort before the cursor


def test_review_queue_previous_page_and_filters(ctx, make_org, make_user, programme, solution, provider_org):
    other = build_solution(provider_org)
    mine = [_file(make_org, make_user, programme, solution).id for _ in range(5)]
    _file(make_org, make_user, programme, other)
    filters = queries.QueueFilters(status="submitted", solution_id=solution.id)
    first = queries.review_page(filters, 1, 2)
    assert first.total == 5 and not first.has_prev
    second = queries.review_page(filters, 1, 2, first.next_cursor)
    back = queries.review_page(filters, 1, 2, second.prev_cursor)
    assert [a.id for a in back.items] == [a.id for a in first.items]
    rest = queries.review_page(filters, 1, 2, second.next_cursor)
    assert sorted(a.id for a in first.items + second.items + rest.items) == sorted(mine)


def test_my_applications_walk(ctx, make_org, make_user, programme, solution):
    user = make_user("sme", make_org("enterprise"))

    def add():
        services.create_application(user.actor(), token=token(), programme_id=programme.id,
                                    solution_id=solution.id, content=content("1000.00"))
    for _ in range(5):
        add()
    original = [a.id for a in queries.my_page(user.organisation_id, 1, 100).items]
    seen = _walk(lambda c: queries.my_page(user.organisation_id, 1, 2, cursor=c), add)
    assert seen == original and len(original) == 5


@pytest.mark.parametrize("sort", ["recommended", "newest", "price_asc", "price_desc"])
def test_public_catalogue_walk(ctx, provider_org, sort):
    original = [build_solution(provider_org, trial_price=f"{1000 + i}.00",
                               status="recommended" if i % 3 == 0 else "listed").id for i in range(7)]
    seen = _walk(lambda c: catalogue_queries.public_page(sort=sort, per_page=3, cursor=c),
                 lambda: build_solution(provider_org, trial_price="1002.50"))
    assert len(seen) == len(set(seen)) and set(original) <= set(seen)


def _robot(programme, enterprise_id, status="submitted", submitted_at=None):
    from voucher.subsidies.models import RobotApplication

    app = RobotApplication(programme_id=programme.id, enterprise_id=enterprise_id, industry="pumps_valves",
                           already_granted=Decimal(0), uncapped_total=Decimal(1), computed_subsidy=Decimal(1),
                           status=status, submitted_at=submitted_at)
    db.session.add(app)
    db.session.flush()
    return app


@pytest.mark.parametrize("status", [None, "submitted"])
def test_subsidy_review_queue_walk_with_ties_and_never_submitted_rows(ctx, make_org, programme, status):
    from datetime import datetime, timezone

    from voucher.subsidies import queries as subsidy_queries

    org = make_org("enterprise")
    same = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    original = [_robot(programme, org.id, submitted_at=same).id for _ in range(3)]
    original += [_robot(programme, org.id, submitted_at=datetime(2026, 3, d, tzinfo=timezone.utc)).id for d in (1, 5)]
    withdrawn = [_robot(programme, org.id, status="withdrawn").id for _ in range(3)]  # never submitted: listed last
    expected = original + (withdrawn if status is None else [])
    seen = _walk(lambda c: subsidy_queries.review_page(None, status, None, 1, 2, c),
                 lambda: _robot(programme, org.id, submitted_at=datetime(2026, 3, 9, tzinfo=timezone.utc)))
    assert len(seen) == len(set(seen)) and sorted(seen) == sorted(expected)
    if status is None:
        assert seen[-3:] == sorted(withdrawn, reverse=True)
    # the same order as the OFFSET pages, and Previous gives the page back
    by_offset = subsidy_queries.review_page(None, status, None, 1, 100, seek=False).items
    walked = [r.id for r in by_offset if r.id in expected]
    assert walked == seen
    first = subsidy_queries.review_page(None, status, None, 1, 2)
    second = subsidy_queries.review_page(None, status, None, 1, 2, first.next_cursor)
    third = subsidy_queries.review_page(None, status, None, 1, 2, second.next_cursor)
    back = subsidy_queries.review_page(None, status, None, 1, 2, third.prev_cursor)
    assert [r.id for r in back.items] == [r.id for r in second.items]
    # Each kind is read as two halves (submitted, never submitted): Previous from a page that starts
    # among the never-submitted rows goes back across the boundary to the submitted ones.
    pages = [first]
    while pages[-1].next_cursor:
        pages.append(subsidy_queries.review_page(None, status, None, 1, 2, pages[-1].next_cursor))
    for earlier, later in zip(pages, pages[1:]):
        again = subsidy_queries.review_page(None, status, None, 1, 2, later.prev_cursor)
        assert [r.id for r in again.items] == [r.id for r in earlier.items]
    if status is None:
        assert any(p.items[0].submitted_at is None for p in pages[1:]) or len(pages) == 1


def test_sme_subsidy_list_walk(ctx, make_org, programme):
    from voucher.subsidies import queries as subsidy_queries

    org = make_org("enterprise")
    original = [_robot(programme, org.id, status="draft").id for _ in range(5)]
    seen = _walk(lambda c: subsidy_queries.enterprise_robots(org.id, 1, 2, c),
                 lambda: _robot(programme, org.id, status="draft"))
    assert seen == sorted(original, reverse=True)


def test_tampered_cursor_is_refused(ctx, make_org, make_user, programme, solution):
    for _ in range(3):
        _file(make_org, make_user, programme, solution)
    filters = queries.QueueFilters(status="submitted")
    cursor = queries.review_page(filters, 1, 2).next_cursor
    for bad in (cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"), "garbage",
                queries.my_page(1, 1, 1).next_cursor or "x.y"):
        with pytest.raises(CursorError):
            queries.review_page(filters, 1, 2, bad)
    # another sort's cursor names another list
    with pytest.raises(CursorError):
        queries.review_page(queries.QueueFilters(status="submitted", sort="amount_asc"), 1, 2, cursor)


@pytest.mark.parametrize("path", ["/applications/review", "/subsidies/review", "/catalogue/", "/applications/mine"])
def test_tampered_cursor_on_a_page_is_a_400(client, login, make_user, make_org, path):
    role = "sme" if path.endswith("mine") else "officer"
    user = make_user(role, make_org("enterprise") if role == "sme" else None)
    login(user)
    response = client.get(path, query_string={"cursor": "eyJ4IjoxfQ.bad"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/trial-applications", "/loan-applications", "/robot-applications",
                                  "/catalogue/solutions"])
def test_api_lists_walk_by_cursor_and_refuse_a_tampered_one(client, make_user, make_org, programme, solution, path):
    officer = make_user("officer")
    for _ in range(5):
        _file(make_org, make_user, programme, solution)
        build_solution(solution.provider)
    db.session.commit()
    api = Api(client, token_for(officer))
    body = api.get(path, query_string={"per_page": 2}).get_json()
    seen = [i["id"] for i in body["items"]]
    while body["pagination"]["next_cursor"]:
        assert body["pagination"]["next"].startswith("http") and "cursor=" in body["pagination"]["next"]
        _file(make_org, make_user, programme, solution)
        build_solution(solution.provider)
        db.session.commit()
        response = api.get(path, query_string={"per_page": 2, "cursor": body["pagination"]["next_cursor"]})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        seen += [i["id"] for i in body["items"]]
    assert len(seen) == len(set(seen))
    assert api.get(path, query_string={"cursor": "eyJ4IjoxfQ.bad"}).status_code == 400


def test_amounts_in_a_cursor_keep_their_decimals(app):
    from voucher.pagination import decode_cursor, encode_cursor

    with app.test_request_context():
        _d, values = decode_cursor("x", encode_cursor("x", "next", [Decimal("10003.07"), 5]), 2)
    assert values == [Decimal("10003.07"), 5]
