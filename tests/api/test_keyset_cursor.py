"""The API token list pages by cursor too: ``pagination.next_cursor`` walks it while tokens are
added (no duplicates, no gaps), ``?page=`` keeps working, an altered cursor is 400 ``bad_cursor``."""
from __future__ import annotations

from tests.api.conftest import Api, assert_error, token_for
from voucher.auth import tokens
from voucher.extensions import db


def test_cursor_walks_the_list_while_tokens_are_added(client, make_user):
    user = make_user("officer")
    api = Api(client, token_for(user))
    for _ in range(11):
        tokens.issue_token(user)
    db.session.commit()
    first = api.get("/auth/tokens?per_page=5").get_json()
    assert first["pagination"]["page"] == 1 and first["pagination"]["total"] == 12
    assert first["pagination"]["next_cursor"] and first["pagination"]["prev_cursor"] is None
    seen, body = [i["id"] for i in first["items"]], first
    while body["pagination"]["next_cursor"]:
        tokens.issue_token(user)  # a newer token arrives between requests
        db.session.commit()
        response = api.get("/auth/tokens", query_string={"per_page": 5, "cursor": body["pagination"]["next_cursor"]})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        seen += [i["id"] for i in body["items"]]
    assert len(seen) == len(set(seen)) == 12


def test_page_numbers_still_work_and_give_a_cursor(client, make_user):
    user = make_user("officer")
    api = Api(client, token_for(user))
    for _ in range(6):
        tokens.issue_token(user)
    db.session.commit()
    by_page = api.get("/auth/tokens?per_page=3&page=2").get_json()
    assert by_page["pagination"]["page"] == 2 and len(by_page["items"]) == 3
    first = api.get("/auth/tokens?per_page=3").get_json()
    by_cursor = api.get("/auth/tokens", query_string={"per_page": 3,
                                                      "cursor": first["pagination"]["next_cursor"]}).get_json()
    assert [i["id"] for i in by_cursor["items"]] == [i["id"] for i in by_page["items"]]
    after = api.get("/auth/tokens", query_string={"per_page": 3,
                                                  "cursor": by_page["pagination"]["next_cursor"]}).get_json()
    assert len(after["items"]) == 1


def test_filters_combine_with_the_cursor(client, make_user):
    admin = make_user("admin")
    other = make_user("officer")
    for _ in range(4):
        tokens.issue_token(other)
        tokens.issue_token(admin)
    db.session.commit()
    api = Api(client, token_for(admin))
    first = api.get("/auth/tokens", query_string={"per_page": 3, "user_id": other.id}).get_json()
    rest = api.get("/auth/tokens", query_string={"per_page": 3, "user_id": other.id,
                                                 "cursor": first["pagination"]["next_cursor"]}).get_json()
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 4 and not rest["pagination"]["next_cursor"]


def test_an_altered_cursor_is_a_400_naming_it(client, make_user):
    user = make_user("officer")
    api = Api(client, token_for(user))
    error = assert_error(api.get("/auth/tokens?cursor=abc.def", headers={"Accept-Language": "en"}), 400, "cursor",
                         code="bad_cursor")
    assert "cursor" in error["message"] and "first page" in error["message"]
    assert_error(api.get("/auth/tokens", query_string={"cursor": "x" * 1001}), 422, "cursor")
